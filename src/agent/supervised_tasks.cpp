// Command tasks the agent runs itself (--command_tasks=supervised, the
// default): no executor process and no executor API. Each task runs under
// `mezzo-launch --supervise` (launch_helper.hpp), a small static process
// that is the task's parent, forwards the agent's signals to the task's
// process group, kills whatever the task leaves behind and writes the
// task's wait status to `<work_dir>/containers/<container id>.status`
// (removed with the sandbox) before it exits the same way. The agent
//   - reports TASK_RUNNING once the supervisor is spawned, and the terminal
//     state from the wait status (the command executor's rules: exit 0 is
//     TASK_FINISHED, a kill TASK_KILLED, anything else TASK_FAILED), all
//     with source SOURCE_EXECUTOR, as the command executor would;
//   - kills with the task's kill policy: SIGTERM to the task (TASK_KILLING
//     first for frameworks with that capability), SIGKILL after the grace
//     period; enforces max_completion_time;
//   - after a restart re-attaches to live supervisors (nothing has to
//     re-subscribe) and learns from the status file how a task ended while
//     it was down.
// Tasks with a health check or a check run under the command executor.
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>

#include "agent/agent_daemon.hpp"
#include "agent/launch_helper.hpp"
#include "executor/task_process.hpp"
#include "mezzo/common/durations.hpp"

namespace mezzo::agent {

namespace {

bool hasCapability(const v1::FrameworkInfo& info, v1::FrameworkInfo::Capability::Type type) {
  for (const auto& capability : info.capabilities()) {
    if (capability.type() == type) return true;
  }
  return false;
}

std::chrono::milliseconds millis(Duration duration) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(duration);
}

}  // namespace

bool AgentDaemon::runsSupervised(const v1::TaskInfo& task) const {
  return flags_.commandTasks == CommandTasks::kSupervised && !task.has_executor() && task.has_command() &&
         !task.has_health_check() && !task.has_check();
}

std::string AgentDaemon::supervisorStatusFile(const std::string& containerId) const {
  return flags_.workDir + "/containers/" + containerId + ".status";
}

std::optional<int> AgentDaemon::readSupervisorStatus(const std::string& containerId) const {
  std::ifstream file(supervisorStatusFile(containerId));
  int waitStatus = 0;
  if (!(file >> waitStatus)) return std::nullopt;
  return waitStatus;
}

Status AgentDaemon::spawnSupervisedTask(FrameworkRecord& framework, ExecutorRecord& executor) {
  ExecutorRecord::SupervisedTask& task = *executor.supervised;
  auto line = commandLine(task.info.command());
  if (!line) return line.status();
  std::map<std::string, std::string> environment = executorEnvironment(framework, executor);
  for (const auto& variable : task.info.command().environment().variables()) {
    if (variable.type() == v1::Environment::Variable::VALUE) environment[variable.name()] = variable.value();
  }
  SpawnOptions spawn;
  spawn.path = line->first;
  spawn.argv = line->second;
  spawn.environment = mergedEnvironment(environment);
  spawn.workingDirectory = executor.directory;
  spawn.stdoutPath = executor.directory + "/stdout";
  spawn.stderrPath = executor.directory + "/stderr";
  spawn.grouping = SpawnOptions::Grouping::kNewSession;
  executor.limits = containerLimitsOf(framework, executor);
  auto pid = containerizer_->launch(executor.containerId, executor.limits, std::move(spawn),
                                    supervisorStatusFile(executor.containerId));
  if (!pid) return pid.status();

  const ExecutorKey key{framework.id, ExecutorId(executor.info.executor_id().value())};
  const TaskId taskId(task.info.task_id().value());
  watchContainerMemory(key, executor);
  executor.state = ExecutorRecord::State::kRunning;
  executor.pid = *pid;
  executor.launchedAt = clock_.now();
  executor.launchedTasks.insert(taskId);
  children_[*pid] = key;
  if (framework.info.checkpoint()) {
    checkpointOrLog(checkpointer_.writeExecutor(
        agentId_, framework.id.value(), executor.info,
        ExecutorRun{executor.containerId, executor.directory, *pid, true, true}));
  }
  spdlog::info("Running task {} of framework {} under supervisor pid {} in {}", taskId.value(), framework.id.value(),
               *pid, executor.directory);
  for (v1::TaskState state : {v1::TASK_STARTING, v1::TASK_RUNNING}) {
    v1::TaskStatus status;
    status.set_state(state);
    reportSupervisedTask(framework, executor, std::move(status));
  }
  if (auto limit = executor::maxCompletionTime(task.info)) armCompletionTimer(key, executor, *limit);
  return Status::ok();
}

void AgentDaemon::reportSupervisedTask(FrameworkRecord& framework, ExecutorRecord& executor, v1::TaskStatus status) {
  *status.mutable_task_id() = executor.supervised->info.task_id();
  status.set_source(v1::TaskStatus::SOURCE_EXECUTOR);
  *status.mutable_executor_id() = executor.info.executor_id();
  status.mutable_agent_id()->set_value(agentId_);
  status.set_uuid(randomUuidBytes());
  status.set_timestamp(toEpochSeconds(clock_.now()));
  status.mutable_container_status()->mutable_container_id()->set_value(executor.containerId);
  recordStatus(framework, status);
}

void AgentDaemon::armCompletionTimer(const ExecutorKey& key, ExecutorRecord& executor, Duration remaining) {
  executor.supervised->completionTimer->expires_after(millis(std::max(remaining, Duration::zero())));
  executor.supervised->completionTimer->async_wait([this, key, pid = executor.pid](boost::system::error_code ec) {
    if (ec) return;
    FrameworkRecord* fw = framework(key.first);
    ExecutorRecord* current = fw != nullptr ? fw->executor(key.second) : nullptr;
    if (current == nullptr || !current->supervised || current->pid != pid || current->supervised->killing) return;
    spdlog::warn("Killing task {}, which reached its max completion time", key.second.value());
    current->supervised->killing = true;
    current->supervised->killedByCompletionTimeout = true;
    ::kill(pid, SIGUSR1);  // the supervisor SIGKILLs the task's group
  });
}

