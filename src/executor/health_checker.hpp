// HealthChecker: runs one task's HealthCheck (mesos.proto) the way Mesos's
// executors do (checks/health_checker.cpp), and tells its owner when the
// task's health changes.
//
// The probing is a CheckRunner's (check_runner.hpp: delay, interval,
// timeout; HTTP on 127.0.0.1 or [::1], TCP, COMMAND in the executor's
// working directory). An outcome is healthy when the command exited 0, the
// HTTP status is 200-399 (`statuses` is ignored, as by Mesos's built-in
// executors) or the TCP connection succeeded. Outcomes go through a
// HealthTracker (grace period, consecutive failures); every update it
// yields is passed to `onUpdate`, which kills the task on `killTask`.
//
// stop() ends checking for good; no callback comes after it. The owner may
// call stop() from `onUpdate`, but must keep the checker alive until then.
//
// Thread-safety: everything runs on the one io_context thread passed in.
#pragma once

#include <boost/asio/io_context.hpp>
#include <functional>
#include <memory>
#include <string>

#include "executor/check_runner.hpp"
#include "executor/child_watcher.hpp"
#include "executor/health_tracker.hpp"
#include "mezzo/common/status.hpp"
#include "mezzo/v1/mesos.pb.h"

namespace mezzo::executor {

class HealthChecker {
 public:
  using OnUpdate = std::function<void(const HealthTracker::Update&)>;

  // Starts checking `taskId` now (its first check after the delay); an
  // invalid check (mezzo/common/health_check.hpp) is an error.
  static Result<std::unique_ptr<HealthChecker>> start(boost::asio::io_context& io, ChildWatcher& children,
                                                      const v1::HealthCheck& check, const std::string& taskId,
                                                      const std::string& workingDirectory, OnUpdate onUpdate);

  HealthChecker(const v1::HealthCheck& check, OnUpdate onUpdate);
  ~HealthChecker();
  HealthChecker(const HealthChecker&) = delete;
  HealthChecker& operator=(const HealthChecker&) = delete;

  void stop();

 private:
  void judge(const Result<v1::CheckStatusInfo>& outcome);

  OnUpdate onUpdate_;
  HealthTracker tracker_;
  std::shared_ptr<CheckRunner> runner_;
};

// The CheckInfo that probes what `check` probes, with its delay, interval
// and timeout (as Mesos's toCheckInfo).
v1::CheckInfo toCheckInfo(const v1::HealthCheck& check);

// Why `outcome` is unhealthy, or OK (Mesos's interpretCheckStatusInfo).
Status healthOf(const Result<v1::CheckStatusInfo>& outcome);

}  // namespace mezzo::executor
