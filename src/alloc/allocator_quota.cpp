// Quota accounting and offer caps of the Allocator (see allocator.hpp).
#include <algorithm>
#include <cmath>

#include "alloc/allocator.hpp"

namespace mezzo::alloc {
namespace {

void addInto(Quantities& into, const Quantities& quantities, double sign) {
  for (const auto& [name, value] : quantities) into[name] += sign * value;
}

double lookup(const Quantities& quantities, const std::string& name) {
  auto it = quantities.find(name);
  return it == quantities.end() ? 0.0 : it->second;
}

void lowerTo(Quantities& cap, const std::string& name, double value) {
  auto [it, inserted] = cap.try_emplace(name, value);
  if (!inserted) it->second = std::min(it->second, value);
}

}  // namespace

void Allocator::setQuota(const std::string& name, const Quota& quota) {
  RoleState& state = role(name);
  addInto(unsatisfiedTotal_, unsatisfiedGuarantee(state), -1);
  if (state.hasQuota) --quotaCount_;
  state.hasQuota = !quota.guarantees.empty() || !quota.limits.empty();
  state.quota = state.hasQuota ? quota : Quota();
  if (state.hasQuota) ++quotaCount_;
  addInto(unsatisfiedTotal_, unsatisfiedGuarantee(state), 1);
  updateLimitBlock(state);
  ++epoch_;
}

Quantities Allocator::consumption(const std::string& name) const {
  const RoleState* state = findRole(name);
  return state == nullptr ? Quantities() : state->consumption;
}

void Allocator::trackConsumption(RoleState& role, const Quantities& quantities, double sign) {
  auto add = [&](Quantities& into) {
    for (const auto& [name, value] : quantities) {
      double& current = into[name];
      current = std::max(0.0, current + sign * value);
    }
  };
  add(allocatedTotal_);
  for (RoleState* self = &role; self != nullptr; self = self->parent) {
    if (!self->hasQuota) {
      add(self->consumption);
      continue;
    }
    Quantities before = unsatisfiedGuarantee(*self);
    add(self->consumption);
    Quantities after = unsatisfiedGuarantee(*self);
    addInto(unsatisfiedTotal_, before, -1);
    addInto(unsatisfiedTotal_, after, 1);
    // Less headroom to hold back: agents that are quiet may now offer more.
    if (after != before) ++epoch_;
    updateLimitBlock(*self);
  }
}

void Allocator::updateLimitBlock(RoleState& role) {
  if (walkingRoles_) {
    pendingLimitBlocks_.push_back(&role);
    return;
  }
  Quantities cap;
  if (role.hasQuota) {
    for (const auto& [name, limit] : role.quota.limits) {
      cap[name] = std::max(0.0, limit - lookup(role.consumption, name));
    }
  }
  ClassMask classes = minimumClasses(cap, true);
  if (!role.frameworksWithOwnMinimum.empty()) classes |= kOwnMinimumClass;
  roleSorter_.setClasses(role.name, classes);
}

Quantities Allocator::unsatisfiedGuarantee(const RoleState& role) const {
  Quantities out;
  if (!role.hasQuota) return out;
  for (const auto& [name, guarantee] : role.quota.guarantees) {
    double have = lookup(role.consumption, name);
    if (guarantee > have) out[name] = guarantee - have;
  }
  return out;
}

ClassMask Allocator::minimumClasses(const Quantities& quantities, bool absentIsUnlimited) const {
  if (options_.minAllocatable.empty()) return kAllClasses;  // no minimum
  ClassMask classes = 0;
  for (size_t group = 0; group < options_.minAllocatable.size(); ++group) {
    // Groups beyond the last class share it (a class is a necessary
    // condition); the very last class is kOwnMinimumClass.
    if (meetsAnyGroup(quantities, {options_.minAllocatable[group]}, absentIsUnlimited)) {
      classes |= ClassMask{1} << std::min<size_t>(group, Sorter::kMaxClasses - 2);
    }
  }
  return classes;
}

Quantities Allocator::quotaCap(const RoleState& role) const {
  Quantities cap;
  // Limits of the role and of every ancestor: consumption stays below them.
  Quantities required = unsatisfiedTotal_;
  for (const RoleState* self = &role; self != nullptr; self = self->parent) {
    if (!self->hasQuota) continue;
    for (const auto& [name, limit] : self->quota.limits) {
      lowerTo(cap, name, std::max(0.0, limit - lookup(self->consumption, name)));
    }
    // Offers to a guaranteed role or its descendants count towards it, so
    // its own shortfall is not held back from them.
    addInto(required, unsatisfiedGuarantee(*self), -1);
  }
  // Headroom: what other roles still need to reach their guarantees stays free.
  for (const auto& [name, needed] : required) {
    if (needed <= 1e-9) continue;
    double free = lookup(totals_, name) - lookup(allocatedTotal_, name);
    lowerTo(cap, name, std::max(0.0, free - needed));
  }
  return cap;
}

Resources Allocator::capScalars(const Resources& resources, const Quantities& cap) {
  if (cap.empty()) return resources;
  std::map<std::string, int64_t> leftMillis;
  for (const auto& [name, value] : cap) leftMillis[name] = static_cast<int64_t>(std::floor(value * 1000 + 1e-6));
  Resources out;
  for (const ResourceEntry& entry : resources.entries()) {
    auto left = leftMillis.find(entry.name);
    if (entry.type != v1::Value::SCALAR || left == leftMillis.end()) {
      out.addEntry(entry);
      continue;
    }
    int64_t take = std::min(entry.scalarMillis, left->second);
    if (take <= 0) continue;
    ResourceEntry part = entry;
    part.scalarMillis = take;
    left->second -= take;
    out.addEntry(part);
  }
  return out;
}

}  // namespace mezzo::alloc
