// HealthChecker: runs one task's HealthCheck (mesos.proto) the way Mesos's
// executors do, and tells its owner when the task's health changes.
//
// After `delay_seconds` it runs one check at a time, each bounded by
// `timeout_seconds` (0: no bound); the next starts `interval_seconds` after
// the previous one ended. HTTP: GET http://127.0.0.1:<port><path> ([::1]
// for IPv6), healthy on 200-399 (`statuses` is ignored, as by Mesos's
// built-in executors). TCP: healthy when 127.0.0.1:<port> accepts a
// connection. COMMAND: healthy when the command, spawned like task commands
// in the executor's working directory, exits 0. Outcomes go through a
// HealthTracker (grace period, consecutive failures); every update it
// yields is passed to `onUpdate`, which kills the task on `killTask`.
//
// stop() ends checking for good (a running command probe is killed); no
// callback comes after it, nor after the checker is destroyed.
//
// Thread-safety: everything runs on the one io_context thread passed in.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <functional>
#include <memory>
#include <string>

#include "executor/child_watcher.hpp"
#include "executor/health_tracker.hpp"
#include "mezzo/common/status.hpp"
#include "mezzo/v1/mesos.pb.h"

namespace mezzo::executor {

class HealthChecker : public std::enable_shared_from_this<HealthChecker> {
 public:
  using OnUpdate = std::function<void(const HealthTracker::Update&)>;

  // Starts checking `taskId` now (its first check after the delay); an
  // invalid check (mezzo/common/health_check.hpp) is an error.
  static Result<std::shared_ptr<HealthChecker>> start(boost::asio::io_context& io, ChildWatcher& children,
                                                      const v1::HealthCheck& check, const std::string& taskId,
                                                      const std::string& workingDirectory, OnUpdate onUpdate);

  HealthChecker(boost::asio::io_context& io, ChildWatcher& children, const v1::HealthCheck& check,
                std::string taskId, std::string workingDirectory, OnUpdate onUpdate);
  ~HealthChecker();
  HealthChecker(const HealthChecker&) = delete;
  HealthChecker& operator=(const HealthChecker&) = delete;

  void stop();

 private:
  void schedule(Duration after);
  void runCheck();
  void checked(Status outcome);

  boost::asio::io_context& io_;
  ChildWatcher& children_;
  v1::HealthCheck check_;
  std::string taskId_;
  std::string workingDirectory_;
  OnUpdate onUpdate_;
  HealthTracker tracker_;
  boost::asio::steady_timer timer_;
  pid_t commandProbe_ = -1;  // process group of a running COMMAND check
  uint64_t round_ = 0;       // tells the current check's answer from a stale one
  bool stopped_ = false;
};

}  // namespace mezzo::executor
