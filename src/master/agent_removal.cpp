// Removing agents from MasterCore: the operator's MARK_AGENT_GONE, and the
// removal shared by unreachable and gone agents.
//
// Marking gone follows the order of marking unreachable (agent_health.cpp):
// the registry write (MarkAgentGone) comes first and nothing is said to
// anyone before it is durable; then offers are rescinded, the agent leaves
// the allocator, each of its tasks is reported TASK_GONE_BY_OPERATOR
// (REASON_AGENT_REMOVED_BY_OPERATOR, SOURCE_MASTER; TASK_LOST to frameworks
// that are not PARTITION_AWARE), frameworks get a FAILURE event, and a
// connected agent gets SHUTDOWN before its stream is closed. Tasks of an
// agent that was already unreachable move from unreachable_tasks to
// completed tasks; only PARTITION_AWARE frameworks are told (the others
// were told TASK_LOST, terminal for them, when it became unreachable).
// Gone is final: registerAgent() refuses the id for good.
#include <spdlog/spdlog.h>

#include "master/master_core.hpp"

namespace mezzo::master {

Result<std::optional<uint64_t>> MasterCore::markAgentGone(const AgentId& id, TimePoint now) {
  if (id.value().empty()) return Status::invalidArgument("Expecting 'mark_agent_gone.agent_id' to be present");
  if (registry_.gone().contains(id)) {
    spdlog::info("Agent {} is already gone", id.value());
    return std::optional<uint64_t>();
  }
  if (auto marking = markingGone_.find(id); marking != markingGone_.end()) {
    return std::optional<uint64_t>(marking->second);
  }
  if (!registry_.admitted().contains(id) && !registry_.unreachable().contains(id)) {
    for (const auto& [ticket, admission] : pendingAdmissions_) {
      if (admission.id == id) return Status::unavailable("Agent " + id.value() + " is being admitted; retry later");
    }
    return Status::invalidArgument("Agent " + id.value() + " is not known to this master");
  }
  // Queued for marking unreachable: that no longer matters. Being written
  // unreachable: the gone write follows it and applies after it.
  cancelScheduledUnreachable(id);
  if (agents_.contains(id)) allocator_.deactivateAgent(id);  // no new offers meanwhile
  spdlog::warn("Marking agent {} gone (operator request)", id.value());
  uint64_t ticket = persist(store::markAgentGone(id, now));
  goneWrites_[ticket] = id;
  markingGone_[id] = ticket;
  return std::optional<uint64_t>(ticket);
}

void MasterCore::goneWriteDone(uint64_t ticket, const Status& status, TimePoint now) {
  AgentId id = goneWrites_.at(ticket);
  goneWrites_.erase(ticket);
  markingGone_.erase(id);
  if (!status || !registry_.gone().contains(id)) {
    spdlog::error("Could not mark agent {} gone: {}", id.value(),
                  status ? "the registry refused the operation" : status.message());
    auto agent = agents_.find(id);
    if (agent != agents_.end() && agent->second->connected && !markingUnreachable_.contains(id)) {
      allocator_.activateAgent(id);
    }
    return;
  }
  ++counters_.agentsMarkedGone;
  spdlog::warn("Marked agent {} gone", id.value());
  removeGoneAgent(id, now);
}

void MasterCore::reportTaskGone(FrameworkRecord& framework, TaskRecord& task, const std::string& message,
                                TimePoint now) {
  TaskId taskId(task.task.task_id().value());
  v1::TaskStatus status = masterTaskStatus(taskId, v1::TASK_GONE_BY_OPERATOR,
                                           v1::TaskStatus::REASON_AGENT_REMOVED_BY_OPERATOR, message, now);
  *status.mutable_agent_id() = task.task.agent_id();
  if (task.task.has_executor_id()) *status.mutable_executor_id() = task.task.executor_id();
  recordStatus(task, status);
  task.task.clear_status_update_state();
  task.task.clear_status_update_uuid();
  ++counters_.terminalTasks[v1::TaskState_Name(v1::TASK_GONE_BY_OPERATOR)];
  forwardStatus(framework, std::move(status));
  completeTask(framework, taskId);
}

// The agent is gone in the registry: the rest of the master follows.
void MasterCore::removeGoneAgent(const AgentId& id, TimePoint now) {
  recoveredAgents_.erase(id);
  if (agents_.contains(id)) {
    const std::string message = "Agent " + id.value() + " was marked gone by an operator";
    removeAgentRecord(
        id, [&](FrameworkRecord& framework, TaskRecord& task) { reportTaskGone(framework, task, message, now); },
        Farewell::kShutdown, message, now);
  }
  // Tasks it had when it became unreachable.
  for (auto& [frameworkId, framework] : frameworks_) {
    std::deque<v1::Task> kept;
    for (v1::Task& task : framework->unreachableTasks) {
      if (task.agent_id().value() != id.value()) {
        kept.push_back(std::move(task));
        continue;
      }
      TaskId taskId(task.task_id().value());
      v1::TaskStatus status =
          masterTaskStatus(taskId, v1::TASK_GONE_BY_OPERATOR, v1::TaskStatus::REASON_AGENT_REMOVED_BY_OPERATOR,
                           "Agent " + id.value() + " was marked gone by an operator", now);
      *status.mutable_agent_id() = task.agent_id();
      if (task.has_executor_id()) *status.mutable_executor_id() = task.executor_id();
      TaskRecord record{std::move(task), {}, true};
      recordStatus(record, status);
      if (framework->partitionAware()) forwardStatus(*framework, std::move(status));
      framework->completedTasks.push_back(std::move(record.task));
      while (framework->completedTasks.size() > options_.maxCompletedTasksPerFramework) {
        framework->completedTasks.pop_front();
      }
    }
    framework->unreachableTasks = std::move(kept);
  }
}

void MasterCore::removeAgentRecord(const AgentId& id, const LiveTaskReporter& reportLiveTask, Farewell farewell,
                                   const std::string& farewellMessage, TimePoint now) {
  auto it = agents_.find(id);
  if (it == agents_.end()) return;  // recovered from the registry: no tasks known here
  AgentRecord& agent = *it->second;
  rescindAgentOffers(agent, now);
  rescindAgentInverseOffers(agent, /*notify=*/true);
  std::vector<std::pair<FrameworkId, TaskId>> tasks(agent.tasks.begin(), agent.tasks.end());
  for (const auto& [frameworkId, taskId] : tasks) {
    FrameworkRecord& framework = *frameworks_.at(frameworkId);
    auto task = framework.tasks.find(taskId);
    if (task == framework.tasks.end()) continue;
    task->second.resourcesReleased = true;  // the allocator forgets the whole agent below
    if (isTerminalState(task->second.task.state())) {
      completeTask(framework, taskId);  // terminal, only its acknowledgement was missing
    } else {
      reportLiveTask(framework, task->second);
    }
  }
  // FAILURE with only an agent id: "agent lost", to every connected framework.
  for (const auto& [frameworkId, framework] : frameworks_) {
    if (!framework->connected) continue;
    v1::scheduler::Event event;
    event.set_type(v1::scheduler::Event::FAILURE);
    event.mutable_failure()->mutable_agent_id()->set_value(id.value());
    sendToFramework(*framework, std::move(event));
  }
  if (agent.connected) {
    if (farewell == Farewell::kShutdown) {
      internal::AgentEvent event;
      event.set_type(internal::AgentEvent::SHUTDOWN);
      event.mutable_shutdown()->set_message(farewellMessage);
      sendToAgent(agent, std::move(event));
    }
    effects_.push_back(CloseStream{agent.streamId});
    agentStreams_.erase(agent.streamId);
  }
  allocator_.removeAgent(id);
  agents_.erase(it);
  allocationWanted_ = true;
}

}  // namespace mezzo::master
