// Executor lifecycle on the agent: launch (sandbox, environment,
// posix_spawn in a new session), reaping, registration timeout, shutdown
// with escalation, and the status updates the agent generates itself.
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/wait.h>

#include <filesystem>

#include "agent/agent_daemon.hpp"
#include "agent/process.hpp"
#include "agent/sandbox.hpp"
#include "mezzo/common/durations.hpp"
#include "mezzo/common/recordio.hpp"

namespace mezzo::agent {

namespace fs = std::filesystem;

namespace {

constexpr auto kSigkillDelay = std::chrono::seconds(2);
constexpr int kMaxStatusesPerTask = 10;

std::string shellQuoted(const v1::CommandInfo& command) {
  if (command.shell()) return "sh -c '" + command.value() + "'";
  std::string out = command.value();
  for (int i = 1; i < command.arguments_size(); ++i) out += " " + command.arguments(i);
  return out;
}

Duration gracePeriod(const v1::ExecutorInfo& info, Duration fallback) {
  if (info.has_shutdown_grace_period()) return Duration(info.shutdown_grace_period().nanoseconds());
  return fallback;
}

}  // namespace

FrameworkRecord* AgentDaemon::framework(const FrameworkId& id) {
  auto it = frameworks_.find(id);
  return it == frameworks_.end() ? nullptr : it->second.get();
}

ExecutorId AgentDaemon::executorOf(const v1::Task& task) const {
  return ExecutorId(task.has_executor_id() ? task.executor_id().value() : task.task_id().value());
}

v1::ExecutorInfo AgentDaemon::commandExecutorInfo(const FrameworkRecord& framework, const v1::TaskInfo& task) const {
  v1::ExecutorInfo info;
  info.mutable_executor_id()->set_value(task.task_id().value());
  info.mutable_framework_id()->set_value(framework.id.value());
  info.set_name("Command Executor (Task: " + task.task_id().value() + ") (Command: " + shellQuoted(task.command()) +
                ")");
  info.set_source(task.task_id().value());
  info.mutable_command()->set_value(flags_.executorPath);
  info.mutable_command()->set_shell(false);
  info.mutable_command()->add_arguments("mezzo-executor");
  if (task.has_labels()) *info.mutable_labels() = task.labels();
  // The command executor's container is the task's, run as the task's user (as Mesos).
  if (task.command().has_user()) info.mutable_command()->set_user(task.command().user());
  if (task.has_container()) *info.mutable_container() = task.container();
  return info;
}

std::map<std::string, std::string> AgentDaemon::executorEnvironment(const FrameworkRecord& framework,
                                                                    const ExecutorRecord& executor) const {
  std::map<std::string, std::string> env;
  if (!executor.commandExecutor && executor.info.command().has_environment()) {
    for (const auto& variable : executor.info.command().environment().variables()) {
      if (variable.type() == v1::Environment::Variable::VALUE) env[variable.name()] = variable.value();
    }
  }
  env["MESOS_FRAMEWORK_ID"] = framework.id.value();
  env["MESOS_EXECUTOR_ID"] = executor.info.executor_id().value();
  env["MESOS_AGENT_ENDPOINT"] = advertisedEndpoint_;
  env["MESOS_DIRECTORY"] = executor.directory;
  env["MESOS_SANDBOX"] = executor.directory;
  env["MESOS_CHECKPOINT"] = framework.info.checkpoint() ? "1" : "0";
  env["MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD"] =
      formatDuration(gracePeriod(executor.info, flags_.executorShutdownGracePeriod));
  env["MESOS_SLAVE_ID"] = agentId_;
  env["MESOS_SLAVE_PID"] = "slave(1)@" + advertisedEndpoint_;
  env["MESOS_HTTP_COMMAND_EXECUTOR"] = "1";
  if (executor.info.type() == v1::ExecutorInfo::DEFAULT) {
    // The default executor starts tasks of a group as their user / with their rlimits through it.
    env["MEZZO_LAUNCH_HELPER"] = containerizer_->options().launchHelperPath;
    env["MEZZO_SWITCH_USER"] = flags_.switchUser ? "1" : "0";
  }
  if (framework.info.checkpoint()) {
    env["MESOS_RECOVERY_TIMEOUT"] = "15mins";
    // Half the re-registration timeout: a retry always lands inside it.
    env["MESOS_SUBSCRIPTION_BACKOFF_MAX"] = formatDuration(flags_.executorReregistrationTimeout / 2);
  }
  return env;
}

Result<ExecutorRecord*> AgentDaemon::launchExecutor(FrameworkRecord& framework, const v1::ExecutorInfo& info,
                                                    bool commandExecutor, const FetchPlan& fetch,
                                                    const v1::TaskInfo* supervisedTask) {
  auto record = std::make_unique<ExecutorRecord>();
  record->info = info;
  record->info.mutable_framework_id()->set_value(framework.id.value());
  record->commandExecutor = commandExecutor;
  if (supervisedTask != nullptr) {
    record->supervised.emplace();
    record->supervised->info = *supervisedTask;
    record->supervised->completionTimer = std::make_unique<boost::asio::steady_timer>(io_);
  }
  record->containerId = randomUuidString();
  SandboxId sandbox{agentId_, framework.id.value(), info.executor_id().value(), record->containerId};
  record->directory = sandboxDirectory(flags_.workDir, sandbox);
  std::error_code ec;
  fs::create_directories(record->directory, ec);
  if (ec) return Status::ioError("Failed to create sandbox " + record->directory + ": " + ec.message());
  fs::path latest = fs::path(runsDirectory(flags_.workDir, sandbox)) / "latest";
  fs::remove(latest, ec);
  fs::create_directory_symlink(record->containerId, latest, ec);
  if (ec) spdlog::warn("Failed to link {}: {}", latest.string(), ec.message());
  record->timer = std::make_unique<boost::asio::steady_timer>(io_);
  if (Status configured = configureContainer(framework, *record); !configured) {
    fs::remove_all(record->directory, ec);
    return configured;
  }

  const ExecutorId executorId(info.executor_id().value());
  if (!fetch.uris.empty()) {
    // Spawned by onFetched() once the sandbox holds every URI.
    record->state = ExecutorRecord::State::kFetching;
    ExecutorRecord* raw = record.get();
    framework.executors[executorId] = std::move(record);
    startFetch(framework, *raw, fetch);
    return raw;
  }
  ExecutorRecord* raw = record.get();
  framework.executors[executorId] = std::move(record);
  Status spawned = spawnExecutor(framework, *raw);
  if (!spawned) {
    framework.executors.erase(executorId);
    return spawned;
  }
  return raw;
}

Status AgentDaemon::spawnExecutor(FrameworkRecord& framework, ExecutorRecord& executor) {
  if (Status given = giveSandboxToUser(executor); !given) return given;
  if (executor.supervised) return spawnSupervisedTask(framework, executor);
  const v1::ExecutorInfo& info = executor.info;
  SpawnOptions spawn;
  if (executor.commandExecutor) {
    spawn.path = flags_.executorPath;
    spawn.argv = {flags_.executorPath};
  } else if (info.type() == v1::ExecutorInfo::DEFAULT) {
    spawn.path = flags_.defaultExecutorPath;
    spawn.argv = {flags_.defaultExecutorPath};
  } else {
    if (!info.has_command()) return Status::invalidArgument("Executor has no 'command'");
    auto line = commandLine(info.command());
    if (!line) return line.status();
    spawn.path = line->first;
    spawn.argv = line->second;
  }
  spawn.environment = mergedEnvironment(executorEnvironment(framework, executor));
  spawn.workingDirectory = executor.directory;
  spawn.stdoutPath = executor.directory + "/stdout";
  spawn.stderrPath = executor.directory + "/stderr";
  spawn.grouping = SpawnOptions::Grouping::kNewSession;
  auto pid = launchContainer(framework, executor, std::move(spawn));
  if (!pid) return pid.status();

  ExecutorKey key{framework.id, ExecutorId(info.executor_id().value())};
  watchContainerMemory(key, executor);
  executor.state = ExecutorRecord::State::kLaunching;
  executor.pid = *pid;
  executor.launchedAt = clock_.now();
  executor.timer->expires_after(
      std::chrono::duration_cast<std::chrono::milliseconds>(flags_.executorRegistrationTimeout));
  executor.timer->async_wait([this, key](boost::system::error_code ec) {
    if (!ec) onRegistrationTimeout(key);
  });
  children_[*pid] = key;
  if (framework.info.checkpoint()) {
    checkpointOrLog(checkpointer_.writeExecutor(
        agentId_, framework.id.value(), executor.info,
        ExecutorRun{executor.containerId, executor.directory, *pid, executor.commandExecutor}));
  }
  spdlog::info("Launched executor {} of framework {} as pid {} in {}", key.second.value(), key.first.value(), *pid,
               executor.directory);
  return Status::ok();
}

void AgentDaemon::deliverTask(FrameworkRecord& framework, ExecutorRecord& executor, const v1::TaskInfo& task) {
  if (executor.supervised) return;  // the agent runs it: launched with its container
  updateContainerLimits(framework, executor);  // grows with each task of a custom executor
  if (!executor.subscribed()) {
    executor.queuedTasks.push_back(task);
    return;
  }
  v1::executor::Event event;
  event.set_type(v1::executor::Event::LAUNCH);
  *event.mutable_launch()->mutable_task() = task;
  executor.launchedTasks.insert(TaskId(task.task_id().value()));
  sendToExecutor(executor, event);
  (void)framework;
}

void AgentDaemon::deliverTaskGroup(FrameworkRecord& framework, ExecutorRecord& executor,
                                   const v1::TaskGroupInfo& group) {
  updateContainerLimits(framework, executor);
  if (!executor.subscribed()) {
    executor.queuedGroups.push_back(group);
    return;
  }
  v1::executor::Event event;
  event.set_type(v1::executor::Event::LAUNCH_GROUP);
  *event.mutable_launch_group()->mutable_task_group() = group;
  for (const v1::TaskInfo& task : group.tasks()) executor.launchedTasks.insert(TaskId(task.task_id().value()));
  sendToExecutor(executor, event);
}

void AgentDaemon::onRegistrationTimeout(const ExecutorKey& key) {
  FrameworkRecord* fw = framework(key.first);
  ExecutorRecord* executor = fw != nullptr ? fw->executor(key.second) : nullptr;
  if (executor == nullptr || executor->state != ExecutorRecord::State::kLaunching) return;
  spdlog::warn("Executor {} of framework {} did not subscribe within {}; destroying it", key.second.value(),
               key.first.value(), formatDuration(flags_.executorRegistrationTimeout));
  executor->state = ExecutorRecord::State::kTerminating;
  executor->endReason = ExecutorRecord::EndReason::kRegistrationTimeout;
  signalSession(executor->pid, SIGKILL);
}

void AgentDaemon::shutdownExecutor(FrameworkRecord& framework, ExecutorRecord& executor,
                                   ExecutorRecord::EndReason reason) {
  if (executor.state == ExecutorRecord::State::kTerminating) return;
  if (executor.state == ExecutorRecord::State::kFetching) return abortFetch(framework, executor, reason);
  if (executor.supervised) {
    executor.state = ExecutorRecord::State::kTerminating;
    executor.endReason = reason;
    return killSupervisedTask(framework, executor, std::nullopt,
                              gracePeriod(executor.info, flags_.executorShutdownGracePeriod));
  }
  // Nothing of ours runs under an executor that is not subscribed.
  const bool launching = executor.state == ExecutorRecord::State::kLaunching ||
                         (executor.state == ExecutorRecord::State::kRecovering && !executor.subscribed());
  executor.state = ExecutorRecord::State::kTerminating;
  executor.endReason = reason;
  executor.timer->cancel();
  spdlog::info("Shutting down executor {} of framework {}", executor.info.executor_id().value(),
               framework.id.value());
  if (launching) {
    signalSession(executor.pid, SIGKILL);
    return;
  }
  if (executor.subscribed()) {
    v1::executor::Event event;
    event.set_type(v1::executor::Event::SHUTDOWN);
    sendToExecutor(executor, event);
  }
  ExecutorKey key{framework.id, ExecutorId(executor.info.executor_id().value())};
  executor.timer->expires_after(std::chrono::duration_cast<std::chrono::milliseconds>(
      gracePeriod(executor.info, flags_.executorShutdownGracePeriod)));
  executor.timer->async_wait([this, key](boost::system::error_code ec) {
    if (!ec) escalateShutdown(key);
  });
}

// After the grace period: SIGTERM to the whole session, then SIGKILL.
void AgentDaemon::escalateShutdown(const ExecutorKey& key) {
  FrameworkRecord* fw = framework(key.first);
  ExecutorRecord* executor = fw != nullptr ? fw->executor(key.second) : nullptr;
  if (executor == nullptr || executor->pid <= 0) return;
  if (executor->killSent) {
    spdlog::warn("Executor {} outlived SIGTERM; sending SIGKILL", key.second.value());
    signalSession(executor->pid, SIGKILL);
    return;
  }
  spdlog::info("Executor {} did not exit within its grace period; sending SIGTERM", key.second.value());
  executor->killSent = true;
  signalSession(executor->pid, SIGTERM);
  executor->timer->expires_after(kSigkillDelay);
  executor->timer->async_wait([this, key](boost::system::error_code ec) {
    if (!ec) escalateShutdown(key);
  });
}

void AgentDaemon::watchChildren() {
  childSignals_.async_wait([this](boost::system::error_code ec, int) {
    if (ec) return;
    int status = 0;
    pid_t pid = 0;
    std::vector<std::pair<pid_t, int>> exited;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
      if (children_.contains(pid)) exited.emplace_back(pid, status);
    }
    auto executorOfChild = [this](pid_t leader) -> std::pair<FrameworkRecord*, ExecutorRecord*> {
      const ExecutorKey& key = children_.at(leader);
      FrameworkRecord* fw = framework(key.first);
      ExecutorRecord* executor = fw != nullptr ? fw->executor(key.second) : nullptr;
      if (executor == nullptr || executor->pid != leader) return {nullptr, nullptr};
      return {fw, executor};
    };
    // Executors end in bursts: one pass over /proc for all their sessions.
    std::set<pid_t> sessions;
    for (const auto& [leader, ignored] : exited) sessions.insert(leader);
    const bool sessionsKilled = containerizer_->killSessions(sessions);
    for (const auto& [leader, waitStatus] : exited) {
      auto [fw, executor] = executorOfChild(leader);
      children_.erase(leader);
      if (executor == nullptr) continue;
      executor->sessionKilled = sessionsKilled || !sessions.contains(leader);
      executorExited(*fw, *executor, waitStatus);
    }
    watchChildren();
  });
}

