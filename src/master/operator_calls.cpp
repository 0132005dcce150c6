// Operator calls that change allocation policy: UPDATE_WEIGHTS and
// UPDATE_QUOTA (v1 operator API, mesos-reference.md §3.1, §4.7). Both are
// validated as a whole, made durable in the registry, and only then applied
// to the allocator (registryOperationDone -> applyPolicyOperation), so a
// change the operator was told about survives a master restart and a change
// that failed to persist is never half-applied.
#include <cmath>

#include "master/master_core.hpp"

namespace mezzo::master {

namespace {

Status validateQuantities(const std::string& role, const char* what,
                          const google::protobuf::Map<std::string, v1::Value::Scalar>& quantities) {
  for (const auto& [name, scalar] : quantities) {
    if (name.empty()) return Status::invalidArgument("Quota of role '" + role + "' has an empty resource name");
    if (!std::isfinite(scalar.value()) || scalar.value() < 0) {
      return Status::invalidArgument(std::string("Quota ") + what + " of '" + name + "' for role '" + role +
                                     "' must be a non-negative number");
    }
  }
  return Status::ok();
}

}  // namespace

alloc::Quota toAllocatorQuota(const v1::quota::QuotaConfig& config) {
  alloc::Quota quota;
  for (const auto& [name, scalar] : config.guarantees()) quota.guarantees[name] = scalar.value();
  for (const auto& [name, scalar] : config.limits()) quota.limits[name] = scalar.value();
  return quota;
}

Result<uint64_t> MasterCore::updateWeights(const v1::master::Call::UpdateWeights& update, TimePoint now) {
  (void)now;
  std::map<std::string, double> weights;
  for (const v1::WeightInfo& info : update.weight_infos()) {
    std::string error = validateRoleName(info.role());
    if (!info.has_role() || !error.empty()) {
      return Status::invalidArgument("Invalid role in weight_infos: " + (error.empty() ? "missing" : error));
    }
    if (!std::isfinite(info.weight()) || info.weight() <= 0) {
      return Status::invalidArgument("Weight of role '" + info.role() + "' must be a positive number");
    }
    if (!weights.emplace(info.role(), info.weight()).second) {
      return Status::invalidArgument("Role '" + info.role() + "' appears more than once in weight_infos");
    }
  }
  if (weights.empty()) return Status::invalidArgument("'update_weights.weight_infos' is empty");
  return persistIfApplicable(store::updateWeights(weights));
}

Result<uint64_t> MasterCore::updateQuota(const v1::master::Call::UpdateQuota& update, TimePoint now) {
  (void)now;
  std::set<std::string> roles;
  for (const v1::quota::QuotaConfig& config : update.quota_configs()) {
    const std::string& role = config.role();
    std::string error = validateRoleName(role);
    if (!error.empty()) return Status::invalidArgument("Invalid 'QuotaConfig.role': " + error);
    if (role == "*") return Status::invalidArgument("Invalid 'QuotaConfig.role': '*' cannot have quota");
    if (!roles.insert(role).second) return Status::invalidArgument("Role '" + role + "' has more than one QuotaConfig");
    if (Status status = validateQuantities(role, "guarantee", config.guarantees()); !status) return status;
    if (Status status = validateQuantities(role, "limit", config.limits()); !status) return status;
    for (const auto& [name, guarantee] : config.guarantees()) {
      auto limit = config.limits().find(name);
      if (limit != config.limits().end() && guarantee.value() > limit->second.value()) {
        return Status::invalidArgument("Guarantee of '" + name + "' for role '" + role + "' exceeds its limit");
      }
    }
  }
  if (roles.empty()) return Status::invalidArgument("'update_quota.quota_configs' is empty");

  if (!update.force()) {
    // A new limit below what the role's subtree already uses would leave the
    // cluster in violation of its own quota (Mesos refuses it unless forced).
    for (const v1::quota::QuotaConfig& config : update.quota_configs()) {
      alloc::Quantities used = usedByRoleSubtree(config.role());
      for (const auto& [name, limit] : config.limits()) {
        auto it = used.find(name);
        if (it != used.end() && it->second > limit.value() + 1e-9) {
          return Status::invalidArgument("Role '" + config.role() + "' already uses " + std::to_string(it->second) +
                                         " " + name + ", more than the new limit " + std::to_string(limit.value()) +
                                         " (set 'force' to apply anyway)");
        }
      }
    }
    // The guarantees must fit in the cluster (no overcommit) unless forced;
    // an update that does not raise the total guarantee of a resource is
    // allowed even if an earlier forced update overcommitted it.
    std::map<std::string, double> before;
    std::map<std::string, double> after;
    for (const auto& [role, config] : registry_.quotas()) {
      for (const auto& [name, scalar] : config.guarantees()) {
        before[name] += scalar.value();
        if (!roles.contains(role)) after[name] += scalar.value();
      }
    }
    for (const v1::quota::QuotaConfig& config : update.quota_configs()) {
      for (const auto& [name, scalar] : config.guarantees()) after[name] += scalar.value();
    }
    Resources total;
    for (const auto& [id, agent] : agents_) total += agent->total;
    for (const auto& [name, amount] : after) {
      if (amount > total.scalar(name) + 1e-9 && amount > before[name] + 1e-9) {
        return Status::invalidArgument("Total quota guarantees of " + std::to_string(amount) + " " + name +
                                       " would exceed the cluster's " + std::to_string(total.scalar(name)) +
                                       " (set 'force' to apply anyway)");
      }
    }
  }
  std::vector<v1::quota::QuotaConfig> configs(update.quota_configs().begin(), update.quota_configs().end());
  return persistIfApplicable(store::updateQuota(configs));
}

Result<uint64_t> MasterCore::persistIfApplicable(internal::RegistryOperation operation) {
  store::RegistryState trial = registry_;
  if (Status status = trial.apply(operation); !status) return status;
  return persist(std::move(operation));
}

alloc::Quantities MasterCore::usedByRoleSubtree(const std::string& role) const {
  alloc::Quantities used;
  for (const auto& [id, framework] : frameworks_) {
    for (const auto& [taskId, task] : framework->tasks) {
      if (task.resourcesReleased) continue;
      for (const ResourceEntry& entry : task.resources.entries()) {
        if (entry.type == v1::Value::SCALAR && isRoleOrDescendant(entry.allocationRole, role)) {
          used[entry.name] += entry.scalar();
        }
      }
    }
  }
  return used;
}

void MasterCore::applyPolicyOperation(const internal::RegistryOperation& operation, TimePoint now) {
  std::set<std::string> roles;
  if (operation.has_update_weights()) {
    for (const auto& weight : operation.update_weights().weights()) {
      options_.weights[weight.role()] = weight.weight();
      allocator_.setWeight(weight.role(), weight.weight());
      roles.insert(weight.role());
    }
  } else if (operation.has_update_quota()) {
    for (const auto& config : operation.update_quota().configs()) {
      allocator_.setQuota(config.role(), toAllocatorQuota(config));
      roles.insert(config.role());
    }
  } else {
    return;
  }
  // Outstanding offers were made under the old policy: take back those of the
  // roles concerned (and their subtrees) so the next cycle offers under the new one.
  std::vector<OfferId> stale;
  for (const auto& [id, offer] : offers_) {
    for (const std::string& role : roles) {
      if (isRoleOrDescendant(offer.role, role)) {
        stale.push_back(id);
        break;
      }
    }
  }
  for (const OfferId& id : stale) rescindOffer(id, true, now);
  allocationWanted_ = true;
}

}  // namespace mezzo::master
