#include <google/protobuf/util/message_differencer.h>

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
    case Op::OPERATION_NOT_SET:
      break;
  }
  return Status::invalidArgument("Registry operation has no operation set");
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

}  // namespace mezzo::store
