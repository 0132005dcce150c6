// The internal agent protocol on MasterCore: (re-)registration (including
// re-admission of unreachable agents), status updates, executor messages and
// exits, PONGs, disconnection.
#include <spdlog/spdlog.h>

#include "master/allocation_specs.hpp"
#include "master/master_core.hpp"

namespace mezzo::master {

Result<AgentId> MasterCore::registerAgent(const internal::AgentCall& call, const std::string& streamId,
                                          TimePoint now) {
  if (call.type() != internal::AgentCall::REGISTER || !call.has_register_()) {
    return Status::invalidArgument("Expecting a REGISTER call with 'register' present");
  }
  if (call.protocol_version() != internal::PROTOCOL_VERSION_CURRENT) {
    return Status::invalidArgument("Unsupported agent protocol version " + std::to_string(call.protocol_version()));
  }
  const internal::AgentCall::Register& reg = call.register_();
  auto total = Resources::fromProto(reg.agent_info().resources());
  if (!total) return Status::invalidArgument("Agent resources are invalid: " + total.error());
  if (reg.agent_info().hostname().empty()) return Status::invalidArgument("Agent hostname must not be empty");

  AgentId id = reg.agent_info().has_id() ? AgentId(reg.agent_info().id().value()) : ids_.nextAgentId();
  if (registry_.gone().contains(id) || markingGone_.contains(id)) {
    // 403 tells the agent to shut down rather than retry (agent_protocol.proto).
    return Status::permissionDenied("Agent " + id.value() + " has been marked gone by an operator");
  }
  if (Status down = refuseAgentOnDownMachine(reg.agent_info(), reg.ip()); !down) return down;
  if (markingUnreachable_.contains(id)) {
    return Status::unavailable("Agent " + id.value() + " is being marked unreachable; retry later");
  }
  if (!registry_.admitted().contains(id)) {
    // Admitted (persisted) before it is told it registered; an unreachable
    // agent that comes back is re-admitted the same way.
    v1::AgentInfo info = reg.agent_info();
    info.mutable_id()->set_value(id.value());
    const bool unreachable = registry_.unreachable().contains(id);
    uint64_t ticket = persist(unreachable ? store::markAgentReachable(info) : store::admitAgent(info));
    pendingAdmissions_[ticket] =
        PendingAdmission{call, id, streamId, unreachable ? Admission::kFromUnreachable : Admission::kKnown};
    agentStreams_[streamId] = id;
    return id;
  }
  completeRegistration(call, id, *total, streamId, Admission::kKnown, now);
  return id;
}

void MasterCore::completeRegistration(const internal::AgentCall& call, const AgentId& id, const Resources& total,
                                      const std::string& streamId, Admission admission, TimePoint now) {
  const internal::AgentCall::Register& reg = call.register_();
  auto existing = agents_.find(id);
  AgentRecord* agent = nullptr;
  if (existing != agents_.end()) {
    agent = existing->second.get();
    if (agent->connected && agent->streamId != streamId) {
      effects_.push_back(CloseStream{agent->streamId});
      agentStreams_.erase(agent->streamId);
    }
    rescindAgentOffers(*agent, now);
    if (!(agent->total == total)) {
      // Totals changed (agent restarted with other resources): re-add with what is in use.
      std::map<FrameworkId, Resources> used;
      for (const auto& [frameworkId, taskId] : agent->tasks) {
        const TaskRecord& task = frameworks_.at(frameworkId)->tasks.at(taskId);
        if (!task.resourcesReleased) used[frameworkId] += task.resources;
      }
      allocator_.removeAgent(id);
      allocator_.addAgent(id, total, used, agentInfoForAllocation(reg.agent_info()));
    }
    agent->reregisteredTime = now;
    ++counters_.agentReregistrations;
    spdlog::info("Agent {} ({}) re-registered", id.value(), reg.agent_info().hostname());
  } else {
    auto record = std::make_unique<AgentRecord>();
    record->id = id;
    record->registeredTime = now;
    agent = record.get();
    agents_.emplace(id, std::move(record));
    allocator_.addAgent(id, total, {}, agentInfoForAllocation(reg.agent_info()));
    if (reg.agent_info().has_id()) {
      agent->reregisteredTime = now;  // known to an earlier master: a re-registration, as Mesos counts it
      ++counters_.agentReregistrations;
    } else {
      ++counters_.agentRegistrations;
    }
    spdlog::info("Agent {} ({}) registered with {}", id.value(), reg.agent_info().hostname(), total.toString());
  }
  agent->info = reg.agent_info();
  agent->info.mutable_id()->set_value(id.value());
  agent->ip = reg.ip();
  placeAgentForMaintenance(*agent);
  agent->total = total;
  agent->version = reg.version();
  agent->connected = true;
  agent->streamId = streamId;
  agentStreams_[streamId] = id;
  resetAgentHealth(*agent, now);
  if (recoveredAgents_.erase(id) > 0) spdlog::info("Recovered agent {} is back", id.value());
  allocator_.activateAgent(id);
  adoptAgentTasks(*agent, reg, admission, now);

  internal::AgentEvent event;
  event.set_type(internal::AgentEvent::REGISTERED);
  event.mutable_registered()->mutable_agent_id()->set_value(id.value());
  *event.mutable_registered()->mutable_master_info() = options_.masterInfo;
  event.mutable_registered()->set_heartbeat_interval_seconds(
      std::chrono::duration<double>(options_.agentPingTimeout).count());
  sendToAgent(*agent, std::move(event));
  allocationWanted_ = true;
}

// Reconciles the tasks an agent reports with what the master knows: tasks
// the master did not know (after a master restart) are adopted, tasks the
// master expected but the agent does not have are reported lost. When an
// unreachable agent is re-admitted, its tasks' states are sent again to
// their frameworks (who were told TASK_UNREACHABLE or TASK_LOST).
void MasterCore::adoptAgentTasks(AgentRecord& agent, const internal::AgentCall::Register& reg, Admission admission,
                                 TimePoint now) {
  std::map<FrameworkId, const v1::FrameworkInfo*> infos;
  for (const v1::FrameworkInfo& info : reg.frameworks()) {
    if (info.has_id()) infos[FrameworkId(info.id().value())] = &info;
  }
  std::set<std::pair<FrameworkId, TaskId>> reported;
  for (const v1::Task& task : reg.tasks()) {
    FrameworkId frameworkId(task.framework_id().value());
    TaskId taskId(task.task_id().value());
    reported.insert({frameworkId, taskId});
    auto framework = frameworks_.find(frameworkId);
    if (framework == frameworks_.end()) {
      auto info = infos.find(frameworkId);
      if (info == infos.end()) continue;
      auto record = std::make_unique<FrameworkRecord>();
      record->id = frameworkId;
      record->info = *info->second;
      record->registeredTime = now;
      // Recovered frameworks wait for their scheduler without a failover
      // timer (as in Mesos); the timer starts if it subscribes and leaves.
      record->recovered = true;
      for (const auto& capability : info->second->capabilities()) record->capabilities.insert(capability.type());
      record->roles = record->hasCapability(v1::FrameworkInfo::Capability::MULTI_ROLE)
                          ? std::set<std::string>(info->second->roles().begin(), info->second->roles().end())
                          : std::set<std::string>{info->second->role()};
      auto spec = frameworkSpecFor(record->info, record->roles, {}, nullptr);
      allocator_.addFramework(frameworkId, spec ? *spec : alloc::FrameworkSpec{record->roles}, /*active=*/false);
      framework = frameworks_.emplace(frameworkId, std::move(record)).first;
      spdlog::info("Recovered framework {} from agent {}", frameworkId.value(), agent.id.value());
    }
    if (framework->second->tasks.contains(taskId)) continue;
    std::erase_if(framework->second->unreachableTasks,
                  [&](const v1::Task& unreachable) { return unreachable.task_id().value() == taskId.value(); });
    // A task the framework was told had ended (TASK_DROPPED or TASK_LOST
    // when an earlier registration did not report it) lives after all: it
    // leaves the completed tasks and the framework learns its real state.
    const size_t completedBefore = framework->second->completedTasks.size();
    std::erase_if(framework->second->completedTasks,
                  [&](const v1::Task& completed) { return completed.task_id().value() == taskId.value(); });
    const bool reportedEnded = framework->second->completedTasks.size() != completedBefore;
    auto resources = Resources::fromProto(task.resources());
    TaskRecord record;
    record.task = task;
    record.resources = resources ? *resources : Resources();
    record.resourcesReleased = isTerminalState(task.state());
    if (!record.resourcesReleased) allocator_.addUsed(frameworkId, agent.id, record.resources);
    framework->second->tasks.emplace(taskId, std::move(record));
    agent.tasks.insert({frameworkId, taskId});
    if ((admission == Admission::kFromUnreachable || reportedEnded) && !isTerminalState(task.state())) {
      v1::TaskStatus status = masterTaskStatus(taskId, task.state(), v1::TaskStatus::REASON_AGENT_REREGISTERED,
                                               reportedEnded ? "Task was reported by its re-registering agent"
                                                             : "Agent re-registered after being unreachable",
                                               now);
      status.mutable_agent_id()->set_value(agent.id.value());
      if (task.has_executor_id()) *status.mutable_executor_id() = task.executor_id();
      forwardStatus(*framework->second, std::move(status));
    }
  }
  // The agent reports every executor it runs: ones it no longer has ended
  // while it was away.
  agent.executors.clear();
  for (const v1::ExecutorInfo& executor : reg.executors()) {
    if (executor.has_framework_id()) {
      agent.executors[FrameworkId(executor.framework_id().value())][ExecutorId(executor.executor_id().value())] =
          executor;
    }
  }

  std::vector<std::pair<FrameworkId, TaskId>> missing;
  for (const auto& key : agent.tasks) {
    if (!reported.contains(key)) missing.push_back(key);
  }
  for (const auto& [frameworkId, taskId] : missing) {
    FrameworkRecord& framework = *frameworks_.at(frameworkId);
    TaskRecord& task = framework.tasks.at(taskId);
    if (isTerminalState(task.task.state())) continue;
    v1::TaskState state = framework.partitionAware() ? v1::TASK_DROPPED : v1::TASK_LOST;
    v1::TaskStatus status = masterTaskStatus(taskId, state, v1::TaskStatus::REASON_AGENT_REREGISTERED,
                                             "Task was not reported by its re-registering agent", now);
    status.mutable_agent_id()->set_value(agent.id.value());
    task.task.set_state(state);
    ++counters_.terminalTasks[v1::TaskState_Name(state)];
    releaseTaskResources(framework, task, now);
    forwardStatus(framework, status);
    completeTask(framework, taskId);
  }
}

AgentRecord* MasterCore::agentForStream(const internal::AgentCall& call, const std::string& streamId, Status* error) {
  if (!call.has_agent_id()) {
    *error = Status::invalidArgument("Expecting 'agent_id' to be present");
    return nullptr;
  }
  auto it = agents_.find(AgentId(call.agent_id().value()));
  if (it == agents_.end()) {
    *error = Status::notFound("Agent " + call.agent_id().value() + " is not registered");
    return nullptr;
  }
  if (!it->second->connected || it->second->streamId != streamId) {
    *error = Status::permissionDenied("Agent " + call.agent_id().value() + " is not connected on this stream");
    return nullptr;
  }
  return it->second.get();
}

Status MasterCore::handleAgentCall(const internal::AgentCall& call, const std::string& streamId, TimePoint now) {
  Status error;
  AgentRecord* agent = agentForStream(call, streamId, &error);
  if (agent == nullptr) return error;
  switch (call.type()) {
    case internal::AgentCall::STATUS_UPDATE:
      if (!call.has_status_update()) return Status::invalidArgument("Expecting 'status_update' to be present");
      statusUpdate(call.status_update(), *agent, now);
      return Status::ok();
    case internal::AgentCall::EXECUTOR_MESSAGE: {
      if (!call.has_executor_message()) return Status::invalidArgument("Expecting 'executor_message' to be present");
      const auto& message = call.executor_message();
      auto framework = frameworks_.find(FrameworkId(message.framework_id().value()));
      if (framework == frameworks_.end()) return Status::ok();
      v1::scheduler::Event event;
      event.set_type(v1::scheduler::Event::MESSAGE);
      event.mutable_message()->mutable_agent_id()->set_value(agent->id.value());
      *event.mutable_message()->mutable_executor_id() = message.executor_id();
      event.mutable_message()->set_data(message.data());
      sendToFramework(*framework->second, std::move(event));
      return Status::ok();
    }
    case internal::AgentCall::EXECUTOR_EXITED: {
      if (!call.has_executor_exited()) return Status::invalidArgument("Expecting 'executor_exited' to be present");
      const auto& exited = call.executor_exited();
      FrameworkId frameworkId(exited.framework_id().value());
      if (auto executors = agent->executors.find(frameworkId); executors != agent->executors.end()) {
        executors->second.erase(ExecutorId(exited.executor_id().value()));
        if (executors->second.empty()) agent->executors.erase(executors);
      }
      auto framework = frameworks_.find(frameworkId);
      if (framework == frameworks_.end()) return Status::ok();
      v1::scheduler::Event event;
      event.set_type(v1::scheduler::Event::FAILURE);
      event.mutable_failure()->mutable_agent_id()->set_value(agent->id.value());
      *event.mutable_failure()->mutable_executor_id() = exited.executor_id();
      if (exited.has_status()) event.mutable_failure()->set_status(exited.status());
      sendToFramework(*framework->second, std::move(event));
      return Status::ok();
    }
    case internal::AgentCall::PONG:
      pong(*agent, now);
      return Status::ok();
    case internal::AgentCall::BATCH: {
      std::string refused;
      for (const internal::AgentCall& inner : call.calls()) {
        Status status = Status::ok();
        if (inner.type() == internal::AgentCall::REGISTER || inner.type() == internal::AgentCall::BATCH) {
          status = Status::invalidArgument("cannot be batched");
        } else if (inner.agent_id().value() != call.agent_id().value()) {
          status = Status::invalidArgument("'agent_id' differs from the batch's");
        } else {
          status = handleAgentCall(inner, streamId, now);
        }
        if (!status) {
          refused += (refused.empty() ? "" : "; ") + internal::AgentCall::Type_Name(inner.type()) + ": " +
                     status.message();
        }
      }
      if (refused.empty()) return Status::ok();
      return Status::invalidArgument("Refused calls of the batch: " + refused);
    }
    default:
      return Status::invalidArgument("Unsupported agent call type " +
                                     internal::AgentCall::Type_Name(call.type()));
  }
}

void MasterCore::agentStreamClosed(const std::string& streamId, TimePoint now) {
  auto it = agentStreams_.find(streamId);
  if (it == agentStreams_.end()) return;
  AgentId id = it->second;
  agentStreams_.erase(it);
  auto agent = agents_.find(id);
  if (agent == agents_.end() || agent->second->streamId != streamId) return;
  spdlog::warn("Agent {} disconnected", id.value());
  agent->second->connected = false;
  agent->second->streamId.clear();
  // Pings keep counting: an agent that does not come back is marked unreachable.
  allocator_.deactivateAgent(id);
  rescindAgentOffers(*agent->second, now);
}

}  // namespace mezzo::master
