// Command tasks the agent runs itself (--command_tasks=supervised, the
// default): no executor process and no executor API. The agent's task
// supervisor (`mezzo-launch --supervisor`, daemons/task_supervisor.hpp), one
// small static process per agent started in a session of its own, forks
// each task into its container and stays its parent across agent restarts;
// it kills what a task leaves in its process group and session and writes
// the task's wait status to `<work_dir>/containers/<container id>.status`
// (removed with the sandbox) before telling the agent. The agent
//   - reports TASK_STARTING and TASK_RUNNING once the supervisor has
//     started the task, and the terminal state from its wait status (the
//     command executor's rules: exit 0 is TASK_FINISHED, a kill
//     TASK_KILLED, anything else TASK_FAILED), all with source
//     SOURCE_EXECUTOR, as the command executor would;
//   - kills with the task's kill policy through the supervisor: SIGTERM to
//     the task's process group (TASK_KILLING first for frameworks with that
//     capability), SIGKILL after the grace period; enforces
//     max_completion_time;
//   - after a restart reconnects to the supervisor, re-attaches the tasks
//     it still runs (nothing has to re-subscribe) and learns from the status
//     files how the others ended while it was down;
//   - fails the tasks of a supervisor that died (REASON_EXECUTOR_TERMINATED)
//     and starts a new one for the next task.
// Tasks with a health check or a check run under the command executor.
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <iterator>

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

Status AgentDaemon::startTaskSupervisor() {
  const bool needed = flags_.commandTasks == CommandTasks::kSupervised;
  taskSupervisor_ = std::make_unique<TaskSupervisorLink>(io_, flags_.workDir + "/supervisor.sock",
                                                         containerizer_->options().launchHelperPath);
  auto live = taskSupervisor_->connect(needed);
  if (!live) {
    if (needed) return Status(live.status().code(), "Cannot start the task supervisor: " + live.error());
    return Status::ok();  // none running and none needed
  }
  supervisorLiveAtStart_ = std::move(*live);
  spdlog::info("Task supervisor on {} ({} live tasks)", taskSupervisor_->socketPath(), supervisorLiveAtStart_.size());
  taskSupervisor_->listen({
      .started = [this](const std::string& containerId, pid_t pid) { onSupervisedTaskStarted(containerId, pid); },
      .exited = [this](const std::string& containerId,
                       const supervisor::TaskEnd& end) { onSupervisedTaskExited(containerId, end); },
      .lost = [this] { onTaskSupervisorLost(); },
  });
  return Status::ok();
}

ExecutorRecord* AgentDaemon::supervisedExecutor(const std::string& containerId, FrameworkRecord** fw) {
  auto it = supervisedContainers_.find(containerId);
  if (it == supervisedContainers_.end()) return nullptr;
  *fw = framework(it->second.first);
  ExecutorRecord* executor = *fw != nullptr ? (*fw)->executor(it->second.second) : nullptr;
  if (executor == nullptr || executor->containerId != containerId || !executor->supervised) return nullptr;
  return executor;
}

void AgentDaemon::onSupervisedTaskStarted(const std::string& containerId, pid_t pid) {
  FrameworkRecord* fw = nullptr;
  ExecutorRecord* executor = supervisedExecutor(containerId, &fw);
  if (executor == nullptr) return;
  executor->pid = pid;
  if (executor->state == ExecutorRecord::State::kTerminating) return;  // killed already: the signal follows
  const ExecutorKey key{fw->id, ExecutorId(executor->info.executor_id().value())};
  executor->state = ExecutorRecord::State::kRunning;
  if (fw->info.checkpoint()) {
    checkpointOrLog(checkpointer_.writeExecutor(agentId_, fw->id.value(), executor->info,
                                                ExecutorRun{containerId, executor->directory, pid, true, true}));
  }
  spdlog::info("Running task {} of framework {} as pid {} in {}", key.second.value(), fw->id.value(), pid,
               executor->directory);
  if (executor->supervised->killing) return;  // a kill came first: no TASK_RUNNING
  for (v1::TaskState state : {v1::TASK_STARTING, v1::TASK_RUNNING}) {
    v1::TaskStatus status;
    status.set_state(state);
    reportSupervisedTask(*fw, *executor, std::move(status));
  }
  if (auto limit = executor::maxCompletionTime(executor->supervised->info)) armCompletionTimer(key, *executor, *limit);
}

