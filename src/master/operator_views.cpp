#include "master/operator_views.hpp"

namespace mezzo::master::views {

namespace {

Resources offeredOn(const MasterCore& core, const std::set<OfferId>& offers) {
  Resources offered;
  for (const OfferId& id : offers) offered += core.offers().at(id).resources;
  return offered;
}

void fillFramework(const MasterCore& core, const FrameworkRecord& record, Response::GetFrameworks::Framework* out) {
  *out->mutable_framework_info() = record.info;
  out->set_active(record.active);
  out->set_connected(record.connected);
  out->set_recovered(record.recovered);
  *out->mutable_registered_time() = timeInfo(record.registeredTime);
  if (record.reregisteredTime) *out->mutable_reregistered_time() = timeInfo(*record.reregisteredTime);
  if (record.unregisteredTime) *out->mutable_unregistered_time() = timeInfo(*record.unregisteredTime);
  Resources used;
  for (const auto& [id, task] : record.tasks) {
    if (!task.resourcesReleased) used += task.resources;
  }
  Resources offered = offeredOn(core, record.offers);
  for (const OfferId& id : record.offers) *out->add_offers() = core.offers().at(id).offer;
  (used + offered).toProto(out->mutable_allocated_resources());
  offered.toProto(out->mutable_offered_resources());
}

}  // namespace

v1::TimeInfo timeInfo(TimePoint when) {
  v1::TimeInfo info;
  info.set_nanoseconds(when.time_since_epoch().count());
  return info;
}

Response::GetAgents agents(const MasterCore& core) {
  Response::GetAgents out;
  for (const auto& [id, agent] : core.agents()) {
    auto* entry = out.add_agents();
    *entry->mutable_agent_info() = agent->info;
    entry->set_active(agent->connected);
    entry->set_deactivated(!agent->connected);
    entry->set_version(agent->version);
    entry->set_pid("slave(1)@" + agent->info.hostname() + ":" + std::to_string(agent->info.port()));
    *entry->mutable_registered_time() = timeInfo(agent->registeredTime);
    if (agent->reregisteredTime) *entry->mutable_reregistered_time() = timeInfo(*agent->reregisteredTime);
    agent->total.toProto(entry->mutable_total_resources());
    core.allocator().allocated(id).toProto(entry->mutable_allocated_resources());
    offeredOn(core, agent->offers).toProto(entry->mutable_offered_resources());
    for (auto type : {v1::AgentInfo::Capability::MULTI_ROLE, v1::AgentInfo::Capability::HIERARCHICAL_ROLE,
                      v1::AgentInfo::Capability::RESERVATION_REFINEMENT}) {
      entry->add_capabilities()->set_type(type);
    }
  }
  for (const auto& [id, info] : core.registry().admitted()) {
    if (!core.agents().contains(id)) *out.add_recovered_agents() = info;
  }
  return out;
}

Response::GetFrameworks frameworks(const MasterCore& core) {
  Response::GetFrameworks out;
  for (const auto& [id, framework] : core.frameworks()) fillFramework(core, *framework, out.add_frameworks());
  for (const CompletedFramework& completed : core.completedFrameworks()) {
    auto* entry = out.add_completed_frameworks();
    *entry->mutable_framework_info() = completed.info;
    entry->set_active(false);
    entry->set_connected(false);
    entry->set_recovered(false);
    *entry->mutable_registered_time() = timeInfo(completed.registeredTime);
    *entry->mutable_unregistered_time() = timeInfo(completed.unregisteredTime);
  }
  return out;
}

Response::GetExecutors executors(const MasterCore& core) {
  Response::GetExecutors out;
  for (const auto& [agentId, agent] : core.agents()) {
    for (const auto& [frameworkId, executors] : agent->executors) {
      for (const auto& [executorId, info] : executors) {
        auto* entry = out.add_executors();
        *entry->mutable_executor_info() = info;
        entry->mutable_agent_id()->set_value(agentId.value());
      }
    }
  }
  return out;
}

Response::GetTasks tasks(const MasterCore& core) {
  Response::GetTasks out;
  for (const auto& [id, framework] : core.frameworks()) {
    for (const auto& [taskId, task] : framework->tasks) {
      *(task.task.state() == v1::TASK_UNREACHABLE ? out.add_unreachable_tasks() : out.add_tasks()) = task.task;
    }
    for (const v1::Task& task : framework->completedTasks) *out.add_completed_tasks() = task;
  }
  for (const CompletedFramework& framework : core.completedFrameworks()) {
    for (const v1::Task& task : framework.completedTasks) *out.add_completed_tasks() = task;
  }
  return out;
}

Response::GetState state(const MasterCore& core) {
  Response::GetState out;
  *out.mutable_get_tasks() = tasks(core);
  *out.mutable_get_executors() = executors(core);
  *out.mutable_get_frameworks() = frameworks(core);
  *out.mutable_get_agents() = agents(core);
  return out;
}

Response::GetRoles roles(const MasterCore& core) {
  std::map<std::string, std::vector<FrameworkId>> frameworksByRole;
  for (const auto& [role, weight] : core.options().weights) frameworksByRole[role];
  for (const auto& [role, config] : core.registry().quotas()) frameworksByRole[role];
  for (const auto& [id, framework] : core.frameworks()) {
    for (const std::string& role : framework->roles) frameworksByRole[role].push_back(id);
  }
  std::map<std::string, Resources> allocatedByRole;
  for (const auto& [id, agent] : core.agents()) {
    Resources allocated = core.allocator().allocated(id);
    for (const auto& [role, frameworks] : frameworksByRole) allocatedByRole[role] += allocated.allocatedTo(role);
  }
  Response::GetRoles out;
  for (const auto& [name, frameworks] : frameworksByRole) {
    v1::Role* role = out.add_roles();
    role->set_name(name);
    auto weight = core.options().weights.find(name);
    role->set_weight(weight == core.options().weights.end() ? 1.0 : weight->second);
    for (const FrameworkId& id : frameworks) role->add_frameworks()->set_value(id.value());
    allocatedByRole[name].toProto(role->mutable_resources());
  }
  return out;
}

Response::GetWeights weights(const MasterCore& core) {
  Response::GetWeights out;
  for (const auto& [role, weight] : core.options().weights) {
    v1::WeightInfo* info = out.add_weight_infos();
    info->set_role(role);
    info->set_weight(weight);
  }
  return out;
}

Response::GetQuota quota(const MasterCore& core) {
  Response::GetQuota out;
  for (const auto& [role, config] : core.registry().quotas()) {
    *out.mutable_status()->add_configs() = config;
    v1::quota::QuotaInfo* info = out.mutable_status()->add_infos();
    info->set_role(role);
    for (const auto& [name, scalar] : config.guarantees()) {
      v1::Resource* resource = info->add_guarantee();
      resource->set_name(name);
      resource->set_type(v1::Value::SCALAR);
      resource->mutable_scalar()->set_value(scalar.value());
    }
  }
  out.mutable_status();  // present even when empty (a required field)
  return out;
}

Response::GetMaster master(const MasterCore& core, const Leadership& leadership) {
  Response::GetMaster out;
  *out.mutable_master_info() = core.options().masterInfo;
  out.set_start_time(toEpochSeconds(core.startTime()));
  if (leadership.electedTime) out.set_elected_time(toEpochSeconds(*leadership.electedTime));
  return out;
}

}  // namespace mezzo::master::views
