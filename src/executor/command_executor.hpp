// CommandExecutor: Mezzo's built-in command executor (mezzo-executor). It
// speaks the public v1 executor API to its agent exactly as a third-party
// executor would (JSON over POST /api/v1/executor, mesos-reference.md §2)
// and runs one task's CommandInfo.
//
// Lifecycle: SUBSCRIBE (retried with backoff); on LAUNCH send TASK_STARTING,
// posix_spawn the command in its own process group (stdout/stderr go to the
// sandbox files the executor itself writes to), send TASK_RUNNING; when the
// command ends send TASK_FINISHED (exit 0), TASK_FAILED ("Command exited
// with status N" / "Command terminated with signal SIGX") or, after a kill,
// TASK_KILLED. KILL: TASK_KILLING (if the framework has TASK_KILLING_STATE),
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

#include "executor/executor_client.hpp"
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
  void shutdown(std::optional<Duration> cap);
  void watchChildren();
  void watchTermination();
  void taskExited(int waitStatus);
  void sendStatus(const v1::TaskID& taskId, v1::TaskState state, const std::string& message);
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
  boost::asio::steady_timer killTimer_;
  boost::asio::steady_timer exitTimer_;
  boost::asio::signal_set childSignals_;
  boost::asio::signal_set terminationSignals_;
  bool exiting_ = false;
  int exitCode_ = 0;
};

}  // namespace mezzo::executor
