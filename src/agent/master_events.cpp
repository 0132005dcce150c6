// What the agent does with each AgentEvent the master sends.
#include <spdlog/spdlog.h>

#include "agent/agent_daemon.hpp"

namespace mezzo::agent {

namespace {

bool partitionAware(const v1::FrameworkInfo& info) {
  for (const auto& capability : info.capabilities()) {
    if (capability.type() == v1::FrameworkInfo::Capability::PARTITION_AWARE) return true;
  }
  return false;
}

bool multiRole(const v1::FrameworkInfo& info) {
  for (const auto& capability : info.capabilities()) {
    if (capability.type() == v1::FrameworkInfo::Capability::MULTI_ROLE) return true;
  }
  return false;
}

// Resources of a task of a framework without MULTI_ROLE may come without
// allocation_info; like the Mesos agent, give them the framework's role so
// that re-registration reports what the master allocated.
void injectAllocationRole(const v1::FrameworkInfo& info, v1::TaskInfo* task) {
  if (multiRole(info)) return;
  auto inject = [&](ResourceProtos* resources) {
    for (v1::Resource& resource : *resources) {
      if (!resource.has_allocation_info()) resource.mutable_allocation_info()->set_role(info.role());
    }
  };
  inject(task->mutable_resources());
  if (task->has_executor()) inject(task->mutable_executor()->mutable_resources());
}


}  // namespace

v1::Task taskRecordFor(const v1::TaskInfo& info, const FrameworkRecord& framework, const std::string& agentId) {
  v1::Task task;
  task.set_name(info.name());
  *task.mutable_task_id() = info.task_id();
  task.mutable_framework_id()->set_value(framework.id.value());
  if (info.has_executor()) *task.mutable_executor_id() = info.executor().executor_id();
  task.mutable_agent_id()->set_value(agentId);
  task.set_state(v1::TASK_STAGING);
  *task.mutable_resources() = info.resources();
  if (info.has_labels()) *task.mutable_labels() = info.labels();
  if (info.has_kill_policy()) *task.mutable_kill_policy() = info.kill_policy();
  if (info.has_health_check()) *task.mutable_health_check() = info.health_check();
  task.set_user(info.has_command() && info.command().has_user() ? info.command().user() : framework.info.user());
  *task.mutable_limits() = info.limits();
  return task;
}

void AgentDaemon::handleMasterEvent(const internal::AgentEvent& event) {
  using Event = internal::AgentEvent;
  switch (event.type()) {
    case Event::REGISTERED:
      if (event.has_registered()) return onRegistered(event.registered());
      break;
    case Event::RUN_TASK:
      if (event.has_run_task()) return runTask(event.run_task());
      break;
    case Event::KILL_TASK:
      if (event.has_kill_task()) return killTask(event.kill_task());
      break;
    case Event::ACKNOWLEDGE_UPDATE:
      if (event.has_acknowledge_update()) return acknowledgeUpdate(event.acknowledge_update());
      break;
    case Event::SHUTDOWN_FRAMEWORK:
      if (event.has_shutdown_framework()) {
        return shutdownFramework(FrameworkId(event.shutdown_framework().framework_id().value()));
      }
      break;
    case Event::SHUTDOWN_EXECUTOR:
      if (event.has_shutdown_executor()) {
        const auto& shutdown = event.shutdown_executor();
        FrameworkRecord* fw = framework(FrameworkId(shutdown.framework_id().value()));
        ExecutorRecord* executor = fw != nullptr ? fw->executor(ExecutorId(shutdown.executor_id().value())) : nullptr;
        if (executor == nullptr) {
          spdlog::warn("Cannot shut down unknown executor {}", shutdown.executor_id().value());
          return;
        }
        return shutdownExecutor(*fw, *executor, ExecutorRecord::EndReason::kShutdown);
      }
      break;
    case Event::FRAMEWORK_MESSAGE:
      if (event.has_framework_message()) return frameworkMessage(event.framework_message());
      break;
    case Event::RUN_TASK_GROUP:
      if (event.has_run_task_group()) return runTaskGroup(event.run_task_group());
      break;
    case Event::HEARTBEAT:
      return;
    case Event::SHUTDOWN:
      return shutdownByMaster(event.has_shutdown() ? event.shutdown().message() : "no reason given");
    case Event::PING: {
      // The master marks agents that stop answering unreachable.
      internal::AgentCall pong;
      pong.set_type(internal::AgentCall::PONG);
      return sendToMaster(std::move(pong));
    }
    default:
      spdlog::warn("Ignoring unknown event type {} from the master", static_cast<int>(event.type()));
      return;
  }
  spdlog::warn("Ignoring {} event without its payload", Event::Type_Name(event.type()));
}

void AgentDaemon::onRegistered(const internal::AgentEvent::Registered& registered) {
  if (registered_) return;
  const std::string& id = registered.agent_id().value();
  if (!agentId_.empty() && agentId_ != id) {
    spdlog::warn("Master assigned agent id {} instead of {}", id, agentId_);
  }
  spdlog::info("{} with master {} as agent {}", agentId_.empty() ? "Registered" : "Re-registered",
               master_.toString(), id);
  agentId_ = id;
  info_.mutable_id()->set_value(id);
  registered_ = true;
  checkpointOrLog(checkpointer_.writeAgent(info_));
  reconnectBackoff_ = Duration::zero();
  if (registered.heartbeat_interval_seconds() > 0) {
    masterHeartbeatInterval_ = secondsToDuration(registered.heartbeat_interval_seconds());
  }
  watchMasterHeartbeats();
  statusUpdates_.resetInFlight();
  flushStatusUpdates();
}

void AgentDaemon::runTask(const internal::AgentEvent::RunTask& run) {
  v1::TaskInfo task = run.task();
  injectAllocationRole(run.framework_info(), &task);
  if (!run.framework_info().has_id()) {
    spdlog::error("RUN_TASK for task {} without a framework id; ignoring it", task.task_id().value());
    return;
  }
  FrameworkRecord& fw = frameworkFor(run.framework_info());
  const FrameworkId& frameworkId = fw.id;
  TaskId taskId(task.task_id().value());
  if (fw.terminating) {
    spdlog::warn("Dropping task {} of terminating framework {}", taskId.value(), frameworkId.value());
    return;
  }
  if (fw.tasks.contains(taskId)) {
    spdlog::warn("Ignoring duplicate RUN_TASK for task {} of framework {}", taskId.value(), frameworkId.value());
    return;
  }
  spdlog::info("Got task {} of framework {}", taskId.value(), frameworkId.value());
  fw.tasks[taskId] = taskRecordFor(task, fw, agentId_);

  const bool command = !task.has_executor();
  v1::ExecutorInfo info = command ? commandExecutorInfo(fw, task) : task.executor();
  if (Status written = checkpointLaunch(fw, info, {task}); !written) {
    generateStatus(fw, taskId, v1::TASK_FAILED, v1::TaskStatus::REASON_CONTAINER_LAUNCH_FAILED,
                   "Failed to checkpoint the task: " + written.message());
    return;
  }
  ExecutorRecord* executor = fw.executor(ExecutorId(info.executor_id().value()));
  if (executor != nullptr && command) {
    // A command executor runs one task, named after it; the id is taken.
    generateStatus(fw, taskId, v1::TASK_FAILED, v1::TaskStatus::REASON_TASK_INVALID,
                   "An executor named after task " + taskId.value() + " is still running");
    return;
  }
  if (executor != nullptr && executor->state == ExecutorRecord::State::kTerminating) {
    generateStatus(fw, taskId, partitionAware(fw.info) ? v1::TASK_DROPPED : v1::TASK_LOST,
                   v1::TaskStatus::REASON_EXECUTOR_TERMINATED, "Executor is terminating");
    return;
  }
  if (executor == nullptr) {
    auto launched =
        launchExecutor(fw, info, command, fetchPlanForTask(fw, task), runsSupervised(task) ? &task : nullptr);
    if (!launched) {
      spdlog::error("Failed to launch executor {}: {}", info.executor_id().value(), launched.error());
      ++counters_.containerLaunchErrors;
      generateStatus(fw, taskId, v1::TASK_FAILED, v1::TaskStatus::REASON_CONTAINER_LAUNCH_FAILED,
                     "Failed to launch the executor: " + launched.error());
      if (!command) {
        internal::AgentCall call;
        call.set_type(internal::AgentCall::EXECUTOR_EXITED);
        call.mutable_executor_exited()->mutable_framework_id()->set_value(frameworkId.value());
        *call.mutable_executor_exited()->mutable_executor_id() = info.executor_id();
        sendToMaster(std::move(call));
      }
      return;
    }
    executor = *launched;
  }
  deliverTask(fw, *executor, task);
}

Status AgentDaemon::checkpointLaunch(const FrameworkRecord& framework, const v1::ExecutorInfo& executor,
                                     const std::vector<v1::TaskInfo>& tasks) {
  if (!framework.info.checkpoint()) return Status::ok();
  Status written = checkpointer_.writeFramework(agentId_, framework.info);
  for (size_t i = 0; written && i < tasks.size(); ++i) {
    written = checkpointer_.writeTask(agentId_, framework.id.value(), executor.executor_id().value(), tasks[i]);
  }
  if (!written) spdlog::error("Not launching: {}", written.message());
  return written;
}

FrameworkRecord& AgentDaemon::frameworkFor(const v1::FrameworkInfo& info) {
  FrameworkId frameworkId(info.id().value());
  auto& slot = frameworks_[frameworkId];
  if (!slot) {
    slot = std::make_unique<FrameworkRecord>();
    slot->id = frameworkId;
  }
  slot->info = info;
  return *slot;
}

void AgentDaemon::runTaskGroup(const internal::AgentEvent::RunTaskGroup& run) {
  if (!run.framework_info().has_id()) {
    spdlog::error("RUN_TASK_GROUP without a framework id; ignoring it");
    return;
  }
  FrameworkRecord& fw = frameworkFor(run.framework_info());
  v1::ExecutorInfo info = run.executor();
  info.mutable_framework_id()->set_value(fw.id.value());
  v1::TaskGroupInfo group = run.task_group();
  std::vector<TaskId> taskIds;
  for (v1::TaskInfo& task : *group.mutable_tasks()) {
    injectAllocationRole(run.framework_info(), &task);
    // The group's tasks belong to its executor (Task.executor_id), as in Mesos.
    TaskId taskId(task.task_id().value());
    if (fw.terminating || fw.tasks.contains(taskId)) {
      spdlog::warn("Dropping task group with task {} of framework {}: {}", taskId.value(), fw.id.value(),
                   fw.terminating ? "framework is terminating" : "duplicate task");
      return;
    }
    taskIds.push_back(taskId);
  }
  spdlog::info("Got task group of {} tasks for executor {} of framework {}", taskIds.size(),
               info.executor_id().value(), fw.id.value());
  for (const v1::TaskInfo& task : group.tasks()) {
    v1::Task record = taskRecordFor(task, fw, agentId_);
    *record.mutable_executor_id() = info.executor_id();
    fw.tasks[TaskId(task.task_id().value())] = std::move(record);
  }
  auto failAll = [&](v1::TaskState state, v1::TaskStatus::Reason reason, const std::string& message) {
    for (const TaskId& taskId : taskIds) generateStatus(fw, taskId, state, reason, message);
  };
  std::vector<v1::TaskInfo> checkpointed(group.tasks().begin(), group.tasks().end());
  for (v1::TaskInfo& task : checkpointed) {
    *task.mutable_executor() = info;  // recovery finds the task's executor from it
  }
  if (Status written = checkpointLaunch(fw, info, checkpointed); !written) {
    return failAll(v1::TASK_FAILED, v1::TaskStatus::REASON_CONTAINER_LAUNCH_FAILED,
                   "Failed to checkpoint the task group: " + written.message());
  }
  ExecutorRecord* executor = fw.executor(ExecutorId(info.executor_id().value()));
  if (executor != nullptr && executor->state == ExecutorRecord::State::kTerminating) {
    return failAll(partitionAware(fw.info) ? v1::TASK_DROPPED : v1::TASK_LOST,
                   v1::TaskStatus::REASON_EXECUTOR_TERMINATED, "Executor is terminating");
  }
  if (std::string reason = unsupportedInGroup(group); !reason.empty()) {
    spdlog::warn("Refusing a task group of framework {}: {}", fw.id.value(), reason);
    return failAll(v1::TASK_FAILED, v1::TaskStatus::REASON_CONTAINER_LAUNCH_FAILED, reason);
  }
  if (executor == nullptr) {
    auto launched = launchExecutor(fw, info, false, fetchPlanForGroup(fw, info, group));
    if (!launched) {
      spdlog::error("Failed to launch default executor {}: {}", info.executor_id().value(), launched.error());
      ++counters_.containerLaunchErrors;
      failAll(v1::TASK_FAILED, v1::TaskStatus::REASON_CONTAINER_LAUNCH_FAILED,
              "Failed to launch the executor: " + launched.error());
      internal::AgentCall call;
      call.set_type(internal::AgentCall::EXECUTOR_EXITED);
      call.mutable_executor_exited()->mutable_framework_id()->set_value(fw.id.value());
      *call.mutable_executor_exited()->mutable_executor_id() = info.executor_id();
      return sendToMaster(std::move(call));
    }
    executor = *launched;
  } else if (FetchPlan plan = fetchPlanForGroup(fw, v1::ExecutorInfo(), group); !plan.uris.empty()) {
    return fetchForGroup(fw, *executor, group, plan);  // delivered once fetched
  }
  deliverTaskGroup(fw, *executor, group);
}

void AgentDaemon::killTask(const internal::AgentEvent::KillTask& kill) {
  FrameworkRecord* fw = framework(FrameworkId(kill.framework_id().value()));
  TaskId taskId(kill.task_id().value());
  v1::Task* task = fw != nullptr ? fw->task(taskId) : nullptr;
  if (task == nullptr) {
    spdlog::warn("Cannot kill unknown task {} of framework {}", taskId.value(), kill.framework_id().value());
    return;
  }
  if (isTerminalTaskState(task->state())) return;
  ExecutorRecord* executor = fw->executor(executorOf(*task));
  if (executor == nullptr) {
    generateStatus(*fw, taskId, v1::TASK_KILLED, v1::TaskStatus::REASON_EXECUTOR_TERMINATED,
                   "Killed: its executor is gone");
    return;
  }
  if (executor->supervised && executor->state != ExecutorRecord::State::kFetching) {
    std::optional<v1::KillPolicy> policy;
    if (kill.has_kill_policy()) policy = kill.kill_policy();
    return killSupervisedTask(*fw, *executor, policy, std::nullopt);
  }
  if (executor->supervised) {
    // Still fetching its URIs: it dies without a launch.
    return shutdownExecutor(*fw, *executor, ExecutorRecord::EndReason::kShutdown);
  }
  auto isKilled = [&](const v1::TaskInfo& info) { return info.task_id().value() == taskId.value(); };
  auto queued = std::find_if(executor->queuedTasks.begin(), executor->queuedTasks.end(), isKilled);
  // While fetching, a queued group dies whole, as its default executor would kill it.
  auto queuedGroup =
      std::find_if(executor->queuedGroups.begin(), executor->queuedGroups.end(), [&](const v1::TaskGroupInfo& group) {
        return executor->state == ExecutorRecord::State::kFetching &&
               std::any_of(group.tasks().begin(), group.tasks().end(), isKilled);
      });
  if (killFetchingGroup(*fw, *executor, taskId)) return;
  if (queued != executor->queuedTasks.end() || queuedGroup != executor->queuedGroups.end()) {
    // Never delivered: the agent answers for the executor.
    std::vector<TaskId> killed{taskId};
    if (queued != executor->queuedTasks.end()) {
      executor->queuedTasks.erase(queued);
    } else {
      killed.clear();
      for (const v1::TaskInfo& info : queuedGroup->tasks()) killed.emplace_back(info.task_id().value());
      executor->queuedGroups.erase(queuedGroup);
    }
    for (const TaskId& id : killed) {
      generateStatus(*fw, id, v1::TASK_KILLED, v1::TaskStatus::REASON_TASK_KILLED_DURING_LAUNCH,
                     "Killed before delivery to the executor");
    }
    bool idle = executor->queuedTasks.empty() && executor->queuedGroups.empty();
    for (const TaskId& launched : executor->launchedTasks) {
      const v1::Task* other = fw->task(launched);
      if (other != nullptr && !isTerminalTaskState(other->state())) idle = false;
    }
    if (idle) shutdownExecutor(*fw, *executor, ExecutorRecord::EndReason::kShutdown);
    return;
  }
  if (executor->state == ExecutorRecord::State::kTerminating) return;  // being killed anyway
  if (!executor->subscribed()) {
    executor->pendingKills[taskId] = kill.kill_policy();
    return;
  }
  v1::executor::Event event;
  event.set_type(v1::executor::Event::KILL);
  *event.mutable_kill()->mutable_task_id() = kill.task_id();
  if (kill.has_kill_policy()) *event.mutable_kill()->mutable_kill_policy() = kill.kill_policy();
  sendToExecutor(*executor, event);
}

void AgentDaemon::acknowledgeUpdate(const internal::AgentEvent::AcknowledgeUpdate& ack) {
  FrameworkId frameworkId(ack.framework_id().value());
  TaskId taskId(ack.task_id().value());
  auto result = statusUpdates_.acknowledge(frameworkId, taskId, ack.uuid());
  if (result == StatusUpdateManager::AckResult::kIgnored) {
    spdlog::debug("Ignoring acknowledgement {} for task {}: not the outstanding update",
                  uuidBytesToString(ack.uuid()), taskId.value());
    return;
  }
  FrameworkRecord* acked = framework(frameworkId);
  if (acked != nullptr && acked->info.checkpoint()) {
    if (const v1::Task* task = acked->task(taskId)) {
      checkpointOrLog(checkpointer_.appendAcknowledgement(agentId_, frameworkId.value(), executorOf(*task).value(),
                                                          taskId.value(), ack.uuid()));
    }
  }
  if (result == StatusUpdateManager::AckResult::kStreamFinished) {
    if (FrameworkRecord* fw = framework(frameworkId)) completeTask(*fw, taskId);
    removeFrameworkIfIdle(frameworkId);
  }
  flushStatusUpdates();
}

void AgentDaemon::shutdownFramework(const FrameworkId& id) {
  FrameworkRecord* fw = framework(id);
  if (fw == nullptr) return;
  spdlog::info("Shutting down framework {}", id.value());
  fw->terminating = true;
  statusUpdates_.removeFramework(id);  // the master forgot it: nobody will acknowledge
  if (fw->executors.empty()) return removeFramework(id);
  for (auto& [executorId, executor] : fw->executors) {
    shutdownExecutor(*fw, *executor, ExecutorRecord::EndReason::kShutdown);
  }
}

void AgentDaemon::frameworkMessage(const internal::AgentEvent::FrameworkMessage& message) {
  FrameworkRecord* fw = framework(FrameworkId(message.framework_id().value()));
  ExecutorRecord* executor = fw != nullptr ? fw->executor(ExecutorId(message.executor_id().value())) : nullptr;
  if (executor == nullptr || !executor->subscribed()) {
    spdlog::warn("Dropping framework message for executor {}: not subscribed", message.executor_id().value());
    ++counters_.invalidFrameworkMessages;
    return;
  }
  ++counters_.validFrameworkMessages;
  v1::executor::Event event;
  event.set_type(v1::executor::Event::MESSAGE);
  event.mutable_message()->set_data(message.data());
  sendToExecutor(*executor, event);
}

}  // namespace mezzo::agent
