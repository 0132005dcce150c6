// Starting and stopping a task's checks; their status updates.
#include "executor/task_checks.hpp"

#include <spdlog/spdlog.h>

namespace mezzo::executor {

void TaskChecks::start(boost::asio::io_context& io, ChildWatcher& children, const v1::TaskInfo& task,
                       const std::string& workingDirectory, Handlers handlers) {
  const std::string& id = task.task_id().value();
  if (task.has_health_check()) {
    auto checker =
        HealthChecker::start(io, children, task.health_check(), id, workingDirectory, std::move(handlers.onHealth));
    if (checker) {
      health_ = std::move(*checker);
    } else {
      spdlog::error("Not health checking task {}: {}", id, checker.error());
    }
  }
  if (task.has_check()) {
    auto checker = TaskChecker::start(io, children, task.check(), id, workingDirectory, std::move(handlers.onCheck));
    if (checker) {
      check_ = std::move(*checker);
    } else {
      spdlog::error("Not checking task {}: {}", id, checker.error());
    }
  }
}

void TaskChecks::stop() {
  if (health_) health_->stop();
  if (check_) check_->stop();
}

void addEmptyCheckStatus(const v1::TaskInfo& task, v1::TaskStatus& status) {
  if (task.has_check() && !status.has_check_status()) *status.mutable_check_status() = emptyCheckStatus(task.check());
}

v1::TaskStatus healthUpdate(v1::TaskStatus last, bool healthy) {
  last.set_reason(v1::TaskStatus::REASON_TASK_HEALTH_CHECK_STATUS_UPDATED);
  last.set_healthy(healthy);
  return last;
}

v1::TaskStatus checkUpdate(v1::TaskStatus last, const v1::CheckStatusInfo& checkStatus) {
  last.set_reason(v1::TaskStatus::REASON_TASK_CHECK_STATUS_UPDATED);
  *last.mutable_check_status() = checkStatus;
  return last;
}

}  // namespace mezzo::executor
