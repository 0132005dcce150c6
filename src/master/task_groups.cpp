// LAUNCH_GROUP: validating a task group with its DEFAULT executor and
// handing it to the agent as one RUN_TASK_GROUP (mesos-reference.md §1.3).
//
// Accounting: the master keeps resources per task, so the executor's
// resources (charged only when the executor is not yet on the agent) are
// held by the group's first task and released with it.
#include <spdlog/spdlog.h>

#include "master/master_core.hpp"
#include "master/unsupported_fields.hpp"

namespace mezzo::master {

namespace {

using Capability = v1::FrameworkInfo::Capability;

void addAllocationRole(google::protobuf::RepeatedPtrField<v1::Resource>* list, const std::string& role) {
  for (v1::Resource& resource : *list) {
    if (!resource.has_allocation_info()) resource.mutable_allocation_info()->set_role(role);
  }
}

}  // namespace

Result<Resources> MasterCore::validateTaskGroup(const FrameworkRecord& framework, const AgentRecord& agent,
                                                const v1::Offer::Operation::LaunchGroup& launch,
                                                const std::string& role, const Resources& available) const {
  const v1::ExecutorInfo& executor = launch.executor();
  const v1::TaskGroupInfo& group = launch.task_group();
  if (group.tasks_size() == 0) return Status::invalidArgument("Task group is empty");
  if (executor.type() != v1::ExecutorInfo::DEFAULT) {
    return Status::invalidArgument("The executor of a task group must have type DEFAULT");
  }
  if (executor.has_command()) {
    return Status::invalidArgument("The DEFAULT executor of a task group must not have 'command'");
  }
  std::string idError = validateClientId(executor.executor_id().value());
  if (!idError.empty()) return Status::invalidArgument("Executor ID is invalid: " + idError);
  if (std::string unsupported = unsupportedExecutorField(executor, "executor"); !unsupported.empty()) {
    return Status::invalidArgument(unsupported);
  }
  if (executor.has_framework_id() && executor.framework_id().value() != framework.id.value()) {
    return Status::invalidArgument("ExecutorInfo has an invalid FrameworkID");
  }

  Resources used;
  const bool executorRunning = [&] {
    auto perFramework = agent.executors.find(framework.id);
    return perFramework != agent.executors.end() &&
           perFramework->second.contains(ExecutorId(executor.executor_id().value()));
  }();
  if (!executorRunning) {
    auto executorResources = Resources::fromProto(executor.resources());
    if (!executorResources) return Status::invalidArgument("Executor uses invalid resources: " + executorResources.error());
    const bool multiRole = framework.hasCapability(Capability::MULTI_ROLE);
    used = multiRole ? *executorResources : executorResources->withAllocationRole(role);
    if (!available.contains(used)) {
      return Status::invalidArgument("Executor uses more resources " + used.toString() + " than available " +
                                     available.toString());
    }
  }
  std::set<std::string> ids;
  for (const v1::TaskInfo& task : group.tasks()) {
    if (!ids.insert(task.task_id().value()).second) {
      return Status::invalidArgument("Task group has duplicate task ID: " + task.task_id().value());
    }
    if (task.has_executor()) {
      return Status::invalidArgument("Task '" + task.task_id().value() +
                                     "' of a task group must not have an ExecutorInfo");
    }
    Resources left = available;
    left -= used;
    auto taskResources = validateTask(framework, agent, task, role, left);
    if (!taskResources) return Status::invalidArgument("Task '" + task.task_id().value() + "': " +
                                                       taskResources.error());
    used += *taskResources;
  }
  return used;
}

void MasterCore::launchTaskGroup(FrameworkRecord& framework, AgentRecord& agent,
                                 const v1::Offer::Operation::LaunchGroup& launch, const std::string& role,
                                 Resources& remaining, TimePoint now) {
  auto used = validateTaskGroup(framework, agent, launch, role, remaining);
  if (!used) {
    for (const v1::TaskInfo& task : launch.task_group().tasks()) {
      refuseTask(framework, task, v1::TASK_ERROR, v1::TaskStatus::REASON_TASK_GROUP_INVALID, used.error(), now);
    }
    return;
  }
  remaining -= *used;

  v1::ExecutorInfo executor = launch.executor();
  executor.mutable_framework_id()->set_value(framework.id.value());
  addAllocationRole(executor.mutable_resources(), role);
  const bool chargeExecutor = [&] {
    auto perFramework = agent.executors.find(framework.id);
    return perFramework == agent.executors.end() ||
           !perFramework->second.contains(ExecutorId(executor.executor_id().value()));
  }();
  Resources executorShare;
  if (chargeExecutor) {
    if (auto resources = Resources::fromProto(executor.resources())) executorShare = *resources;
  }

  internal::AgentEvent event;
  event.set_type(internal::AgentEvent::RUN_TASK_GROUP);
  auto* run = event.mutable_run_task_group();
  *run->mutable_framework_info() = framework.info;
  *run->mutable_executor() = executor;
  bool first = true;
  for (const v1::TaskInfo& task : launch.task_group().tasks()) {
    auto taskResources = Resources::fromProto(task.resources());
    Resources held = taskResources ? *taskResources : Resources();
    if (!framework.hasCapability(Capability::MULTI_ROLE)) held = held.withAllocationRole(role);
    if (first) held += executorShare;
    first = false;
    addLaunchedTask(framework, agent, task, held, &executor);
    v1::TaskInfo* sent = run->mutable_task_group()->add_tasks();
    *sent = task;
    addAllocationRole(sent->mutable_resources(), role);
  }
  spdlog::info("Launching task group of {} tasks under executor {} of framework {} on agent {} with {}",
               launch.task_group().tasks_size(), executor.executor_id().value(), framework.id.value(),
               agent.id.value(), used->toString());
  sendToAgent(agent, std::move(event));
}

}  // namespace mezzo::master
