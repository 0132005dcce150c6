#include "cli/framework_session.hpp"

#include <signal.h>

namespace mezzo::cli {

FrameworkSession::FrameworkSession() : signals_(io_, SIGINT, SIGTERM), deadline_(io_), killGrace_(io_) {
  signals_.add(SIGHUP);
}

void FrameworkSession::onStopSignal(std::function<void(int signal)> handler) { signalHandler_ = std::move(handler); }

void FrameworkSession::armSignals() {
  signals_.async_wait([this](boost::system::error_code ec, int signal) {
    if (ec || finishing_) return;
    armSignals();
    if (signalHandler_) signalHandler_(signal);
  });
}

void FrameworkSession::setDeadline(Duration after, std::function<void()> expired) {
  deadline_.expires_after(after);
  deadline_.async_wait([this, expired = std::move(expired)](boost::system::error_code ec) {
    if (!ec && !finishing_) expired();
  });
}

void FrameworkSession::killAllWithin(Duration grace, std::function<void()> stillRunning) {
  framework_->killAll();
  killGrace_.expires_after(grace);
  killGrace_.async_wait([this, stillRunning = std::move(stillRunning)](boost::system::error_code ec) {
    if (!ec && !finishing_) stillRunning();
  });
}

bool FrameworkSession::beginEnding(int code) {
  if (finishing_) return false;
  finishing_ = true;
  exitCode_ = code;
  deadline_.cancel();
  killGrace_.cancel();
  return true;
}

void FrameworkSession::stopLoop() {
  signals_.cancel();
  io_.stop();
}

void FrameworkSession::finish(int code) {
  if (beginEnding(code)) framework_->teardown([this] { stopLoop(); });
}

void FrameworkSession::abandon(int code) {
  if (beginEnding(code)) stopLoop();
}

int FrameworkSession::run() {
  armSignals();
  // The handlers are installed: let the stop signals through (also one that
  // is pending).
  sigset_t stop;
  sigemptyset(&stop);
  for (int signal : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&stop, signal);
  pthread_sigmask(SIG_UNBLOCK, &stop, nullptr);
  framework_->start();
  io_.run();
  return exitCode_;
}

}  // namespace mezzo::cli
