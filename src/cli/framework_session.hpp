// FrameworkSession: what `mezzo run` and `mezzo local --run-sample` share
// around a CommandFramework: the io_context, the stop signals (SIGINT,
// SIGTERM, SIGHUP), one deadline, the kill-then-give-up sequence and the one
// way out (tear the framework down, then stop the loop with an exit code).
//
// Thread-safety: everything runs on the thread that calls run().
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <memory>

#include "cli/command_framework.hpp"

namespace mezzo::cli {

class FrameworkSession {
 public:
  FrameworkSession();

  boost::asio::io_context& io() { return io_; }
  void setFramework(std::unique_ptr<CommandFramework> framework) { framework_ = std::move(framework); }
  CommandFramework& framework() { return *framework_; }

  // `handler(signal)` runs for every stop signal received until finish().
  void onStopSignal(std::function<void(int signal)> handler);
  // `expired` runs once, `after` from now, unless the session ends first.
  void setDeadline(Duration after, std::function<void()> expired);
  // Kills every task; `stillRunning` runs if they have not all ended within
  // `grace` (a terminal update for each ends the wait through onDone).
  void killAllWithin(Duration grace, std::function<void()> stillRunning);
  // Tears the framework down (bounded), then run() returns `code`. Only the
  // first call of finish() or abandon() counts.
  void finish(int code);
  // run() returns `code` at once, without a word to the master (it is gone).
  void abandon(int code);
  bool finishing() const { return finishing_; }

  // Lets the stop signals through (the caller may have blocked them),
  // starts the framework and runs until finish(); returns the exit code.
  int run();

 private:
  void armSignals();
  // Records the exit code and cancels the timers; false if already ending.
  bool beginEnding(int code);
  void stopLoop();

  boost::asio::io_context io_;
  boost::asio::signal_set signals_;
  boost::asio::steady_timer deadline_;
  boost::asio::steady_timer killGrace_;
  std::function<void(int)> signalHandler_;
  std::unique_ptr<CommandFramework> framework_;
  int exitCode_ = 1;
  bool finishing_ = false;
};

}  // namespace mezzo::cli
