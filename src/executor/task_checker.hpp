// TaskChecker: runs one task's general check (TaskInfo.check, a CheckInfo)
// the way Mesos's executors do (checks/checker.cpp): no verdict and no
// kill, only the latest result for the framework.
//
// The probing is a CheckRunner's (check_runner.hpp). Each outcome becomes a
// CheckStatusInfo: the probe's answer, or an empty one of the check's type
// when the probe failed (timeout, connection failure); `onChange` gets it
// whenever it differs from the previous one (the first one is compared with
// the empty status every task update carries until then).
//
// stop() ends checking for good; no callback comes after it. The owner may
// call stop() from `onChange`, but must keep the checker alive until then.
//
// Thread-safety: everything runs on the one io_context thread passed in.
#pragma once

#include <boost/asio/io_context.hpp>
#include <functional>
#include <memory>
#include <string>

#include "executor/check_runner.hpp"
#include "executor/child_watcher.hpp"
#include "mezzo/common/status.hpp"
#include "mezzo/v1/mesos.pb.h"

namespace mezzo::executor {

class TaskChecker {
 public:
  using OnChange = std::function<void(const v1::CheckStatusInfo&)>;

  // Starts checking `taskId` now; an invalid check is an error.
  static Result<std::unique_ptr<TaskChecker>> start(boost::asio::io_context& io, ChildWatcher& children,
                                                    const v1::CheckInfo& check, const std::string& taskId,
                                                    const std::string& workingDirectory, OnChange onChange);

  TaskChecker(const v1::CheckInfo& check, OnChange onChange);
  ~TaskChecker();
  TaskChecker(const TaskChecker&) = delete;
  TaskChecker& operator=(const TaskChecker&) = delete;

  void stop();

 private:
  void report(const Result<v1::CheckStatusInfo>& outcome);

  OnChange onChange_;
  v1::CheckStatusInfo empty_;
  v1::CheckStatusInfo previous_;
  std::shared_ptr<CheckRunner> runner_;
};

// The CheckStatusInfo of `check` before any result: its type and an empty
// field of that type (what Mesos puts in every update of a checked task).
v1::CheckStatusInfo emptyCheckStatus(const v1::CheckInfo& check);

}  // namespace mezzo::executor
