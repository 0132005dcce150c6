// DefaultExecutor: Mezzo's default executor (mezzo-default-executor), the
// executor of ExecutorInfo.type DEFAULT that runs task groups (LAUNCH_GROUP,
// mesos-reference.md §1.3). A client of the public v1 executor API through
// ExecutorClient.
//
// Semantics (as Mesos): on LAUNCH_GROUP every task of the group gets
// TASK_STARTING, is spawned as a child process (own process group) sharing
// the executor's sandbox as working directory (its stdout/stderr go to
// `tasks/<task id>/stdout|stderr` there), then TASK_RUNNING. A task that
// exits 0 is TASK_FINISHED; one that exits otherwise is TASK_FAILED and the
// other live tasks of its group are killed (TASK_KILLED). A KILL of one task
// kills its whole group: every live task gets TASK_KILLING (with the
// framework's TASK_KILLING_STATE capability), SIGTERM, SIGKILL after the
// kill policy's grace period (KILL's policy, else the task's, else 3 s), and
// ends TASK_KILLED. SHUTDOWN or SIGTERM kill every task. The executor exits
// once no task is live and every terminal update is acknowledged (or a few
// seconds after the last one). A plain LAUNCH is refused with TASK_FAILED.
// Tasks with a health_check are checked as under the command executor
// (command_executor.hpp): health changes are TASK_RUNNING updates with
// `healthy`; a task that fails `consecutive_failures` checks in a row is
// killed with its group, and ends TASK_KILLED with healthy=false. General
// checks (`check`, `check_status`) work as there too. A task still running
// at its `max_completion_time` is SIGKILLed and ends TASK_FAILED with
// REASON_MAX_COMPLETION_TIME_REACHED, which takes its group down.
//
// Thread-safety: everything runs on the one io_context thread passed in.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "executor/child_watcher.hpp"
#include "executor/executor_client.hpp"
#include "executor/task_checks.hpp"

namespace mezzo::executor {

class DefaultExecutor {
 public:
  DefaultExecutor(boost::asio::io_context& io, ExecutorEnvironment env);
  ~DefaultExecutor();

  void start();
  int exitCode() const { return exitCode_; }

 private:
  struct TaskRun {
    v1::TaskInfo info;
    int group = 0;   // index of the LAUNCH_GROUP it came in
    pid_t pid = -1;  // process group leader; -1 when not running
    bool killing = false;
    bool terminal = false;  // terminal update sent
    bool killedByHealthCheck = false;
    bool killedByCompletionTimeout = false;
    std::unique_ptr<boost::asio::steady_timer> killTimer;
    std::unique_ptr<boost::asio::steady_timer> completionTimer;  // max_completion_time
    TaskChecks checks;
    std::optional<v1::TaskStatus> lastStatus;  // as last sent
  };

  void handleEvent(const v1::executor::Event& event);
  // A new entry in tasks_ with its timers.
  TaskRun& addRun(const v1::TaskInfo& task, int group);
  void launchGroup(const v1::TaskGroupInfo& group);
  // Spawns one task; false (after its TASK_FAILED) if it could not start.
  bool spawnTask(TaskRun& run);
  void killGroup(int group, const std::optional<v1::KillPolicy>& policy, std::optional<Duration> cap);
  void killTask(TaskRun& run, const std::optional<v1::KillPolicy>& policy, std::optional<Duration> cap);
  void startCompletionTimer(TaskRun& run);
  void completionTimeReached(const std::string& taskId, Duration limit);
  void shutdown(std::optional<Duration> cap);
  void startChecks(TaskRun& run);
  void healthChanged(const std::string& taskId, const HealthTracker::Update& update);
  void checkChanged(const std::string& taskId, const v1::CheckStatusInfo& checkStatus);
  void watchTermination();
  void taskExited(TaskRun& run, int waitStatus);
  void sendStatus(TaskRun& run, v1::TaskState state, const std::string& message);
  void sendStatus(TaskRun& run, v1::TaskStatus status);
  bool anyLive() const;
  void finishIfDone();
  void exit(int code);

  boost::asio::io_context& io_;
  ExecutorEnvironment env_;
  ExecutorClient client_;
  std::map<std::string, TaskRun> tasks_;  // by task id
  int nextGroup_ = 0;
  bool shuttingDown_ = false;
  boost::asio::steady_timer exitTimer_;
  ChildWatcher children_;
  boost::asio::signal_set terminationSignals_;
  bool exiting_ = false;
  int exitCode_ = 0;
};

}  // namespace mezzo::executor