void AgentDaemon::onSupervisedTaskExited(const std::string& containerId, const supervisor::TaskEnd& end) {
  FrameworkRecord* fw = nullptr;
  ExecutorRecord* executor = supervisedExecutor(containerId, &fw);
  supervisedContainers_.erase(containerId);
  if (executor == nullptr) return;
  executor->supervised->end = end;
  executor->sessionKilled = true;  // the supervisor killed what the task left behind
  executorExited(*fw, *executor, end.waitStatus);
}

void AgentDaemon::onTaskSupervisorLost() {
  spdlog::error("The task supervisor died; failing its {} tasks", supervisedContainers_.size());
  const auto containers = std::exchange(supervisedContainers_, {});
  for (const auto& [containerId, key] : containers) {
    FrameworkRecord* fw = framework(key.first);
    ExecutorRecord* executor = fw != nullptr ? fw->executor(key.second) : nullptr;
    if (executor == nullptr || executor->containerId != containerId) continue;
    if (executor->endReason == ExecutorRecord::EndReason::kNone) {
      executor->endReason = ExecutorRecord::EndReason::kSupervisorLost;
    }
    executorExited(*fw, *executor, std::nullopt);  // kills the task's session
  }
}

std::string AgentDaemon::supervisorStatusFile(const std::string& containerId) const {
  return flags_.workDir + "/containers/" + containerId + ".status";
}

std::optional<supervisor::TaskEnd> AgentDaemon::readSupervisorStatus(const std::string& containerId) const {
  std::ifstream file(supervisorStatusFile(containerId));
  const std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  return supervisor::parseStatusFileText(text);
}

Status AgentDaemon::spawnSupervisedTask(FrameworkRecord& framework, ExecutorRecord& executor) {
  ExecutorRecord::SupervisedTask& task = *executor.supervised;
  auto line = commandLine(task.info.command());
  if (!line) return line.status();
  if (!taskSupervisor_ || !taskSupervisor_->connected()) {
    spdlog::info("Starting a new task supervisor");
    if (Status started = startTaskSupervisor(); !started) return started;
  }
  std::map<std::string, std::string> environment = executorEnvironment(framework, executor);
  for (const auto& variable : task.info.command().environment().variables()) {
    if (variable.type() == v1::Environment::Variable::VALUE) environment[variable.name()] = variable.value();
  }
  executor.limits = containerLimitsOf(framework, executor);
  auto request = containerizer_->prepare(executor.containerId, executor.limits, executor.settings);
  if (!request) return request.status();
  request->executable = line->first;
  request->argv = line->second;
  taskSupervisor_->launch({
      .containerId = executor.containerId,
      .statusFile = supervisorStatusFile(executor.containerId),
      .workingDirectory = executor.directory,
      .stdoutPath = executor.directory + "/stdout",
      .stderrPath = executor.directory + "/stderr",
      .launchArguments = launch::toArguments(*request),
      .environment = mergedEnvironment(environment),
  });
  const ExecutorKey key{framework.id, ExecutorId(executor.info.executor_id().value())};
  supervisedContainers_[executor.containerId] = key;
  watchContainerMemory(key, executor);
  executor.state = ExecutorRecord::State::kLaunching;  // kRunning once the supervisor says it started
  executor.launchedAt = clock_.now();
  executor.launchedTasks.insert(TaskId(task.info.task_id().value()));
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
  recordStatus(framework, status, UpdateOrigin::kAgent);
}