void AgentDaemon::executorExited(FrameworkRecord& framework, ExecutorRecord& executor,
                                 std::optional<int> waitStatus) {
  const std::string how = waitStatus ? describeWaitStatus(*waitStatus) : std::string("exited while the agent was down");
  const ExecutorId executorId(executor.info.executor_id().value());
  spdlog::info("Executor {} of framework {} {}", executorId.value(), framework.id.value(), how);
  // An OOM kill may be why it ended (or may have hit a task it had not reported yet).
  if (executor.endReason != ExecutorRecord::EndReason::kHostRebooted) {
    enforceMemoryLimit(framework, executor);
    if (executor.supervised) finishSupervisedTask(framework, executor);
  }
  // Destroy the rest of the container: processes the executor left behind.
  destroyContainer(executor, executor.endReason != ExecutorRecord::EndReason::kHostRebooted);
  executor.pid = -1;
  if (executor.timer) executor.timer->cancel();
  if (executor.stream) executor.stream->close();
  executor.stream.reset();

  retireExecutor(framework, executor, orphanedTaskStatus(executor, how), waitStatus);
}

void AgentDaemon::retireExecutor(FrameworkRecord& framework, ExecutorRecord& executor, const OrphanStatus& orphan,
                                 std::optional<int> waitStatus) {
  const ExecutorId executorId(executor.info.executor_id().value());
  std::vector<TaskId> orphans;
  for (const auto& [taskId, task] : framework.tasks) {
    if (executorOf(task) == executorId && !isTerminalTaskState(task.state())) orphans.push_back(taskId);
  }
  for (const TaskId& taskId : orphans) generateStatus(framework, taskId, orphan.state, orphan.reason, orphan.message);
  // The master tracks custom executors only; command executors are the agent's business (as in Mesos).
  if (!executor.commandExecutor && !framework.terminating) {
    internal::AgentCall call;
    call.set_type(internal::AgentCall::EXECUTOR_EXITED);
    call.mutable_executor_exited()->mutable_framework_id()->set_value(framework.id.value());
    call.mutable_executor_exited()->mutable_executor_id()->set_value(executorId.value());
    if (waitStatus) call.mutable_executor_exited()->set_status(*waitStatus);
    sendToMaster(std::move(call));
  }
  if (framework.info.checkpoint()) {
    // Kept (marked) while its tasks still owe acknowledged updates; see completeTask.
    if (hasTasksOf(framework, executorId)) {
      checkpointOrLog(checkpointer_.markExecutorTerminated(agentId_, framework.id.value(), executorId.value()));
    } else {
      checkpointer_.removeExecutor(agentId_, framework.id.value(), executorId.value());
    }
  }
  scheduleSandboxGc(executor.directory);
  ++counters_.executorsTerminated;
  if (executor.endReason == ExecutorRecord::EndReason::kLaunchFailed) ++counters_.containerLaunchErrors;
  framework.completedExecutors.push_back(CompletedExecutor{executor.info, executor.containerId, executor.directory});
  while (framework.completedExecutors.size() > kMaxCompletedExecutorsPerFramework) {
    framework.completedExecutors.pop_front();
  }
  const FrameworkId frameworkId = framework.id;
  framework.executors.erase(executorId);  // `executor` is gone from here on
  if (framework.terminating && framework.executors.empty()) {
    removeFramework(frameworkId);
  } else {
    removeFrameworkIfIdle(frameworkId);
  }
}

