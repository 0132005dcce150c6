// Scheduling and judging a task's health checks (see the header).
#include "executor/health_checker.hpp"

#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/wait.h>

#include <algorithm>

#include "agent/process.hpp"
#include "executor/check_probes.hpp"
#include "mezzo/common/health_check.hpp"

namespace mezzo::executor {

namespace {

// Longest delay, interval or timeout honoured: keeps timers far from overflow.
constexpr double kMaxSeconds = 365.0 * 24 * 3600;

Duration boundedSeconds(double seconds) { return secondsToDuration(std::clamp(seconds, 0.0, kMaxSeconds)); }

net::Endpoint loopback(v1::NetworkInfo::Protocol protocol, uint32_t port) {
  return net::Endpoint{protocol == v1::NetworkInfo::IPv6 ? "::1" : "127.0.0.1", static_cast<uint16_t>(port)};
}

}  // namespace

Result<std::shared_ptr<HealthChecker>> HealthChecker::start(boost::asio::io_context& io, ChildWatcher& children,
                                                            const v1::HealthCheck& check, const std::string& taskId,
                                                            const std::string& workingDirectory, OnUpdate onUpdate) {
  if (Status valid = validateHealthCheck(check); !valid) return valid;
  auto checker = std::make_shared<HealthChecker>(io, children, check, taskId, workingDirectory, std::move(onUpdate));
  spdlog::info("{} health check of task {} starts in {}s, every {}s", v1::HealthCheck::Type_Name(check.type()),
               taskId, check.delay_seconds(), check.interval_seconds());
  checker->schedule(boundedSeconds(check.delay_seconds()));
  return checker;
}

HealthChecker::HealthChecker(boost::asio::io_context& io, ChildWatcher& children, const v1::HealthCheck& check,
                             std::string taskId, std::string workingDirectory, OnUpdate onUpdate)
    : io_(io), children_(children), check_(check), taskId_(std::move(taskId)),
      workingDirectory_(std::move(workingDirectory)), onUpdate_(std::move(onUpdate)),
      tracker_(boundedSeconds(check.grace_period_seconds()), check.consecutive_failures(),
               std::chrono::steady_clock::now()),
      timer_(io) {}

HealthChecker::~HealthChecker() { stop(); }

void HealthChecker::stop() {
  stopped_ = true;
  timer_.cancel();
  if (commandProbe_ > 0) ::killpg(commandProbe_, SIGKILL);
  commandProbe_ = -1;
}

void HealthChecker::schedule(Duration after) {
  timer_.expires_after(after);
  timer_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
    if (ec) return;
    if (auto self = weak.lock(); self && !self->stopped_) self->runCheck();
  });
}

void HealthChecker::runCheck() {
  const uint64_t round = ++round_;
  auto answer = [weak = weak_from_this(), round](Status outcome) {
    auto self = weak.lock();
    if (!self || self->stopped_ || self->round_ != round) return;
    self->checked(std::move(outcome));
  };
  const Duration timeout =
      check_.timeout_seconds() > 0 ? boundedSeconds(check_.timeout_seconds()) : boundedSeconds(kMaxSeconds);
  switch (check_.type()) {
    case v1::HealthCheck::HTTP:
      return probeHttp(io_, loopback(check_.http().protocol(), check_.http().port()), check_.http().path(), timeout,
                       [answer](Result<unsigned> code) {
                         if (!code) return answer(code.status());
                         if (*code < 200 || *code >= 400) {
                           return answer(Status::unavailable("Unexpected HTTP response code: " + std::to_string(*code)));
                         }
                         answer(Status::ok());
                       });
    case v1::HealthCheck::TCP:
      return probeTcp(io_, loopback(check_.tcp().protocol(), check_.tcp().port()), timeout, answer);
    case v1::HealthCheck::COMMAND:
      commandProbe_ = probeCommand(io_, children_, check_.command(), workingDirectory_, timeout,
                                   [answer](Result<int> waitStatus) {
                                     if (!waitStatus) return answer(waitStatus.status());
                                     if (!WIFEXITED(*waitStatus) || WEXITSTATUS(*waitStatus) != 0) {
                                       return answer(Status::unavailable("Command " +
                                                                         agent::describeWaitStatus(*waitStatus)));
                                     }
                                     answer(Status::ok());
                                   });
      return;
    default:
      return;  // refused by start()
  }
}

void HealthChecker::checked(Status outcome) {
  auto self = shared_from_this();  // onUpdate may drop the owner's reference
  commandProbe_ = -1;
  std::optional<HealthTracker::Update> update;
  if (outcome) {
    update = tracker_.onSuccess();
  } else {
    update = tracker_.onFailure(std::chrono::steady_clock::now());
    spdlog::warn("{} health check of task {} failed{}: {}", v1::HealthCheck::Type_Name(check_.type()), taskId_,
                 update ? "" : " (ignored: grace period)", outcome.message());
  }
  // Before the update: the owner may stop the checker from onUpdate.
  schedule(boundedSeconds(check_.interval_seconds()));
  if (update) onUpdate_(*update);
}

}  // namespace mezzo::executor
