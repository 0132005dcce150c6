// Quota accounting and offer caps of the Allocator (see allocator.hpp).
#include <algorithm>
#include <cmath>

#include "alloc/allocator.hpp"

namespace mezzo::alloc {
namespace {

// `role`, then its ancestors: eng/ml/training, eng/ml, eng.
template <typename Visit>
void forSelfAndAncestors(const std::string& role, Visit visit) {
  std::string_view current = role;
  while (true) {
    visit(current);
    size_t slash = current.rfind('/');
    if (slash == std::string_view::npos) return;
    current = current.substr(0, slash);
  }
}

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

void Allocator::setQuota(const std::string& role, const Quota& quota) {
  addInto(unsatisfiedTotal_, unsatisfiedGuarantee(role), -1);
  if (quota.guarantees.empty() && quota.limits.empty()) {
    quotas_.erase(role);
  } else {
    quotas_[role] = quota;
  }
  addInto(unsatisfiedTotal_, unsatisfiedGuarantee(role), 1);
  updateLimitBlock(role);
  ++epoch_;
}

Quantities Allocator::consumption(const std::string& role) const {
  auto it = consumption_.find(role);
  return it == consumption_.end() ? Quantities() : it->second;
}

void Allocator::trackConsumption(const std::string& role, const Quantities& quantities, double sign) {
  auto add = [&](Quantities& into) {
    for (const auto& [name, value] : quantities) {
      double& current = into[name];
      current = std::max(0.0, current + sign * value);
    }
  };
  add(allocatedTotal_);
  forSelfAndAncestors(role, [&](std::string_view self) {
    std::string name(self);
    bool hasQuota = !quotas_.empty() && quotas_.contains(name);
    Quantities before = hasQuota ? unsatisfiedGuarantee(name) : Quantities();
    add(consumption_[name]);
    if (!hasQuota) return;
    Quantities after = unsatisfiedGuarantee(name);
    addInto(unsatisfiedTotal_, before, -1);
    addInto(unsatisfiedTotal_, after, 1);
    // Less headroom to hold back: agents that are quiet may now offer more.
    if (after != before) ++epoch_;
    updateLimitBlock(name);
  });
}

void Allocator::updateLimitBlock(const std::string& role) {
  if (walkingRoles_) {
    pendingLimitBlocks_.push_back(role);
    return;
  }
  Quantities cap;
  auto quota = quotas_.find(role);
  if (quota != quotas_.end()) {
    auto used = consumption_.find(role);
    for (const auto& [name, limit] : quota->second.limits) {
      double have = used == consumption_.end() ? 0.0 : lookup(used->second, name);
      cap[name] = std::max(0.0, limit - have);
    }
  }
  roleSorter_.setActive(role, canMeetMinimum(cap));
}

Quantities Allocator::unsatisfiedGuarantee(const std::string& role) const {
  Quantities out;
  auto quota = quotas_.find(role);
  if (quota == quotas_.end()) return out;
  auto used = consumption_.find(role);
  for (const auto& [name, guarantee] : quota->second.guarantees) {
    double have = used == consumption_.end() ? 0.0 : lookup(used->second, name);
    if (guarantee > have) out[name] = guarantee - have;
  }
  return out;
}

bool Allocator::canMeetMinimum(const Quantities& cap) const {
  return std::any_of(options_.minAllocatable.begin(), options_.minAllocatable.end(), [&](const auto& minimum) {
    return std::all_of(minimum.begin(), minimum.end(), [&](const auto& item) {
      auto it = cap.find(item.first);
      return it == cap.end() || it->second + 1e-9 >= item.second;
    });
  });
}

Quantities Allocator::quotaCap(const std::string& role) const {
  Quantities cap;
  // Limits of the role and of every ancestor: consumption stays below them.
  Quantities required = unsatisfiedTotal_;
  forSelfAndAncestors(role, [&](std::string_view self) {
    auto quota = quotas_.find(std::string(self));
    if (quota == quotas_.end()) return;
    auto used = consumption_.find(quota->first);
    for (const auto& [name, limit] : quota->second.limits) {
      double have = used == consumption_.end() ? 0.0 : lookup(used->second, name);
      lowerTo(cap, name, std::max(0.0, limit - have));
    }
    // Offers to a guaranteed role or its descendants count towards it, so
    // its own shortfall is not held back from them.
    addInto(required, unsatisfiedGuarantee(quota->first), -1);
  });
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
