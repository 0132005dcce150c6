// ACCEPT and DECLINE: validating offers and task launches (mesos-reference.md
// §1.8) and handing valid tasks to agents.
#include <spdlog/spdlog.h>

#include "master/master_core.hpp"
#include "master/unsupported_fields.hpp"
#include "mezzo/common/health_check.hpp"

namespace mezzo::master {

namespace {

using Call = v1::scheduler::Call;
using Capability = v1::FrameworkInfo::Capability;

std::optional<Duration> filterDuration(const v1::Filters* filters) {
  double seconds = filters != nullptr ? filters->refuse_seconds() : v1::Filters().refuse_seconds();
  if (!(seconds > 0)) return std::nullopt;  // also rejects NaN
  return secondsToDuration(std::min(seconds, 31536000.0));
}

// An operation Mezzo does not implement can only be answered (with
// OPERATION_ERROR) if it has an id; without one the whole call is refused
// before anything of it is applied.
Status refuseUnanswerableOperations(const Call::Accept& accept) {
  for (const v1::Offer::Operation& operation : accept.operations()) {
    if (!isLaunchOperation(operation) && !operation.has_id()) {
      return Status::invalidArgument("Offer operation " + v1::Offer::Operation::Type_Name(operation.type()) +
                                     " is not supported; only LAUNCH and LAUNCH_GROUP are (give the operation an "
                                     "'id' to get an OPERATION_ERROR status instead)");
    }
  }
  return Status::ok();
}

}  // namespace

void MasterCore::refuseTask(FrameworkRecord& framework, const v1::TaskInfo& task, v1::TaskState state,
                            v1::TaskStatus::Reason reason, const std::string& message, TimePoint now) {
  spdlog::info("Refusing task {} of framework {}: {}", task.task_id().value(), framework.id.value(), message);
  v1::TaskStatus status;
  *status.mutable_task_id() = task.task_id();
  status.set_state(state);
  status.set_source(v1::TaskStatus::SOURCE_MASTER);
  status.set_reason(reason);
  status.set_message(message);
  status.set_timestamp(toEpochSeconds(now));
  if (task.has_agent_id()) *status.mutable_agent_id() = task.agent_id();
  ++counters_.terminalTasks[v1::TaskState_Name(state)];
  forwardStatus(framework, std::move(status));
}

Status MasterCore::decline(FrameworkRecord& framework, const Call::Decline& decline, TimePoint now) {
  std::optional<Duration> filter = filterDuration(decline.has_filters() ? &decline.filters() : nullptr);
  for (const v1::OfferID& offerId : decline.offer_ids()) {
    auto offer = offers_.find(OfferId(offerId.value()));
    if (offer == offers_.end() || offer->second.framework != framework.id) continue;  // stale: ignore
    OfferRecord record = offer->second;
    removeOffer(record.id);
    allocator_.recoverResources(framework.id, record.agent, record.resources, filter, now);
  }
  allocationWanted_ = true;
  return Status::ok();
}

Status MasterCore::accept(FrameworkRecord& framework, const Call::Accept& accept, TimePoint now) {
  if (Status unanswerable = refuseUnanswerableOperations(accept); !unanswerable) return unanswerable;
  // Validate the offers as a set: they must exist, belong to this framework,
  // and come from one agent and one allocation role. Each may be used once.
  std::string offerError;
  std::vector<OfferRecord> used;
  std::set<std::string> seen;
  for (const v1::OfferID& offerId : accept.offer_ids()) {
    if (!seen.insert(offerId.value()).second) {
      offerError = "Offer " + offerId.value() + " appears more than once";
      continue;
    }
    auto offer = offers_.find(OfferId(offerId.value()));
    if (offer == offers_.end()) {
      offerError = "Offer " + offerId.value() + " is no longer valid";
    } else if (offer->second.framework != framework.id) {
      offerError = "Offer " + offerId.value() + " does not belong to this framework";
    } else {
      used.push_back(offer->second);
    }
  }
  if (accept.offer_ids_size() == 0) offerError = "No offers specified";
  for (const OfferRecord& offer : used) {
    if (offer.agent != used.front().agent) offerError = "Aggregated offers must belong to one agent";
    if (offer.role != used.front().role) offerError = "Aggregated offers must be allocated to one role";
  }
  for (const OfferRecord& offer : used) removeOffer(offer.id);

  Resources remaining;
  for (const OfferRecord& offer : used) remaining += offer.resources;
  auto agentIt = used.empty() ? agents_.end() : agents_.find(used.front().agent);
  if (offerError.empty() && (agentIt == agents_.end() || !agentIt->second->connected)) {
    offerError = "Agent is not connected";
  }

  const v1::TaskState dropped = framework.partitionAware() ? v1::TASK_DROPPED : v1::TASK_LOST;
  for (const v1::Offer::Operation& operation : accept.operations()) {
    if (!isLaunchOperation(operation)) {
      const std::string type = v1::Offer::Operation::Type_Name(operation.type());
      std::optional<AgentId> agent;
      if (!used.empty()) agent = used.front().agent;
      answerUnsupportedOperation(framework, operation.id(), agent,
                                 offerError.empty() ? "Offer operation " + type + " is not supported by Mezzo"
                                                    : offerError,
                                 now);
      continue;
    }
    std::vector<v1::TaskInfo> tasks;
    if (operation.type() == v1::Offer::Operation::LAUNCH) {
      tasks.assign(operation.launch().task_infos().begin(), operation.launch().task_infos().end());
    } else {
      tasks.assign(operation.launch_group().task_group().tasks().begin(),
                   operation.launch_group().task_group().tasks().end());
    }
    if (operation.type() == v1::Offer::Operation::LAUNCH_GROUP && offerError.empty()) {
      launchTaskGroup(framework, *agentIt->second, operation.launch_group(), used.front().role, remaining, now);
      continue;
    }
    for (const v1::TaskInfo& task : tasks) {
      if (!offerError.empty()) {
        refuseTask(framework, task, dropped, v1::TaskStatus::REASON_INVALID_OFFERS, offerError, now);
        continue;
      }
      Result<Resources> taskResources = validateTask(framework, *agentIt->second, task, used.front().role, remaining);
      if (!taskResources) {
        refuseTask(framework, task, v1::TASK_ERROR, v1::TaskStatus::REASON_TASK_INVALID, taskResources.error(), now);
        continue;
      }
      remaining -= *taskResources;
      launchTask(framework, *agentIt->second, task, *taskResources, now);
    }
  }

  // Whatever was not used goes back, filtered as the framework asked.
  std::optional<Duration> filter = filterDuration(accept.has_filters() ? &accept.filters() : nullptr);
  if (!used.empty()) {
    allocator_.recoverResources(framework.id, used.front().agent, remaining, filter, now);
  }
  allocationWanted_ = true;
  return Status::ok();
}

Result<Resources> MasterCore::validateTask(const FrameworkRecord& framework, const AgentRecord& agent,
                                           const v1::TaskInfo& task, const std::string& role,
                                           const Resources& available) const {
  std::string idError = validateClientId(task.task_id().value());
  if (!idError.empty()) return Status::invalidArgument("Task ID is invalid: " + idError);
  if (framework.tasks.contains(TaskId(task.task_id().value()))) {
    return Status::invalidArgument("Task has duplicate ID: " + task.task_id().value());
  }
  if (task.agent_id().value() != agent.id.value()) {
    return Status::invalidArgument("Task uses agent " + task.agent_id().value() + " but the offer is for agent " +
                                   agent.id.value());
  }
  if (task.has_executor() == task.has_command()) {
    return Status::invalidArgument(
        "Task should have at least one (but not both) of CommandInfo or ExecutorInfo present");
  }
  if (task.has_command() && task.command().shell() && !task.command().has_value()) {
    return Status::invalidArgument("Shell command of task " + task.task_id().value() + " is missing 'value'");
  }
  if (task.has_max_completion_time() && task.max_completion_time().nanoseconds() < 0) {
    return Status::invalidArgument("Task's `max_completion_time` must be non-negative");
  }
  if (task.has_health_check()) {
    Status healthCheck = validateHealthCheck(task.health_check());
    if (!healthCheck) return Status::invalidArgument("Task uses invalid health check: " + healthCheck.message());
  }
  if (task.has_check()) {
    Status check = validateCheckInfo(task.check());
    if (!check) return Status::invalidArgument("Task uses invalid check: " + check.message());
  }
  if (task.has_executor()) {
    std::string executorError = validateClientId(task.executor().executor_id().value());
    if (!executorError.empty()) return Status::invalidArgument("Executor ID is invalid: " + executorError);
  }
  if (std::string unsupported = unsupportedTaskField(task); !unsupported.empty()) {
    return Status::invalidArgument(unsupported);
  }
  auto resources = Resources::fromProto(task.resources());
  if (!resources) return Status::invalidArgument("Task uses invalid resources: " + resources.error());
  if (task.has_executor()) {
    auto executorResources = Resources::fromProto(task.executor().resources());
    if (!executorResources) {
      return Status::invalidArgument("Executor uses invalid resources: " + executorResources.error());
    }
    *resources += *executorResources;
  }
  if (resources->empty()) return Status::invalidArgument("Task uses no resources");
  const bool multiRole = framework.hasCapability(Capability::MULTI_ROLE);
  for (const ResourceEntry& entry : resources->entries()) {
    if (multiRole && entry.allocationRole != role) {
      return Status::invalidArgument("Task resources must carry allocation_info with role '" + role + "'");
    }
  }
  Resources allocated = multiRole ? *resources : resources->withAllocationRole(role);
  if (!available.contains(allocated)) {
    return Status::invalidArgument("Task uses more resources " + allocated.toString() + " than available " +
                                   available.toString());
  }
  return allocated;
}

void MasterCore::addLaunchedTask(FrameworkRecord& framework, AgentRecord& agent, const v1::TaskInfo& info,
                                 const Resources& resources, const v1::ExecutorInfo* executorInfo) {
  TaskRecord record;
  v1::Task& task = record.task;
  task.set_name(info.name());
  *task.mutable_task_id() = info.task_id();
  task.mutable_framework_id()->set_value(framework.id.value());
  *task.mutable_agent_id() = info.agent_id();
  task.set_state(v1::TASK_STAGING);
  resources.toProto(task.mutable_resources());
  if (executorInfo != nullptr) *task.mutable_executor_id() = executorInfo->executor_id();
  if (info.has_labels()) *task.mutable_labels() = info.labels();
  if (info.has_kill_policy()) *task.mutable_kill_policy() = info.kill_policy();
  if (info.has_health_check()) *task.mutable_health_check() = info.health_check();
  task.set_user(info.has_command() && info.command().has_user() ? info.command().user() : framework.info.user());
  *task.mutable_limits() = info.limits();
  record.resources = resources;
  TaskId taskId(info.task_id().value());
  framework.tasks.emplace(taskId, std::move(record));
  agent.tasks.insert({framework.id, taskId});
  if (executorInfo != nullptr) {
    v1::ExecutorInfo executor = *executorInfo;
    executor.mutable_framework_id()->set_value(framework.id.value());
    agent.executors[framework.id][ExecutorId(executor.executor_id().value())] = executor;
  }
}

void MasterCore::launchTask(FrameworkRecord& framework, AgentRecord& agent, const v1::TaskInfo& info,
                            const Resources& resources, TimePoint now) {
  addLaunchedTask(framework, agent, info, resources, info.has_executor() ? &info.executor() : nullptr);
  TaskId taskId(info.task_id().value());
  internal::AgentEvent event;
  event.set_type(internal::AgentEvent::RUN_TASK);
  *event.mutable_run_task()->mutable_framework_info() = framework.info;
  v1::TaskInfo* sent = event.mutable_run_task()->mutable_task();
  *sent = info;
  // As the Mesos master does, resources of frameworks that do not echo
  // allocation_info get the offer's role before they reach the agent.
  const std::string& role = resources.entries().front().allocationRole;
  auto addRole = [&](google::protobuf::RepeatedPtrField<v1::Resource>* list) {
    for (v1::Resource& resource : *list) {
      if (!resource.has_allocation_info()) resource.mutable_allocation_info()->set_role(role);
    }
  };
  addRole(sent->mutable_resources());
  if (sent->has_executor()) addRole(sent->mutable_executor()->mutable_resources());
  spdlog::info("Launching task {} of framework {} on agent {} with {}", taskId.value(), framework.id.value(),
               agent.id.value(), resources.toString());
  sendToAgent(agent, std::move(event));
  (void)now;
}

}  // namespace mezzo::master
