// TaskChecks: everything an executor checks about one task, its
// health_check (HealthChecker) and its general check (TaskChecker), plus
// the status updates Mesos's executors send for them. The command and the
// default executor each keep one per task.
//
// Thread-safety: everything runs on the io_context thread of the executor.
#pragma once

#include <boost/asio/io_context.hpp>
#include <memory>
#include <string>

#include "executor/child_watcher.hpp"
#include "executor/health_checker.hpp"
#include "executor/task_checker.hpp"
#include "mezzo/v1/mesos.pb.h"

namespace mezzo::executor {

class TaskChecks {
 public:
  struct Handlers {
    HealthChecker::OnUpdate onHealth;
    TaskChecker::OnChange onCheck;
  };

  // Starts the checks `task` asks for. As in Mesos's executors, an invalid
  // one (the master refuses those) is logged and not run.
  void start(boost::asio::io_context& io, ChildWatcher& children, const v1::TaskInfo& task,
             const std::string& workingDirectory, Handlers handlers);
  // No callback after this; safe to call from a callback (the checkers
  // live on until the TaskChecks is destroyed).
  void stop();

 private:
  std::unique_ptr<HealthChecker> health_;
  std::unique_ptr<TaskChecker> check_;
};

// A from-scratch update of `task`: with an empty check status if the task
// has a general check (Mesos puts one in every update of a checked task).
void addEmptyCheckStatus(const v1::TaskInfo& task, v1::TaskStatus& status);

// The update of a health change: the task's last update again with reason
// REASON_TASK_HEALTH_CHECK_STATUS_UPDATED and `healthy`.
v1::TaskStatus healthUpdate(v1::TaskStatus last, bool healthy);

// The update of a check result change: the last update again with reason
// REASON_TASK_CHECK_STATUS_UPDATED and `checkStatus`.
v1::TaskStatus checkUpdate(v1::TaskStatus last, const v1::CheckStatusInfo& checkStatus);

}  // namespace mezzo::executor