void AgentDaemon::killSupervisedTask(FrameworkRecord& framework, ExecutorRecord& executor,
                                     const std::optional<v1::KillPolicy>& policy, std::optional<Duration> cap) {
  ExecutorRecord::SupervisedTask& task = *executor.supervised;
  if (task.killing || executor.pid <= 0) return;
  const v1::Task* record = framework.task(TaskId(task.info.task_id().value()));
  if (record == nullptr || isTerminalTaskState(record->state())) return;
  task.killing = true;
  const Duration grace = executor::killGracePeriod(policy, task.info, cap);
  if (hasCapability(framework.info, v1::FrameworkInfo::Capability::TASK_KILLING_STATE)) {
    v1::TaskStatus killing;
    killing.set_state(v1::TASK_KILLING);
    reportSupervisedTask(framework, executor, std::move(killing));
  }
  spdlog::info("Killing task {} of framework {} with a grace period of {}", task.info.task_id().value(),
               framework.id.value(), formatDuration(grace));
  escalateSupervisedKill({framework.id, ExecutorId(executor.info.executor_id().value())}, executor, grace);
}

void AgentDaemon::escalateSupervisedKill(const ExecutorKey& key, ExecutorRecord& executor, Duration grace) {
  if (grace <= Duration::zero()) {
    ::kill(executor.pid, SIGUSR1);
    return;
  }
  ::kill(executor.pid, SIGTERM);  // passed on to the task's process group
  executor.timer->expires_after(millis(grace));
  executor.timer->async_wait([this, key, pid = executor.pid](boost::system::error_code ec) {
    if (ec) return;
    FrameworkRecord* fw = framework(key.first);
    ExecutorRecord* current = fw != nullptr ? fw->executor(key.second) : nullptr;
    if (current == nullptr || current->pid != pid) return;
    spdlog::warn("Task {} outlived its grace period; sending SIGKILL", key.second.value());
    ::kill(pid, SIGUSR1);
  });
}

void AgentDaemon::finishSupervisedTask(FrameworkRecord& framework, ExecutorRecord& executor,
                                       std::optional<int> supervisorStatus) {
  ExecutorRecord::SupervisedTask& task = *executor.supervised;
  task.completionTimer->cancel();
  if (!task.waitStatus) task.waitStatus = readSupervisorStatus(executor.containerId);
  // The file stays until its sandbox is collected: removing it here, one
  // inode per task, would make ext4's allocation of the next sandboxes'
  // inodes slow (it skips recently deleted ones, one by one).
  // The supervisor killed everything the task left behind before writing it.
  if (task.waitStatus) executor.sessionKilled = true;
  const TaskId taskId(task.info.task_id().value());
  const v1::Task* record = framework.task(taskId);
  if (record == nullptr || isTerminalTaskState(record->state())) return;
  if (task.waitStatus) {
    v1::TaskStatus status = executor::terminalStatus(
        *task.waitStatus, {.killing = task.killing, .killedByCompletionTimeout = task.killedByCompletionTimeout});
    spdlog::info("Task {} of framework {}: {}", taskId.value(), framework.id.value(), status.message());
    reportSupervisedTask(framework, executor, std::move(status));
  } else if (supervisorStatus && WIFEXITED(*supervisorStatus) &&
             WEXITSTATUS(*supervisorStatus) == launch::kSetupFailedExitCode) {
    ++counters_.containerLaunchErrors;
    generateStatus(framework, taskId, v1::TASK_FAILED, v1::TaskStatus::REASON_CONTAINER_LAUNCH_FAILED,
                   "Could not set up the task's container (mezzo-launch: see stderr in the sandbox)");
  }
  // Otherwise the supervisor itself died: retireExecutor() fails the task.
}

void AgentDaemon::reattachSupervisedTask(FrameworkRecord& framework, ExecutorRecord& executor) {
  const ExecutorKey key{framework.id, ExecutorId(executor.info.executor_id().value())};
  ExecutorRecord::SupervisedTask& task = *executor.supervised;
  executor.state = ExecutorRecord::State::kRunning;
  const v1::Task* record = framework.task(TaskId(task.info.task_id().value()));
  if (record == nullptr) return;
  spdlog::info("Re-attached to task {} of framework {} (supervisor pid {})", key.second.value(), key.first.value(),
               executor.pid);
  if (record->state() == v1::TASK_STAGING) {
    // The agent died between the spawn and recording TASK_RUNNING.
    v1::TaskStatus running;
    running.set_state(v1::TASK_RUNNING);
    reportSupervisedTask(framework, executor, std::move(running));
  } else if (record->state() == v1::TASK_KILLING) {
    // A kill was under way: finish it (its grace period began before the restart).
    task.killing = true;
    escalateSupervisedKill(key, executor, executor::kDefaultKillGracePeriod);
  }
  if (auto limit = executor::maxCompletionTime(task.info)) {
    // Counted from TASK_RUNNING, as far as the recorded updates tell.
    double runningSince = toEpochSeconds(clock_.now());
    for (const v1::TaskStatus& status : record->statuses()) {
      if (status.state() == v1::TASK_RUNNING) runningSince = std::min(runningSince, status.timestamp());
    }
    const Duration elapsed = secondsToDuration(toEpochSeconds(clock_.now()) - runningSince);
    armCompletionTimer(key, executor, *limit - elapsed);
  }
}

}  // namespace mezzo::agent