AgentDaemon::OrphanStatus AgentDaemon::orphanedTaskStatus(const ExecutorRecord& executor,
                                                          const std::string& how) const {
  using Reason = v1::TaskStatus;
  switch (executor.endReason) {
    case ExecutorRecord::EndReason::kRegistrationTimeout:
      return {v1::TASK_FAILED, Reason::REASON_EXECUTOR_REGISTRATION_TIMEOUT,
              "Executor did not subscribe within " + formatDuration(flags_.executorRegistrationTimeout)};
    case ExecutorRecord::EndReason::kReregistrationTimeout:
      return {v1::TASK_FAILED, Reason::REASON_EXECUTOR_REREGISTRATION_TIMEOUT,
              "Executor did not re-subscribe within " + formatDuration(flags_.executorReregistrationTimeout) +
                  " of the agent's restart"};
    case ExecutorRecord::EndReason::kShutdown:
      return {v1::TASK_KILLED, Reason::REASON_EXECUTOR_TERMINATED, "Executor was shut down and " + how};
    case ExecutorRecord::EndReason::kRecoveryCleanup:
      return {v1::TASK_LOST, Reason::REASON_AGENT_RESTARTED, "Executor was killed by the agent's recovery (cleanup)"};
    case ExecutorRecord::EndReason::kHostRebooted:
      return {v1::TASK_LOST, Reason::REASON_AGENT_RESTARTED, "The agent's host rebooted"};
    case ExecutorRecord::EndReason::kSupervisorLost:
      return {v1::TASK_FAILED, Reason::REASON_EXECUTOR_TERMINATED, "The agent's task supervisor died"};
    case ExecutorRecord::EndReason::kMemoryLimit:
      return {v1::TASK_FAILED, Reason::REASON_CONTAINER_LIMITATION_MEMORY, "Memory limit exceeded; executor " + how};
    default:
      return {v1::TASK_FAILED, Reason::REASON_EXECUTOR_TERMINATED, "Executor " + how};
  }
}

