#include "alloc/allocator.hpp"

#include <algorithm>
#include <chrono>
#include <functional>
#include <utility>

namespace mezzo::alloc {
namespace {

uint64_t mix(uint64_t hash, uint64_t value) {
  hash ^= value + 0x9e3779b97f4a7c15ULL + (hash << 6) + (hash >> 2);
  return hash;
}

// A 64-bit content hash of a Resources value (never 0). Two different values
// share one with probability ~2^-64; a collision could only make a filter
// hold a little longer than it should (until it expires or is revived).
uint64_t fingerprint(const Resources& resources) {
  uint64_t hash = 0x84222325cbf29ce4ULL;
  std::hash<std::string> text;
  for (const ResourceEntry& entry : resources.entries()) {
    hash = mix(hash, text(entry.name));
    hash = mix(hash, static_cast<uint64_t>(entry.type));
    hash = mix(hash, static_cast<uint64_t>(entry.scalarMillis));
    for (const Interval& range : entry.ranges) hash = mix(mix(hash, range.begin), range.end);
    for (const std::string& item : entry.items) hash = mix(hash, text(item));
    for (const Reservation& reservation : entry.reservations) {
      hash = mix(mix(hash, text(reservation.role)), static_cast<uint64_t>(reservation.type));
    }
    hash = mix(mix(hash, text(entry.allocationRole)), entry.revocable ? 1 : 2);
  }
  return hash == 0 ? 1 : hash;
}

}  // namespace

struct Allocator::AgentState {
  AgentId id;
  uint32_t index = 0;  // unique for this allocator's lifetime; keys filters
  Resources total;
  bool hasGpus = false;  // total holds gpus
  Resources allocated;  // offered or used, with allocation roles
  Resources available;  // total minus allocated, kept up to date
  AgentInfoForAllocation info;
  std::map<FrameworkId, Resources> allocatedByFramework;
  bool active = true;
  bool changed = false;  // listed in changedAgents_
  // Visited without result: skipped until quietUntil unless it or epoch_ changes.
  bool quiet = false;
  uint64_t quietEpoch = 0;
  TimePoint quietUntil;
};

struct Allocator::FrameworkState {
  FrameworkId id;
  FrameworkSpec spec;
  bool active = true;
  // Decline filters by (role index << 32 | agent index).
  std::unordered_map<uint64_t, std::vector<Filter>> filters;
  // Offer constraint verdicts by the same key (agents do not change attributes).
  std::unordered_map<uint64_t, bool> constraintVerdicts;
};

// What an agent can offer to one role (optionally without revocable
// resources), computed once per agent visit and after each allocation.
struct Allocator::Offerable {
  bool computed = false;
  Resources resources;
  Quantities scalars;          // of `resources`
  bool worthOffering = false;  // non-empty and above the global minimum allocatable size
  uint64_t fingerprint = 0;
};

namespace {
uint64_t filterKey(uint32_t role, uint32_t agent) { return (static_cast<uint64_t>(role) << 32) | agent; }
}  // namespace

Allocator::Allocator(AllocatorOptions options)
    : options_(std::move(options)),
      roleSorter_(options_.roleSorter, ClientNames::kHierarchical, options_.randomSeed) {}
Allocator::~Allocator() = default;

void Allocator::markChanged(AgentState& agent) {
  agent.quiet = false;
  if (agent.changed) return;
  agent.changed = true;
  changedAgents_.push_back(agent.id);
}

void Allocator::refreshAvailable(AgentState& agent) {
  agent.available = agent.total - agent.allocated.withoutAllocation();
  markChanged(agent);
}

void Allocator::changeTotals(const Resources& total, double sign) {
  for (const auto& [name, value] : total.scalarQuantities()) totals_[name] += sign * value;
  std::erase_if(totals_, [](const auto& item) { return item.second <= 1e-9; });
  totalsChanged_ = true;
  // More free resources in the cluster can lift a guarantee-headroom cap anywhere.
  if (quotaCount_ > 0) ++epoch_;
}

void Allocator::pushTotals() const {
  if (!totalsChanged_) return;
  totalsChanged_ = false;
  roleSorter_.setTotal(totals_);
  for (auto& [name, role] : roles_) {
    if (role->frameworks) role->frameworks->setTotal(totals_);
  }
}

void Allocator::addAgent(const AgentId& agent, const Resources& total, const std::map<FrameworkId, Resources>& used) {
  addAgent(agent, total, used, AgentInfoForAllocation{});
}

void Allocator::addAgent(const AgentId& agent, const Resources& total, const std::map<FrameworkId, Resources>& used,
                         const AgentInfoForAllocation& info) {
  auto state = std::make_unique<AgentState>();
  state->id = agent;
  state->info = info;
  state->index = nextAgentIndex_++;
  state->total = total.withoutAllocation();
  state->hasGpus = state->total.scalar("gpus") > 0;
  state->available = state->total;
  changeTotals(state->total, 1);
  markChanged(*state);
  agents_[agent] = std::move(state);
  for (const auto& [framework, resources] : used) addUsed(framework, agent, resources);
}

void Allocator::removeAgent(const AgentId& agent) {
  auto it = agents_.find(agent);
  if (it == agents_.end()) return;
  // Allocations on the agent stop counting towards shares.
  for (const auto& [framework, resources] : it->second->allocatedByFramework) {
    std::set<std::string> roles;
    for (const ResourceEntry& entry : resources.entries()) roles.insert(entry.allocationRole);
    for (const std::string& name : roles) trackUnallocated(framework, role(name), resources.allocatedTo(name));
  }
  uint32_t index = it->second->index;
  changeTotals(it->second->total, -1);
  agents_.erase(it);
  for (auto& [id, framework] : frameworks_) {
    auto onAgent = [&](const auto& item) { return static_cast<uint32_t>(item.first) == index; };
    std::erase_if(framework->filters, onAgent);
    std::erase_if(framework->constraintVerdicts, onAgent);
  }
}

void Allocator::activateAgent(const AgentId& agent) {
  if (auto it = agents_.find(agent); it != agents_.end()) {
    it->second->active = true;
    markChanged(*it->second);
  }
}

void Allocator::deactivateAgent(const AgentId& agent) {
  if (auto it = agents_.find(agent); it != agents_.end()) it->second->active = false;
}

Allocator::RoleState& Allocator::role(const std::string& name) {
  auto it = roles_.find(name);
  if (it != roles_.end()) return *it->second;
  auto state = std::make_unique<RoleState>();
  state->name = name;
  state->index = static_cast<uint32_t>(roles_.size());
  if (size_t slash = name.rfind('/'); slash != std::string::npos) state->parent = &role(name.substr(0, slash));
  return *roles_.emplace(name, std::move(state)).first->second;
}

const Allocator::RoleState* Allocator::findRole(const std::string& name) const {
  auto it = roles_.find(name);
  return it == roles_.end() ? nullptr : it->second.get();
}

void Allocator::addRoleClient(const std::string& name, const FrameworkId& framework) {
  pushTotals();
  RoleState& state = role(name);
  roleSorter_.add(name);  // with the weight set for it before, if any
  if (!state.frameworks) {
    // Each role's random order has its own stream, derived from the seed.
    state.frameworks = std::make_unique<Sorter>(options_.frameworkSorter, ClientNames::kFlat,
                                                options_.randomSeed ^ (0x9e3779b97f4a7c15ULL * (state.index + 1)));
    state.frameworks->setTotal(totals_);
  }
  if (!state.frameworks->contains(framework.value())) state.frameworks->add(framework.value());
  if (quotaCount_ > 0) updateLimitBlock(state);
  trackOwnMinimum(*frameworks_.at(framework), name, true);
}

void Allocator::removeRoleClient(const std::string& name, const FrameworkId& framework) {
  auto it = roles_.find(name);
  if (it == roles_.end() || !it->second->frameworks) return;
  trackOwnMinimum(*frameworks_.at(framework), name, false);
  Sorter& sorter = *it->second->frameworks;
  sorter.remove(framework.value());
  if (sorter.size() == 0) {
    it->second->frameworks.reset();
    roleSorter_.remove(name);
  }
}

void Allocator::addFramework(const FrameworkId& framework, const FrameworkSpec& spec, bool active) {
  auto state = std::make_unique<FrameworkState>();
  state->id = framework;
  state->spec = spec;
  state->active = active;
  frameworksByName_[framework.value()] = state.get();
  frameworks_[framework] = std::move(state);
  for (const std::string& role : spec.roles) addRoleClient(role, framework);
  ++epoch_;
}

void Allocator::updateFramework(const FrameworkId& framework, const FrameworkSpec& spec) {
  auto it = frameworks_.find(framework);
  if (it == frameworks_.end()) return;
  const FrameworkSpec previous = std::exchange(it->second->spec, spec);
  for (const std::string& role : previous.roles) {
    if (!spec.roles.contains(role)) removeRoleClient(role, framework);
  }
  for (const std::string& role : spec.roles) addRoleClient(role, framework);
  it->second->constraintVerdicts.clear();
  // A changed capability changes what is offerable: forget covered fingerprints.
  for (auto& [key, filters] : it->second->filters) {
    for (Filter& filter : filters) filter.coveredFingerprint = 0;
  }
  ++epoch_;
}

void Allocator::removeFramework(const FrameworkId& framework) {
  auto it = frameworks_.find(framework);
  if (it == frameworks_.end()) return;
  for (const std::string& role : it->second->spec.roles) removeRoleClient(role, framework);
  frameworksByName_.erase(framework.value());
  frameworks_.erase(it);
}

void Allocator::activateFramework(const FrameworkId& framework) {
  if (auto it = frameworks_.find(framework); it != frameworks_.end()) {
    it->second->active = true;
    ++epoch_;
  }
}

void Allocator::deactivateFramework(const FrameworkId& framework) {
  if (auto it = frameworks_.find(framework); it != frameworks_.end()) it->second->active = false;
}

void Allocator::trackSorters(const FrameworkId& framework, RoleState& role, const Quantities& quantities,
                             double sign) {
  if (sign > 0) {
    roleSorter_.allocated(role.name, quantities);
    if (role.frameworks) role.frameworks->allocated(framework.value(), quantities);
  } else {
    roleSorter_.unallocated(role.name, quantities);
    if (role.frameworks) role.frameworks->unallocated(framework.value(), quantities);
  }
}

void Allocator::trackAllocated(const FrameworkId& framework, RoleState& role, const Resources& resources) {
  auto quantities = resources.scalarQuantities();
  trackConsumption(role, quantities, 1);
  trackSorters(framework, role, quantities, 1);
}

void Allocator::trackUnallocated(const FrameworkId& framework, RoleState& role, const Resources& resources) {
  auto quantities = resources.scalarQuantities();
  trackConsumption(role, quantities, -1);
  trackSorters(framework, role, quantities, -1);
  // Freed consumption can open quota headroom on agents that are quiet.
  if (quotaCount_ > 0) ++epoch_;
}

void Allocator::addUsed(const FrameworkId& framework, const AgentId& agent, const Resources& resources) {
  auto it = agents_.find(agent);
  if (it == agents_.end()) return;
  it->second->allocated += resources;
  it->second->allocatedByFramework[framework] += resources;
  refreshAvailable(*it->second);
  std::set<std::string> roles;
  for (const ResourceEntry& entry : resources.entries()) roles.insert(entry.allocationRole);
  for (const std::string& name : roles) trackAllocated(framework, role(name), resources.allocatedTo(name));
}

void Allocator::recoverResources(const FrameworkId& framework, const AgentId& agent, const Resources& resources,
                                 std::optional<Duration> filter, TimePoint now) {
  if (resources.empty()) return;
  auto agentIt = agents_.find(agent);
  if (agentIt != agents_.end()) {
    agentIt->second->allocated -= resources;
    auto& byFramework = agentIt->second->allocatedByFramework;
    if (auto it = byFramework.find(framework); it != byFramework.end()) {
      it->second -= resources;
      if (it->second.empty()) byFramework.erase(it);
    }
    refreshAvailable(*agentIt->second);
  }
  std::set<std::string> roles;
  for (const ResourceEntry& entry : resources.entries()) roles.insert(entry.allocationRole);
  for (const std::string& name : roles) trackUnallocated(framework, role(name), resources.allocatedTo(name));

  auto frameworkIt = frameworks_.find(framework);
  if (!filter || *filter <= Duration::zero() || frameworkIt == frameworks_.end() || agentIt == agents_.end()) {
    return;
  }
  Duration duration = std::min(*filter, options_.maxFilterDuration);
  for (const std::string& name : roles) {
    frameworkIt->second->filters[filterKey(role(name).index, agentIt->second->index)].push_back(
        Filter{resources.allocatedTo(name).withoutAllocation(), now + duration, 0});
  }
}

void Allocator::suppressRoles(const FrameworkId& framework, const std::set<std::string>& roles) {
  auto it = frameworks_.find(framework);
  if (it == frameworks_.end()) return;
  const std::set<std::string>& target = roles.empty() ? it->second->spec.roles : roles;
  it->second->spec.suppressedRoles.insert(target.begin(), target.end());
}

std::set<std::string> Allocator::suppressedRoles(const FrameworkId& framework) const {
  auto it = frameworks_.find(framework);
  return it == frameworks_.end() ? std::set<std::string>{} : it->second->spec.suppressedRoles;
}

void Allocator::reviveRoles(const FrameworkId& framework, const std::set<std::string>& roles) {
  auto it = frameworks_.find(framework);
  if (it == frameworks_.end()) return;
  const std::set<std::string> target = roles.empty() ? it->second->spec.roles : roles;
  for (const std::string& name : target) {
    it->second->spec.suppressedRoles.erase(name);
    uint32_t index = role(name).index;
    std::erase_if(it->second->filters, [&](const auto& item) { return (item.first >> 32) == index; });
  }
  ++epoch_;
}

void Allocator::setWeight(const std::string& role, double weight) {
  roleSorter_.setWeight(role, weight);
}

// The expiry of a live filter that covers `offerable`, if any. A filter that
// covered the same content before answers by fingerprint, without resource math.
std::optional<TimePoint> Allocator::filteredUntil(FrameworkState& framework, uint64_t key, const Offerable& offerable,
                                                  TimePoint now) {
  auto it = framework.filters.find(key);
  if (it == framework.filters.end()) return std::nullopt;
  std::erase_if(it->second, [&](const Filter& filter) { return filter.expiry <= now; });
  if (it->second.empty()) {
    framework.filters.erase(it);
    return std::nullopt;
  }
  for (Filter& filter : it->second) {
    if (filter.coveredFingerprint == offerable.fingerprint) return filter.expiry;
  }
  for (Filter& filter : it->second) {
    if (filter.resources.contains(offerable.resources)) {
      filter.coveredFingerprint = offerable.fingerprint;
      return filter.expiry;
    }
  }
  return std::nullopt;
}

bool Allocator::meetsAnyGroup(const Quantities& quantities, const std::vector<Quantities>& groups,
                              bool absentIsUnlimited) {
  if (groups.empty()) return true;  // no minimum
  return std::any_of(groups.begin(), groups.end(), [&](const Quantities& group) {
    return std::all_of(group.begin(), group.end(), [&](const auto& item) {
      auto it = quantities.find(item.first);
      if (it == quantities.end()) return absentIsUnlimited;
      return it->second + 1e-9 >= item.second;
    });
  });
}

void Allocator::trackOwnMinimum(const FrameworkState& framework, const std::string& name, bool subscribed) {
  RoleState& state = role(name);
  bool own = subscribed && framework.spec.minAllocatableByRole.contains(name);
  auto& with = state.frameworksWithOwnMinimum;
  bool had = with.contains(framework.id.value());
  if (own == had) return;
  if (own) {
    with.insert(framework.id.value());
    ++ownMinimumCount_;
  } else {
    with.erase(framework.id.value());
    --ownMinimumCount_;
  }
  updateLimitBlock(state);
}

bool Allocator::passesConstraints(FrameworkState& framework, const RoleState& role, const AgentState& agent) {
  auto constraints = framework.spec.offerConstraintsByRole.find(role.name);
  if (constraints == framework.spec.offerConstraintsByRole.end()) return true;
  auto [it, inserted] = framework.constraintVerdicts.try_emplace(filterKey(role.index, agent.index), false);
  if (inserted) it->second = constraintMatcher_.matches(constraints->second, agent.info);
  return it->second;
}

// Offers what the agent has for `role` to one framework unless it is inactive,
// suppressed the role, the rest is too small, or a filter holds it back.
// Returns true if an allocation was made.
bool Allocator::offerOnAgent(AgentState& agent, RoleState& role, FrameworkState& framework, TimePoint now,
                             Offerable& all, Offerable& nonRevocable, TimePoint& blockedUntil,
                             std::vector<Allocation>& out) {
  if (!framework.active || framework.spec.suppressedRoles.contains(role.name)) return false;
  if (agent.hasGpus && options_.filterGpuResources && !framework.spec.gpuCapable) return false;
  if (!framework.spec.offerConstraintsByRole.empty() && !passesConstraints(framework, role, agent)) return false;
  Offerable& offerable = framework.spec.revocableCapable ? all : nonRevocable;
  if (!offerable.computed) {
    offerable.computed = true;
    offerable.resources = agent.available.allocatableTo(role.name);
    if (!framework.spec.revocableCapable) offerable.resources = offerable.resources.nonRevocable();
    if (quotaCount_ > 0) offerable.resources = capScalars(offerable.resources, quotaCap(role));
    offerable.scalars = offerable.resources.scalarQuantities();
    offerable.worthOffering =
        !offerable.resources.empty() && meetsAnyGroup(offerable.scalars, options_.minAllocatable, false);
    offerable.fingerprint = offerable.resources.empty() ? 0 : fingerprint(offerable.resources);
  }
  if (offerable.resources.empty()) return false;
  auto own = framework.spec.minAllocatableByRole.find(role.name);
  bool worth = own == framework.spec.minAllocatableByRole.end()
                   ? offerable.worthOffering
                   : meetsAnyGroup(offerable.scalars, own->second, false);
  if (!worth) return false;
  if (auto expiry = filteredUntil(framework, filterKey(role.index, agent.index), offerable, now)) {
    blockedUntil = std::min(blockedUntil, *expiry);
    return false;
  }
  Resources allocation = offerable.resources.withAllocationRole(role.name);
  agent.available -= offerable.resources;
  agent.allocated += allocation;
  agent.allocatedByFramework[framework.id] += allocation;
  // Quota consumption counts at once (later roles on this agent see it); the
  // sorters are updated when the agent is done.
  trackConsumption(role, allocation.scalarQuantities(), 1);
  out.push_back(Allocation{framework.id, agent.id, role.name, std::move(allocation)});
  all = Offerable();
  nonRevocable = Offerable();
  return true;
}

// One agent: roles in DRF order, then each role's frameworks in DRF order.
// The sorters are updated once the agent is done (orders are per agent).
void Allocator::allocateOnAgent(AgentState& agent, TimePoint now, std::vector<Allocation>& out) {
  if (!agent.active || agent.available.empty()) return;
  if (agent.quiet && agent.quietEpoch == epoch_ && now < agent.quietUntil) return;
  const size_t first = out.size();
  const uint64_t epochAtStart = epoch_;
  TimePoint blockedUntil = TimePoint::max();
  // Under quota, roles whose own limits leave none of the minimum-allocatable
  // groups the agent can still fill are passed over by the sorter (classes).
  auto offerableClasses = [&] {
    if (quotaCount_ == 0) return kAllClasses;
    ClassMask classes = minimumClasses(agent.available.scalarQuantities(), false);
    return ownMinimumCount_ > 0 && !agent.available.empty() ? classes | kOwnMinimumClass : classes;
  };
  ClassMask wanted = offerableClasses();
  walkingRoles_ = true;
  roleSorter_.forEach(
      [&](const std::string& name) {
        RoleState& role = *roles_.at(name);
        if (!role.frameworks) return true;
        // A role held at its limit (or by others' guarantees) is skipped without resource math.
        if (quotaCount_ > 0 && role.frameworksWithOwnMinimum.empty() && !canMeetMinimum(quotaCap(role))) {
          return true;
        }
        Offerable all;
        Offerable nonRevocable;
        role.frameworks->forEach([&](const std::string& id) {
          if (offerOnAgent(agent, role, *frameworksByName_.at(id), now, all, nonRevocable, blockedUntil, out)) {
            wanted = offerableClasses();
          }
          return !agent.available.empty() && wanted != 0;
        });
        return !agent.available.empty() && wanted != 0;
      },
      wanted);
  walkingRoles_ = false;
  for (RoleState* role : std::exchange(pendingLimitBlocks_, {})) updateLimitBlock(*role);
  for (size_t i = first; i < out.size(); ++i) {
    trackSorters(out[i].framework, role(out[i].role), out[i].resources.scalarQuantities(), 1);
  }
  // Whatever is left is not offerable to anyone now (a smaller remainder is
  // still filtered / too small for those who passed): quiet until an event.
  // A change during the walk (quota headroom freed) means roles visited
  // before it were judged on stale headroom: then the next cycle looks again.
  agent.quiet = true;
  agent.quietEpoch = epochAtStart;
  agent.quietUntil = blockedUntil;
}

std::vector<Allocation> Allocator::allocate(TimePoint now, AllocationScope scope) {
  // Measurement only (allocation_run_ms): no decision depends on it.
  const auto started = std::chrono::steady_clock::now();
  ++allocationRuns_;
  pushTotals();
  std::vector<Allocation> result;
  std::vector<AgentId> changed = std::move(changedAgents_);
  changedAgents_.clear();
  for (const AgentId& id : changed) {
    if (auto it = agents_.find(id); it != agents_.end()) it->second->changed = false;
  }
  if (scope == AllocationScope::kAll || lastCycleEpoch_ != epoch_) {
    for (auto& [agentId, agent] : agents_) allocateOnAgent(*agent, now, result);
  } else {
    std::sort(changed.begin(), changed.end());
    changed.erase(std::unique(changed.begin(), changed.end()), changed.end());
    for (const AgentId& id : changed) {
      if (auto it = agents_.find(id); it != agents_.end()) allocateOnAgent(*it->second, now, result);
    }
  }
  lastCycleEpoch_ = epoch_;
  offersMade_ += result.size();
  lastAllocationRunMs_ =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  return result;
}

Resources Allocator::available(const AgentId& agent) const {
  auto it = agents_.find(agent);
  return it == agents_.end() ? Resources() : it->second->available;
}

Resources Allocator::allocated(const AgentId& agent) const {
  auto it = agents_.find(agent);
  return it == agents_.end() ? Resources() : it->second->allocated;
}

double Allocator::roleShare(const std::string& role) const {
  pushTotals();
  return roleSorter_.share(role);
}

size_t Allocator::activeFilterCount() const {
  size_t count = 0;
  for (const auto& [id, framework] : frameworks_) {
    for (const auto& [key, filters] : framework->filters) count += filters.size();
  }
  return count;
}

AllocatorStats Allocator::stats(TimePoint now) const {
  pushTotals();
  AllocatorStats out;
  out.allocationRuns = allocationRuns_;
  out.lastAllocationRunMs = lastAllocationRunMs_;
  out.offersMade = offersMade_;
  std::unordered_map<uint32_t, const std::string*> roleNames;
  for (const auto& [name, role] : roles_) {
    roleNames[role->index] = &role->name;
    if (role->hasQuota) out.quotaConsumption[name] = role->consumption;
    if (role->frameworks) out.dominantShares[name] = roleSorter_.share(name);
  }
  for (const auto& [id, framework] : frameworks_) {
    for (const auto& [key, filters] : framework->filters) {
      size_t live = static_cast<size_t>(
          std::count_if(filters.begin(), filters.end(), [&](const Filter& filter) { return filter.expiry > now; }));
      if (live == 0) continue;
      out.activeFilters += live;
      out.activeFiltersByRole[*roleNames.at(static_cast<uint32_t>(key >> 32))] += live;
    }
  }
  return out;
}

}  // namespace mezzo::alloc
