// Scheduling task check probes and turning their answers into
// CheckStatusInfo (see the header).
#include "executor/check_runner.hpp"

#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/wait.h>

#include <algorithm>

#include "agent/process.hpp"
#include "executor/check_probes.hpp"

namespace mezzo::executor {

namespace {

constexpr double kMaxSeconds = 365.0 * 24 * 3600;

net::Endpoint loopback(v1::NetworkInfo::Protocol protocol, uint32_t port) {
  return net::Endpoint{protocol == v1::NetworkInfo::IPv6 ? "::1" : "127.0.0.1", static_cast<uint16_t>(port)};
}

v1::CheckStatusInfo statusOf(v1::CheckInfo::Type type) {
  v1::CheckStatusInfo status;
  status.set_type(type);
  return status;
}

}  // namespace

Duration checkSeconds(double seconds) { return secondsToDuration(std::clamp(seconds, 0.0, kMaxSeconds)); }

std::shared_ptr<CheckRunner> CheckRunner::start(boost::asio::io_context& io, ChildWatcher& children, Options options,
                                                OnResult onResult) {
  auto runner = std::make_shared<CheckRunner>(io, children, std::move(options), std::move(onResult));
  const v1::CheckInfo& check = runner->options_.check;
  spdlog::info("{} starts in {}s, every {}s", runner->options_.name, check.delay_seconds(), check.interval_seconds());
  runner->schedule(checkSeconds(check.delay_seconds()));
  return runner;
}

CheckRunner::CheckRunner(boost::asio::io_context& io, ChildWatcher& children, Options options, OnResult onResult)
    : io_(io), children_(children), options_(std::move(options)), onResult_(std::move(onResult)), timer_(io) {}

// The timer's own destructor cancels its wait.
CheckRunner::~CheckRunner() { killCommandProbe(); }

void CheckRunner::stop() {
  stopped_ = true;
  timer_.cancel();
  killCommandProbe();
}

void CheckRunner::killCommandProbe() noexcept {
  if (commandProbe_ > 0) ::killpg(commandProbe_, SIGKILL);
  commandProbe_ = -1;
}

void CheckRunner::schedule(Duration after) {
  timer_.expires_after(after);
  timer_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
    if (ec) return;
    if (auto self = weak.lock(); self && !self->stopped_) self->runProbe();
  });
}

void CheckRunner::runProbe() {
  const uint64_t round = ++round_;
  auto answer = [weak = weak_from_this(), round](const Result<v1::CheckStatusInfo>& outcome) {
    auto self = weak.lock();
    if (!self || self->stopped_ || self->round_ != round) return;
    self->probed(outcome);
  };
  const v1::CheckInfo& check = options_.check;
  const Duration timeout =
      check.timeout_seconds() > 0 ? checkSeconds(check.timeout_seconds()) : checkSeconds(kMaxSeconds);
  switch (check.type()) {
    case v1::CheckInfo::HTTP:
      return probeHttp(io_, loopback(options_.protocol, check.http().port()), check.http().path(), timeout,
                       [answer](Result<unsigned> code) {
                         if (!code) return answer(code.status());
                         v1::CheckStatusInfo status = statusOf(v1::CheckInfo::HTTP);
                         status.mutable_http()->set_status_code(*code);
                         answer(status);
                       });
    case v1::CheckInfo::TCP:
      return probeTcp(io_, loopback(options_.protocol, check.tcp().port()), timeout, [answer](const Status& connected) {
        // A refused connection is an answer (succeeded: false), not an error.
        v1::CheckStatusInfo status = statusOf(v1::CheckInfo::TCP);
        status.mutable_tcp()->set_succeeded(connected.isOk());
        if (!connected) spdlog::debug("{}", connected.message());
        answer(status);
      });
    case v1::CheckInfo::COMMAND:
      commandProbe_ =
          probeCommand(io_, children_, check.command().command(), options_.workingDirectory, timeout,
                       [answer](Result<int> waitStatus) {
                         if (!waitStatus) return answer(waitStatus.status());
                         if (!WIFEXITED(*waitStatus)) {
                           return answer(Status::unavailable("Command " + agent::describeWaitStatus(*waitStatus)));
                         }
                         v1::CheckStatusInfo status = statusOf(v1::CheckInfo::COMMAND);
                         status.mutable_command()->set_exit_code(WEXITSTATUS(*waitStatus));
                         answer(status);
                       });
      return;
    default:
      return;  // refused by validation
  }
}

void CheckRunner::probed(const Result<v1::CheckStatusInfo>& outcome) {
  auto self = shared_from_this();  // the owner may drop its reference from the callback
  commandProbe_ = -1;
  if (!outcome) spdlog::warn("{} failed: {}", options_.name, outcome.error());
  // Before the callback: the owner may stop the runner from it.
  schedule(checkSeconds(options_.check.interval_seconds()));
  onResult_(outcome);
}

}  // namespace mezzo::executor