void AgentDaemon::sendToExecutor(ExecutorRecord& executor, const v1::executor::Event& event) {
  if (!executor.stream) return;
  executor.stream->write(encodeRecord(encodeMessage(executor.mediaType, event)));
}

void AgentDaemon::generateStatus(FrameworkRecord& framework, const TaskId& taskId, v1::TaskState state,
                                 v1::TaskStatus::Reason reason, const std::string& message,
                                 const v1::TaskResourceLimitation* limitation) {
  v1::TaskStatus status;
  status.mutable_task_id()->set_value(taskId.value());
  status.set_state(state);
  status.set_source(v1::TaskStatus::SOURCE_AGENT);
  status.set_reason(reason);
  status.set_message(message);
  if (limitation != nullptr) *status.mutable_limitation() = *limitation;
  status.set_uuid(randomUuidBytes());
  status.set_timestamp(toEpochSeconds(clock_.now()));
  status.mutable_agent_id()->set_value(agentId_);
  if (const v1::Task* task = framework.task(taskId)) {
    if (task->has_executor_id()) *status.mutable_executor_id() = task->executor_id();
    if (ExecutorRecord* executor = framework.executor(executorOf(*task))) {
      status.mutable_container_status()->mutable_container_id()->set_value(executor->containerId);
    }
  }
  spdlog::info("Task {} of framework {} is {}: {}", taskId.value(), framework.id.value(), v1::TaskState_Name(state),
               message);
  recordStatus(framework, status, UpdateOrigin::kAgent);
}

