// Judging a task's health check outcomes (see the header).
#include "executor/health_checker.hpp"

#include <spdlog/spdlog.h>

#include "mezzo/common/health_check.hpp"

namespace mezzo::executor {

v1::CheckInfo toCheckInfo(const v1::HealthCheck& check) {
  v1::CheckInfo info;
  info.set_delay_seconds(check.delay_seconds());
  info.set_interval_seconds(check.interval_seconds());
  info.set_timeout_seconds(check.timeout_seconds());
  switch (check.type()) {
    case v1::HealthCheck::COMMAND:
      info.set_type(v1::CheckInfo::COMMAND);
      *info.mutable_command()->mutable_command() = check.command();
      break;
    case v1::HealthCheck::HTTP:
      info.set_type(v1::CheckInfo::HTTP);
      info.mutable_http()->set_port(check.http().port());
      info.mutable_http()->set_path(check.http().path());
      break;
    case v1::HealthCheck::TCP:
      info.set_type(v1::CheckInfo::TCP);
      info.mutable_tcp()->set_port(check.tcp().port());
      break;
    default:
      info.set_type(v1::CheckInfo::UNKNOWN);
      break;
  }
  return info;
}

Status healthOf(const Result<v1::CheckStatusInfo>& outcome) {
  if (!outcome) return outcome.status();
  switch (outcome->type()) {
    case v1::CheckInfo::COMMAND:
      if (outcome->command().exit_code() != 0) {
        return Status::unavailable("Command exited with status " + std::to_string(outcome->command().exit_code()));
      }
      return Status::ok();
    case v1::CheckInfo::HTTP: {
      const uint32_t code = outcome->http().status_code();
      if (code < 200 || code >= 400)
        return Status::unavailable("Unexpected HTTP response code: " + std::to_string(code));
      return Status::ok();
    }
    case v1::CheckInfo::TCP:
      return outcome->tcp().succeeded() ? Status::ok() : Status::unavailable("TCP connection failed");
    default:
      return Status::ok();
  }
}

Result<std::unique_ptr<HealthChecker>> HealthChecker::start(boost::asio::io_context& io, ChildWatcher& children,
                                                            const v1::HealthCheck& check, const std::string& taskId,
                                                            const std::string& workingDirectory, OnUpdate onUpdate) {
  if (Status valid = validateHealthCheck(check); !valid) return valid;
  auto checker = std::make_unique<HealthChecker>(check, std::move(onUpdate));
  CheckRunner::Options options;
  options.check = toCheckInfo(check);
  options.protocol = check.type() == v1::HealthCheck::TCP ? check.tcp().protocol() : check.http().protocol();
  options.name = v1::HealthCheck::Type_Name(check.type()) + " health check of task " + taskId;
  options.workingDirectory = workingDirectory;
  HealthChecker* raw = checker.get();
  // The runner never calls back after stop(), which the checker's destructor calls.
  checker->runner_ = CheckRunner::start(io, children, std::move(options),
                                        [raw](const Result<v1::CheckStatusInfo>& outcome) { raw->judge(outcome); });
  return checker;
}

HealthChecker::HealthChecker(const v1::HealthCheck& check, OnUpdate onUpdate)
    : onUpdate_(std::move(onUpdate)),
      tracker_(checkSeconds(check.grace_period_seconds()), check.consecutive_failures(),
               std::chrono::steady_clock::now()) {}

HealthChecker::~HealthChecker() { stop(); }

void HealthChecker::stop() {
  if (runner_) runner_->stop();
}

void HealthChecker::judge(const Result<v1::CheckStatusInfo>& outcome) {
  const Status health = healthOf(outcome);
  std::optional<HealthTracker::Update> update;
  if (health) {
    update = tracker_.onSuccess();
  } else {
    update = tracker_.onFailure(std::chrono::steady_clock::now());
    if (!update) {
      spdlog::info("Ignoring a failed health check in the grace period: {}", health.message());
    } else {
      spdlog::warn("Health check failed {} times in a row: {}", update->consecutiveFailures, health.message());
    }
  }
  if (update) onUpdate_(*update);
}

}  // namespace mezzo::executor
