// Task bookkeeping of MasterCore: status updates from agents, forwarding to
// frameworks, acknowledgements, kills, reconciliation, executor messages.
#include <spdlog/spdlog.h>

#include "master/master_core.hpp"

namespace mezzo::master {

using Call = v1::scheduler::Call;

void MasterCore::recordStatus(TaskRecord& task, const v1::TaskStatus& status) {
  task.task.set_state(status.state());
  auto* statuses = task.task.mutable_statuses();
  *statuses->Add() = status;
  if (statuses->size() > 10) statuses->DeleteSubrange(0, statuses->size() - 10);
}

void MasterCore::forwardStatus(FrameworkRecord& framework, v1::TaskStatus status) {
  auto adapted = adaptStatusForFramework(framework, std::move(status));
  if (!adapted) return;
  v1::scheduler::Event event;
  event.set_type(v1::scheduler::Event::UPDATE);
  *event.mutable_update()->mutable_status() = std::move(*adapted);
  sendToFramework(framework, std::move(event));
}

void MasterCore::releaseTaskResources(FrameworkRecord& framework, TaskRecord& task, TimePoint now) {
  if (task.resourcesReleased) return;
  task.resourcesReleased = true;
  allocator_.recoverResources(framework.id, AgentId(task.task.agent_id().value()), task.resources, std::nullopt, now);
  allocationWanted_ = true;
}

void MasterCore::completeTask(FrameworkRecord& framework, const TaskId& taskId) {
  auto it = framework.tasks.find(taskId);
  if (it == framework.tasks.end()) return;
  AgentId agentId(it->second.task.agent_id().value());
  if (auto agent = agents_.find(agentId); agent != agents_.end()) {
    agent->second->tasks.erase({framework.id, taskId});
  }
  framework.completedTasks.push_back(std::move(it->second.task));
  while (framework.completedTasks.size() > options_.maxCompletedTasksPerFramework) {
    framework.completedTasks.pop_front();
  }
  framework.tasks.erase(it);
}

void MasterCore::statusUpdate(const internal::AgentCall::StatusUpdate& update, AgentRecord& agent, TimePoint now) {
  FrameworkId frameworkId(update.framework_id().value());
  TaskId taskId(update.status().task_id().value());
  auto frameworkIt = frameworks_.find(frameworkId);
  if (frameworkIt == frameworks_.end()) {
    ++counters_.invalidStatusUpdates;
    spdlog::warn("Status update for task {} of unknown framework {} from agent {}", taskId.value(),
                 frameworkId.value(), agent.id.value());
    return;
  }
  FrameworkRecord& framework = *frameworkIt->second;
  auto taskIt = framework.tasks.find(taskId);
  if (taskIt == framework.tasks.end()) {
    ++counters_.invalidStatusUpdates;
    spdlog::warn("Status update for unknown task {} of framework {}", taskId.value(), frameworkId.value());
    return;
  }
  ++counters_.validStatusUpdates;
  TaskRecord& task = taskIt->second;
  const v1::TaskStatus& status = update.status();
  const bool wasTerminal = isTerminalState(task.task.state());
  // Retries of an update already seen carry the same uuid: state does not move again.
  const bool duplicate = task.task.has_status_update_uuid() && status.has_uuid() &&
                         task.task.status_update_uuid() == status.uuid();
  if (!duplicate && !wasTerminal) {
    recordStatus(task, status);
    if (isTerminalState(status.state())) {
      ++counters_.terminalTasks[v1::TaskState_Name(status.state())];
      releaseTaskResources(framework, task, now);
    }
  }
  if (status.has_uuid()) {
    task.task.set_status_update_state(status.state());
    task.task.set_status_update_uuid(status.uuid());
  }
  forwardStatus(framework, status);
}

Status MasterCore::acknowledge(FrameworkRecord& framework, const Call::Acknowledge& ack, TimePoint now) {
  if (ack.uuid().size() != 16) {
    return Status::invalidArgument("Failed to parse 'acknowledge.uuid': not a 16-byte UUID");
  }
  ++counters_.statusUpdateAcknowledgements;
  AgentId agentId(ack.agent_id().value());
  TaskId taskId(ack.task_id().value());
  auto agent = agents_.find(agentId);
  if (agent == agents_.end()) {
    return Status::invalidArgument("Cannot acknowledge for agent " + agentId.value() + ": not registered");
  }
  internal::AgentEvent event;
  event.set_type(internal::AgentEvent::ACKNOWLEDGE_UPDATE);
  auto* forward = event.mutable_acknowledge_update();
  forward->mutable_framework_id()->set_value(framework.id.value());
  *forward->mutable_task_id() = ack.task_id();
  forward->set_uuid(ack.uuid());
  sendToAgent(*agent->second, std::move(event));

  auto task = framework.tasks.find(taskId);
  if (task != framework.tasks.end() && task->second.task.status_update_uuid() == ack.uuid() &&
      isTerminalState(task->second.task.status_update_state())) {
    completeTask(framework, taskId);
  }
  return Status::ok();
}

std::optional<v1::TaskStatus> MasterCore::reconciledStatus(const FrameworkRecord& framework, const TaskId& taskId,
                                                           std::optional<AgentId> agentId, TimePoint now) const {
  auto task = framework.tasks.find(taskId);
  if (task != framework.tasks.end()) {
    const v1::Task& known = task->second.task;
    v1::TaskState state = known.has_status_update_state() ? known.status_update_state() : known.state();
    v1::TaskStatus status = masterTaskStatus(taskId, state, v1::TaskStatus::REASON_RECONCILIATION,
                                             "Reconciliation: Latest task state", now);
    *status.mutable_agent_id() = known.agent_id();
    if (known.statuses_size() > 0) {
      const v1::TaskStatus& latest = known.statuses(known.statuses_size() - 1);
      if (latest.has_healthy()) status.set_healthy(latest.healthy());
      if (latest.has_check_status()) *status.mutable_check_status() = latest.check_status();
      if (latest.has_container_status()) *status.mutable_container_status() = latest.container_status();
    }
    return status;
  }
  for (const v1::Task& completed : framework.completedTasks) {
    if (completed.task_id().value() == taskId.value()) {
      v1::TaskStatus status = masterTaskStatus(taskId, completed.state(), v1::TaskStatus::REASON_RECONCILIATION,
                                               "Reconciliation: Task is terminal", now);
      *status.mutable_agent_id() = completed.agent_id();
      return status;
    }
  }
  // A task of an unreachable agent: the master remembers where it ran even
  // if the framework does not say.
  if (!agentId) {
    for (const v1::Task& unreachable : framework.unreachableTasks) {
      if (unreachable.task_id().value() == taskId.value()) agentId = AgentId(unreachable.agent_id().value());
    }
  }
  return reconciledUnknownTask(taskId, agentId, now);
}

// A task the master does not know (as live or completed): the answer
// depends on what the master knows of the agent. No answer while the agent
// may still re-register after a failover (Mesos semantics: better silence
// than a wrong answer).
std::optional<v1::TaskStatus> MasterCore::reconciledUnknownTask(const TaskId& taskId,
                                                                const std::optional<AgentId>& agentId,
                                                                TimePoint now) const {
  if (agentId ? recoveredAgents_.contains(*agentId) : !recoveredAgents_.empty()) return std::nullopt;
  v1::TaskStatus status;
  if (agentId && agents_.contains(*agentId)) {
    status = masterTaskStatus(taskId, v1::TASK_GONE, v1::TaskStatus::REASON_RECONCILIATION,
                              "Reconciliation: Task is unknown to the agent", now);
  } else if (auto unreachable = agentId ? registry_.unreachable().find(*agentId) : registry_.unreachable().end();
             unreachable != registry_.unreachable().end()) {
    status = masterTaskStatus(taskId, v1::TASK_UNREACHABLE, v1::TaskStatus::REASON_RECONCILIATION,
                              "Reconciliation: Task is unreachable", now);
    status.mutable_unreachable_time()->set_nanoseconds(unreachable->second.since.time_since_epoch().count());
  } else if (agentId && registry_.gone().contains(*agentId)) {
    status = masterTaskStatus(taskId, v1::TASK_GONE_BY_OPERATOR, v1::TaskStatus::REASON_RECONCILIATION,
                              "Reconciliation: Task is gone", now);
  } else {
    status = masterTaskStatus(taskId, v1::TASK_UNKNOWN, v1::TaskStatus::REASON_RECONCILIATION,
                              "Reconciliation: Task is unknown", now);
  }
  if (agentId) status.mutable_agent_id()->set_value(agentId->value());
  return status;
}

Status MasterCore::reconcile(FrameworkRecord& framework, const Call::Reconcile& reconcile, TimePoint now) {
  if (reconcile.tasks_size() == 0) {
    // Implicit: every task the master knows for this framework.
    std::vector<TaskId> ids;
    for (const auto& [id, task] : framework.tasks) ids.push_back(id);
    for (const TaskId& id : ids) {
      if (auto status = reconciledStatus(framework, id, std::nullopt, now)) forwardStatus(framework, *status);
    }
    return Status::ok();
  }
  for (const auto& entry : reconcile.tasks()) {
    std::optional<AgentId> agentId;
    if (entry.has_agent_id()) agentId = AgentId(entry.agent_id().value());
    if (auto status = reconciledStatus(framework, TaskId(entry.task_id().value()), agentId, now)) {
      forwardStatus(framework, *status);
    }
  }
  return Status::ok();
}

Status MasterCore::kill(FrameworkRecord& framework, const Call::Kill& kill, TimePoint now) {
  TaskId taskId(kill.task_id().value());
  auto task = framework.tasks.find(taskId);
  if (task == framework.tasks.end() || isTerminalState(task->second.task.state())) {
    std::optional<AgentId> agentId;
    if (kill.has_agent_id()) agentId = AgentId(kill.agent_id().value());
    if (task == framework.tasks.end()) {
      if (auto status = reconciledStatus(framework, taskId, agentId, now)) forwardStatus(framework, *status);
    }
    return Status::ok();
  }
  auto agent = agents_.find(AgentId(task->second.task.agent_id().value()));
  if (agent == agents_.end()) return Status::ok();
  internal::AgentEvent event;
  event.set_type(internal::AgentEvent::KILL_TASK);
  auto* forward = event.mutable_kill_task();
  forward->mutable_framework_id()->set_value(framework.id.value());
  *forward->mutable_task_id() = kill.task_id();
  if (kill.has_kill_policy()) {
    *forward->mutable_kill_policy() = kill.kill_policy();
  } else if (task->second.task.has_kill_policy()) {
    *forward->mutable_kill_policy() = task->second.task.kill_policy();
  }
  sendToAgent(*agent->second, std::move(event));
  return Status::ok();
}

Status MasterCore::sendFrameworkMessage(FrameworkRecord& framework, const Call::Message& message) {
  auto agent = agents_.find(AgentId(message.agent_id().value()));
  if (agent == agents_.end()) {
    ++counters_.droppedMessages;
    return Status::ok();  // best effort, as in Mesos
  }
  internal::AgentEvent event;
  event.set_type(internal::AgentEvent::FRAMEWORK_MESSAGE);
  auto* forward = event.mutable_framework_message();
  forward->mutable_framework_id()->set_value(framework.id.value());
  *forward->mutable_executor_id() = message.executor_id();
  forward->set_data(message.data());
  sendToAgent(*agent->second, std::move(event));
  return Status::ok();
}

Status MasterCore::shutdownExecutor(FrameworkRecord& framework, const Call::Shutdown& shutdown) {
  auto agent = agents_.find(AgentId(shutdown.agent_id().value()));
  if (agent == agents_.end()) return Status::ok();
  internal::AgentEvent event;
  event.set_type(internal::AgentEvent::SHUTDOWN_EXECUTOR);
  event.mutable_shutdown_executor()->mutable_framework_id()->set_value(framework.id.value());
  *event.mutable_shutdown_executor()->mutable_executor_id() = shutdown.executor_id();
  sendToAgent(*agent->second, std::move(event));
  return Status::ok();
}

}  // namespace mezzo::master