AgentDaemon::Recorded AgentDaemon::recordStatus(FrameworkRecord& framework, const v1::TaskStatus& status,
                                                UpdateOrigin origin) {
  v1::Task* task = framework.task(TaskId(status.task_id().value()));
  // The master forgot a terminating framework: nobody would acknowledge.
  const bool forwarded = !framework.terminating;
  if (forwarded && statusUpdates_.isDuplicate(framework.id, status)) return Recorded::kDuplicate;
  // Written before the executor is acknowledged and before the master
  // hears of it: a restarted agent resends it.
  if (task != nullptr && framework.info.checkpoint()) {
    Status written = checkpointer_.appendUpdate(agentId_, framework.id.value(), executorOf(*task).value(), status);
    if (!written && origin == UpdateOrigin::kExecutor) {
      spdlog::error("Not acknowledging {} of task {}: checkpointing it failed: {}", v1::TaskState_Name(status.state()),
                    status.task_id().value(), written.message());
      return Recorded::kNotDurable;
    }
    checkpointOrLog(written);
  }
  if (forwarded) statusUpdates_.add(framework.id, status);
  ++counters_.validStatusUpdates;
  if (task != nullptr && isTerminalTaskState(status.state()) && !isTerminalTaskState(task->state())) {
    ++counters_.terminalTasks[status.state()];
  }
  if (task != nullptr) {
    task->set_state(status.state());
    auto* statuses = task->mutable_statuses();
    *statuses->Add() = status;
    if (statuses->size() > kMaxStatusesPerTask) statuses->DeleteSubrange(0, statuses->size() - kMaxStatusesPerTask);
  }
  flushStatusUpdates();
  return Recorded::kYes;
}

