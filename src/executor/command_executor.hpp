// CommandExecutor: Mezzo's built-in command executor (mezzo-executor). It
// speaks the public v1 executor API to its agent exactly as a third-party
// executor would (protobuf over POST /api/v1/executor, mesos-reference.md §2)
// and runs one task's CommandInfo.
//
// Lifecycle: SUBSCRIBE (retried with backoff); on LAUNCH send TASK_STARTING,
// posix_spawn the command in its own process group (stdout/stderr go to the
// sandbox files the executor itself writes to), send TASK_RUNNING; when the
// command ends send TASK_FINISHED (exit 0), TASK_FAILED ("Command exited
// with status N" / "Command terminated with signal SIGX") or, after a kill,
// TASK_KILLED. A task with a health_check is checked by a HealthChecker
// from its launch: each health change is a TASK_RUNNING update with
// `healthy` and reason REASON_TASK_HEALTH_CHECK_STATUS_UPDATED; after
// `consecutive_failures` failures the task is killed (its kill policy) and
// ends TASK_KILLED with healthy=false, as in Mesos. A task still running at
// its `max_completion_time` is killed at once (SIGKILL, no TASK_KILLING) and
// ends TASK_FAILED with REASON_MAX_COMPLETION_TIME_REACHED. A task with a general
// `check` is checked by a TaskChecker: every update of the task carries a
// `check_status` (empty until the first result), and each change of the
// result is a TASK_RUNNING update with reason
// REASON_TASK_CHECK_STATUS_UPDATED. Health and check updates repeat the
// task's last update with their field changed. Checking stops once a kill
// starts. KILL: TASK_KILLING (if the framework has TASK_KILLING_STATE),
// SIGTERM to the process group, SIGKILL after the kill policy's grace period
// (default 3 s). Every update gets a fresh uuid and is kept until the agent
// sends ACKNOWLEDGED; unacknowledged updates (and the task, until its first
// acknowledgement) are resent in the next SUBSCRIBE after a disconnection.
// The executor exits once its terminal update is acknowledged (or a few
// seconds after sending it); SHUTDOWN or SIGTERM kill the task first. If the
// agent stays unreachable past the reconnect window, or refuses the
// executor, the task is killed and the executor exits.
//
// The agent connection is an ExecutorClient (executor_client.hpp).
//
// Thread-safety: everything runs on the one io_context thread passed in.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "executor/child_watcher.hpp"
#include "executor/executor_client.hpp"
#include "executor/task_checks.hpp"
#include "mezzo/v1/executor/executor.pb.h"

namespace mezzo::executor {

class CommandExecutor {
 public:
  CommandExecutor(boost::asio::io_context& io, ExecutorEnvironment env);
  ~CommandExecutor();

  void start();
  // The process exit code once the io_context has stopped.
  int exitCode() const { return exitCode_; }

 private:
  void handleEvent(const v1::executor::Event& event);
  void launch(const v1::TaskInfo& task);
  void kill(const v1::TaskID& taskId, const std::optional<v1::KillPolicy>& policy, std::optional<Duration> cap);
  void escalateKill();
  void completionTimeReached(Duration limit);
  void shutdown(std::optional<Duration> cap);
  void healthChanged(const HealthTracker::Update& update);
  void checkChanged(const v1::CheckStatusInfo& checkStatus);
  void watchTermination();
  void taskExited(int waitStatus);
  void sendStatus(const v1::TaskID& taskId, v1::TaskState state, const std::string& message);
  void sendStatus(v1::TaskStatus status);
  void finishIfDone();
  void exit(int code);

  boost::asio::io_context& io_;
  ExecutorEnvironment env_;

  ExecutorClient client_;

  // The task.
  std::optional<v1::TaskInfo> task_;
  pid_t taskPid_ = -1;
  bool killing_ = false;
  bool shuttingDown_ = false;
  bool terminalSent_ = false;
  TaskChecks checks_;
  bool killedByHealthCheck_ = false;
  bool killedByCompletionTimeout_ = false;
  std::optional<v1::TaskStatus> lastStatus_;  // of the task, as last sent
  boost::asio::steady_timer killTimer_;
  boost::asio::steady_timer completionTimer_;  // max_completion_time
  boost::asio::steady_timer exitTimer_;
  ChildWatcher children_;
  boost::asio::signal_set terminationSignals_;
  bool exiting_ = false;
  int exitCode_ = 0;
};

}  // namespace mezzo::executor