void AgentDaemon::armCompletionTimer(const ExecutorKey& key, ExecutorRecord& executor, Duration remaining) {
  executor.supervised->completionTimer->expires_after(millis(std::max(remaining, Duration::zero())));
  executor.supervised->completionTimer->async_wait(
      [this, key, containerId = executor.containerId](boost::system::error_code ec) {
        if (ec) return;
        FrameworkRecord* fw = framework(key.first);
        ExecutorRecord* current = fw != nullptr ? fw->executor(key.second) : nullptr;
        if (current == nullptr || !current->supervised || current->containerId != containerId ||
            current->supervised->killing) {
          return;
        }
        spdlog::warn("Killing task {}, which reached its max completion time", key.second.value());
        current->supervised->killing = true;
        current->supervised->killedByCompletionTimeout = true;
        taskSupervisor_->signal(containerId, SIGKILL);
      });
}

void AgentDaemon::killSupervisedTask(FrameworkRecord& framework, ExecutorRecord& executor,
                                     const std::optional<v1::KillPolicy>& policy, std::optional<Duration> cap) {
  ExecutorRecord::SupervisedTask& task = *executor.supervised;
  if (task.killing || !supervisedContainers_.contains(executor.containerId)) return;
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
  // The supervisor signals the task's process group while the task lives
  // (a request sent before the task started is applied after its start).
  if (grace <= Duration::zero()) {
    taskSupervisor_->signal(executor.containerId, SIGKILL);
    return;
  }
  taskSupervisor_->signal(executor.containerId, SIGTERM);
  executor.timer->expires_after(millis(grace));
  executor.timer->async_wait([this, key, containerId = executor.containerId](boost::system::error_code ec) {
    if (ec) return;
    FrameworkRecord* fw = framework(key.first);
    ExecutorRecord* current = fw != nullptr ? fw->executor(key.second) : nullptr;
    if (current == nullptr || current->containerId != containerId) return;
    spdlog::warn("Task {} outlived its grace period; sending SIGKILL", key.second.value());
    taskSupervisor_->signal(containerId, SIGKILL);
  });
}

void AgentDaemon::finishSupervisedTask(FrameworkRecord& framework, ExecutorRecord& executor) {
  ExecutorRecord::SupervisedTask& task = *executor.supervised;
  task.completionTimer->cancel();
  // Recovered tasks that ended while the agent was down: from the file.
  if (!task.end) task.end = readSupervisorStatus(executor.containerId);
  // The file stays until its sandbox is collected: removing it here, one
  // inode per task, would make ext4's allocation of the next sandboxes'
  // inodes slow (it skips recently deleted ones, one by one).
  // The supervisor killed everything the task left behind before writing it.
  if (task.end) executor.sessionKilled = true;
  const TaskId taskId(task.info.task_id().value());
  const v1::Task* record = framework.task(taskId);
  if (record == nullptr || isTerminalTaskState(record->state())) return;
  if (task.end && task.end->launchFailed) {
    ++counters_.containerLaunchErrors;
    generateStatus(framework, taskId, v1::TASK_FAILED, v1::TaskStatus::REASON_CONTAINER_LAUNCH_FAILED,
                   "Could not set up the task's container (mezzo-launch: see stderr in the sandbox)");
  } else if (task.end) {
    v1::TaskStatus status = executor::terminalStatus(
        task.end->waitStatus, {.killing = task.killing, .killedByCompletionTimeout = task.killedByCompletionTimeout});
    spdlog::info("Task {} of framework {}: {}", taskId.value(), framework.id.value(), status.message());
    reportSupervisedTask(framework, executor, std::move(status));
  }
  // Otherwise it is gone with its supervisor: retireExecutor() fails it.
}

void AgentDaemon::reattachSupervisedTask(FrameworkRecord& framework, ExecutorRecord& executor) {
  const ExecutorKey key{framework.id, ExecutorId(executor.info.executor_id().value())};
  ExecutorRecord::SupervisedTask& task = *executor.supervised;
  executor.state = ExecutorRecord::State::kRunning;
  supervisedContainers_[executor.containerId] = key;
  const v1::Task* record = framework.task(TaskId(task.info.task_id().value()));
  if (record == nullptr) return;
  spdlog::info("Re-attached to task {} of framework {} (pid {})", key.second.value(), key.first.value(), executor.pid);
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