bool AgentDaemon::hasTasksOf(const FrameworkRecord& framework, const ExecutorId& executor) const {
  return std::any_of(framework.tasks.begin(), framework.tasks.end(),
                     [&](const auto& entry) { return executorOf(entry.second) == executor; });
}

void AgentDaemon::completeTask(FrameworkRecord& framework, const TaskId& taskId) {
  auto it = framework.tasks.find(taskId);
  if (it == framework.tasks.end()) return;
  const ExecutorId executorId = executorOf(it->second);
  framework.completedTasks.push_back(std::move(it->second));
  framework.tasks.erase(it);
  while (framework.completedTasks.size() > kMaxCompletedTasksPerFramework) framework.completedTasks.pop_front();
  if (framework.info.checkpoint()) {
    checkpointer_.removeTask(agentId_, framework.id.value(), executorId.value(), taskId.value());
    if (framework.executor(executorId) == nullptr && !hasTasksOf(framework, executorId)) {
      checkpointer_.removeExecutor(agentId_, framework.id.value(), executorId.value());
    }
  }
}

void AgentDaemon::removeFrameworkIfIdle(const FrameworkId& id) {
  FrameworkRecord* fw = framework(id);
  if (fw == nullptr || !fw->executors.empty() || !fw->tasks.empty() || statusUpdates_.hasPending(id)) return;
  removeFramework(id);
}

void AgentDaemon::removeFramework(const FrameworkId& id) {
  auto it = frameworks_.find(id);
  if (it == frameworks_.end()) return;
  FrameworkRecord& fw = *it->second;
  spdlog::info("Removing framework {}", id.value());
  CompletedFramework completed;
  completed.info = fw.info;
  completed.completedExecutors = std::move(fw.completedExecutors);
  completed.completedTasks = std::move(fw.completedTasks);
  for (auto& [taskId, task] : fw.tasks) {
    if (!isTerminalTaskState(task.state())) task.set_state(v1::TASK_KILLED);
    completed.completedTasks.push_back(std::move(task));
  }
  while (completed.completedTasks.size() > kMaxCompletedTasksPerFramework) completed.completedTasks.pop_front();
  completedFrameworks_.push_back(std::move(completed));
  while (completedFrameworks_.size() > kMaxCompletedFrameworks) completedFrameworks_.pop_front();
  statusUpdates_.removeFramework(id);
  if (fw.info.checkpoint()) checkpointer_.removeFramework(agentId_, id.value());
  frameworks_.erase(it);
}

}  // namespace mezzo::agent
