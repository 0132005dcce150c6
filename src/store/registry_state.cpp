#include <google/protobuf/util/message_differencer.h>

#include <set>

#include "store/registry.hpp"

namespace mezzo::store {

namespace {

using Op = internal::RegistryOperation;

v1::TimeInfo timeInfo(TimePoint when) {
  v1::TimeInfo info;
  info.set_nanoseconds(when.time_since_epoch().count());
  return info;
}

TimePoint fromTimeInfo(const v1::TimeInfo& info) { return TimePoint(Duration(info.nanoseconds())); }

Status precondition(const std::string& message) { return Status::failedPrecondition(message); }

}  // namespace

Status RegistryState::apply(const Op& operation) {
  switch (operation.operation_case()) {
    case Op::kAdmitAgent: {
      const v1::AgentInfo& info = operation.admit_agent().agent_info();
      if (!info.has_id()) return Status::invalidArgument("AdmitAgent needs an agent id");
      AgentId id(info.id().value());
      if (admitted_.contains(id) || unreachable_.contains(id) || gone_.contains(id)) {
        return precondition("Agent " + id.value() + " is already in the registry");
      }
      admitted_[id] = info;
      return Status::ok();
    }
    case Op::kUpdateAgent: {
      const v1::AgentInfo& info = operation.update_agent().agent_info();
      auto it = admitted_.find(AgentId(info.id().value()));
      if (it == admitted_.end()) return precondition("Agent " + info.id().value() + " is not admitted");
      it->second = info;
      return Status::ok();
    }
    case Op::kMarkAgentUnreachable: {
      AgentId id(operation.mark_agent_unreachable().agent_id().value());
      auto it = admitted_.find(id);
      if (it == admitted_.end()) return precondition("Agent " + id.value() + " is not admitted");
      unreachable_[id] = Unreachable{it->second, fromTimeInfo(operation.mark_agent_unreachable().time())};
      admitted_.erase(it);
      return Status::ok();
    }
    case Op::kMarkAgentReachable: {
      const v1::AgentInfo& info = operation.mark_agent_reachable().agent_info();
      AgentId id(info.id().value());
      if (!unreachable_.contains(id)) return precondition("Agent " + id.value() + " is not unreachable");
      unreachable_.erase(id);
      admitted_[id] = info;
      return Status::ok();
    }
    case Op::kMarkAgentGone: {
      AgentId id(operation.mark_agent_gone().agent_id().value());
      if (gone_.contains(id)) return precondition("Agent " + id.value() + " is already gone");
      if (!admitted_.contains(id) && !unreachable_.contains(id)) {
        return precondition("Agent " + id.value() + " is not in the registry");
      }
      admitted_.erase(id);
      unreachable_.erase(id);
      gone_[id] = fromTimeInfo(operation.mark_agent_gone().time());
      return Status::ok();
    }
    case Op::kRemoveAgent: {
      AgentId id(operation.remove_agent().agent_id().value());
      if (admitted_.erase(id) + unreachable_.erase(id) == 0) {
        return precondition("Agent " + id.value() + " is not in the registry");
      }
      return Status::ok();
    }
    case Op::kUpdateWeights: {
      for (const auto& weight : operation.update_weights().weights()) {
        if (!(weight.weight() > 0)) return Status::invalidArgument("Weight of '" + weight.role() + "' must be positive");
      }
      for (const auto& weight : operation.update_weights().weights()) weights_[weight.role()] = weight.weight();
      return Status::ok();
    }
    case Op::kUpdateQuota: {
      for (const auto& config : operation.update_quota().configs()) {
        if (config.role().empty()) return Status::invalidArgument("Quota config without a role");
      }
      for (const auto& config : operation.update_quota().configs()) {
        if (config.guarantees().empty() && config.limits().empty()) {
          quotas_.erase(config.role());
        } else {
          quotas_[config.role()] = config;
        }
      }
      return Status::ok();
    }
    case Op::kUpdateMaintenanceSchedule:
      return applySchedule(operation.update_maintenance_schedule().schedule());
    case Op::kStartMaintenance:
      return applyStartMaintenance(operation.start_maintenance());
    case Op::kStopMaintenance:
      return applyStopMaintenance(operation.stop_maintenance().machines());
    case Op::kPruneAgents:
      for (const v1::AgentID& id : operation.prune_agents().unreachable()) unreachable_.erase(AgentId(id.value()));
      for (const v1::AgentID& id : operation.prune_agents().gone()) gone_.erase(AgentId(id.value()));
      return Status::ok();
    case Op::OPERATION_NOT_SET:
      break;
  }
  return Status::invalidArgument("Registry operation has no operation set");
}

Status RegistryState::applySchedule(const v1::maintenance::Schedule& schedule) {
  if (Status status = validateSchedule(schedule); !status) return status;
  std::map<MachineKey, v1::MachineInfo> machines;
  for (const v1::maintenance::Window& window : schedule.windows()) {
    for (const v1::MachineID& id : window.machine_ids()) {
      MachineKey key = machineKey(id);
      auto old = machines_.find(key);
      v1::MachineInfo& info = machines[key];
      *info.mutable_id() = machineId(key);
      info.set_mode(old != machines_.end() && old->second.mode() == v1::MachineInfo::DOWN ? v1::MachineInfo::DOWN
                                                                                           : v1::MachineInfo::DRAINING);
      *info.mutable_unavailability() = window.unavailability();
    }
  }
  for (const auto& [key, info] : machines_) {
    if (info.mode() == v1::MachineInfo::DOWN && !machines.contains(key)) {
      return precondition("Machine " + describeMachine(info.id()) +
                          " is DOWN and cannot be removed from the schedule (bring it up first)");
    }
  }
  schedule_ = schedule;
  machines_ = std::move(machines);
  return Status::ok();
}

Status RegistryState::applyStartMaintenance(const Op::StartMaintenance& start) {
  if (Status status = validateMachineList(start.machines()); !status) return status;
  for (const v1::MachineID& id : start.machines()) {
    auto machine = machines_.find(machineKey(id));
    if (machine == machines_.end()) {
      return precondition("Machine " + describeMachine(id) + " is not part of a maintenance schedule");
    }
    if (machine->second.mode() != v1::MachineInfo::DRAINING) {
      return precondition("Machine " + describeMachine(id) + " is not in DRAINING mode and cannot be brought down");
    }
  }
  for (const v1::MachineID& id : start.machines()) machines_[machineKey(id)].set_mode(v1::MachineInfo::DOWN);
  for (const v1::AgentID& agent : start.removed_agents()) {
    admitted_.erase(AgentId(agent.value()));
    unreachable_.erase(AgentId(agent.value()));
  }
  return Status::ok();
}

Status RegistryState::applyStopMaintenance(const google::protobuf::RepeatedPtrField<v1::MachineID>& ids) {
  if (Status status = validateMachineList(ids); !status) return status;
  std::set<MachineKey> keys;
  for (const v1::MachineID& id : ids) {
    auto machine = machines_.find(machineKey(id));
    if (machine == machines_.end() || machine->second.mode() != v1::MachineInfo::DOWN) {
      return precondition("Machine " + describeMachine(id) + " is not in DOWN mode and cannot be brought up");
    }
    keys.insert(machine->first);
  }
  for (const MachineKey& key : keys) machines_.erase(key);
  v1::maintenance::Schedule schedule;
  for (const v1::maintenance::Window& window : schedule_.windows()) {
    v1::maintenance::Window kept;
    *kept.mutable_unavailability() = window.unavailability();
    for (const v1::MachineID& id : window.machine_ids()) {
      if (!keys.contains(machineKey(id))) *kept.add_machine_ids() = id;
    }
    if (!kept.machine_ids().empty()) *schedule.add_windows() = std::move(kept);
  }
  schedule_ = std::move(schedule);
  return Status::ok();
}

internal::RegistrySnapshot RegistryState::toSnapshot() const {
  internal::RegistrySnapshot snapshot;
  for (const auto& [id, info] : admitted_) *snapshot.add_admitted() = info;
  for (const auto& [id, entry] : unreachable_) {
    auto* unreachable = snapshot.add_unreachable();
    *unreachable->mutable_agent_info() = entry.info;
    *unreachable->mutable_time() = timeInfo(entry.since);
  }
  for (const auto& [id, when] : gone_) {
    auto* gone = snapshot.add_gone();
    gone->mutable_agent_id()->set_value(id.value());
    *gone->mutable_time() = timeInfo(when);
  }
  for (const auto& [role, value] : weights_) {
    auto* weight = snapshot.add_weights();
    weight->set_role(role);
    weight->set_weight(value);
  }
  for (const auto& [role, config] : quotas_) *snapshot.add_quotas() = config;
  if (!schedule_.windows().empty()) *snapshot.mutable_schedule() = schedule_;
  for (const auto& [key, info] : machines_) *snapshot.add_machines() = info;
  return snapshot;
}

Result<RegistryState> RegistryState::fromSnapshot(const internal::RegistrySnapshot& snapshot) {
  RegistryState state;
  for (const v1::AgentInfo& info : snapshot.admitted()) {
    if (!info.has_id()) return Status::invalidArgument("Registry snapshot holds an agent without id");
    state.admitted_[AgentId(info.id().value())] = info;
  }
  for (const auto& entry : snapshot.unreachable()) {
    state.unreachable_[AgentId(entry.agent_info().id().value())] = Unreachable{entry.agent_info(), fromTimeInfo(entry.time())};
  }
  for (const auto& entry : snapshot.gone()) state.gone_[AgentId(entry.agent_id().value())] = fromTimeInfo(entry.time());
  for (const auto& weight : snapshot.weights()) state.weights_[weight.role()] = weight.weight();
  for (const auto& config : snapshot.quotas()) state.quotas_[config.role()] = config;
  state.schedule_ = snapshot.schedule();
  for (const auto& info : snapshot.machines()) state.machines_[machineKey(info.id())] = info;
  return state;
}

bool RegistryState::operator==(const RegistryState& other) const {
  return google::protobuf::util::MessageDifferencer::Equals(toSnapshot(), other.toSnapshot());
}

Op admitAgent(const v1::AgentInfo& info) {
  Op op;
  *op.mutable_admit_agent()->mutable_agent_info() = info;
  return op;
}

Op updateAgent(const v1::AgentInfo& info) {
  Op op;
  *op.mutable_update_agent()->mutable_agent_info() = info;
  return op;
}

Op markAgentUnreachable(const AgentId& agent, TimePoint when) {
  Op op;
  op.mutable_mark_agent_unreachable()->mutable_agent_id()->set_value(agent.value());
  *op.mutable_mark_agent_unreachable()->mutable_time() = timeInfo(when);
  return op;
}

Op markAgentReachable(const v1::AgentInfo& info) {
  Op op;
  *op.mutable_mark_agent_reachable()->mutable_agent_info() = info;
  return op;
}

Op markAgentGone(const AgentId& agent, TimePoint when) {
  Op op;
  op.mutable_mark_agent_gone()->mutable_agent_id()->set_value(agent.value());
  *op.mutable_mark_agent_gone()->mutable_time() = timeInfo(when);
  return op;
}

Op removeAgent(const AgentId& agent) {
  Op op;
  op.mutable_remove_agent()->mutable_agent_id()->set_value(agent.value());
  return op;
}

Op updateWeights(const std::map<std::string, double>& weights) {
  Op op;
  for (const auto& [role, value] : weights) {
    auto* weight = op.mutable_update_weights()->add_weights();
    weight->set_role(role);
    weight->set_weight(value);
  }
  return op;
}

Op updateQuota(const std::vector<v1::quota::QuotaConfig>& configs) {
  Op op;
  for (const auto& config : configs) *op.mutable_update_quota()->add_configs() = config;
  return op;
}

Op updateMaintenanceSchedule(const v1::maintenance::Schedule& schedule) {
  Op op;
  *op.mutable_update_maintenance_schedule()->mutable_schedule() = schedule;
  return op;
}

Op startMaintenance(const google::protobuf::RepeatedPtrField<v1::MachineID>& machines,
                    const std::vector<AgentId>& agentsOnThem) {
  Op op;
  *op.mutable_start_maintenance()->mutable_machines() = machines;
  for (const AgentId& agent : agentsOnThem) op.mutable_start_maintenance()->add_removed_agents()->set_value(agent.value());
  return op;
}

Op pruneAgents(const std::vector<AgentId>& unreachable, const std::vector<AgentId>& gone) {
  Op op;
  for (const AgentId& id : unreachable) op.mutable_prune_agents()->add_unreachable()->set_value(id.value());
  for (const AgentId& id : gone) op.mutable_prune_agents()->add_gone()->set_value(id.value());
  return op;
}

Op stopMaintenance(const google::protobuf::RepeatedPtrField<v1::MachineID>& machines) {
  Op op;
  *op.mutable_stop_maintenance()->mutable_machines() = machines;
  return op;
}

}  // namespace mezzo::store
