#include "alloc/allocator.hpp"

#include <algorithm>

namespace mezzo::alloc {

struct Allocator::AgentState {
  Resources total;
  Resources allocated;  // offered or used, with allocation roles
  std::map<FrameworkId, Resources> allocatedByFramework;
  bool active = true;
};

struct Allocator::FrameworkState {
  FrameworkSpec spec;
  bool active = true;
  // Decline filters by (role, agent).
  std::map<std::pair<std::string, AgentId>, std::vector<Filter>> filters;
};

Allocator::Allocator(AllocatorOptions options) : options_(std::move(options)) {}
Allocator::~Allocator() = default;

void Allocator::addAgent(const AgentId& agent, const Resources& total, const std::map<FrameworkId, Resources>& used) {
  auto state = std::make_unique<AgentState>();
  state->total = total.withoutAllocation();
  agents_[agent] = std::move(state);
  updateTotals();
  for (const auto& [framework, resources] : used) addUsed(framework, agent, resources);
}

void Allocator::removeAgent(const AgentId& agent) {
  auto it = agents_.find(agent);
  if (it == agents_.end()) return;
  // Allocations on the agent stop counting towards shares.
  for (const auto& [framework, resources] : it->second->allocatedByFramework) {
    std::set<std::string> roles;
    for (const ResourceEntry& entry : resources.entries()) roles.insert(entry.allocationRole);
    for (const std::string& role : roles) trackUnallocated(framework, role, resources.allocatedTo(role));
  }
  agents_.erase(it);
  for (auto& [id, framework] : frameworks_) {
    std::erase_if(framework->filters, [&](const auto& item) { return item.first.second == agent; });
  }
  updateTotals();
}

void Allocator::activateAgent(const AgentId& agent) {
  if (auto it = agents_.find(agent); it != agents_.end()) it->second->active = true;
}

void Allocator::deactivateAgent(const AgentId& agent) {
  if (auto it = agents_.find(agent); it != agents_.end()) it->second->active = false;
}

void Allocator::addRoleClient(const std::string& role, const FrameworkId& framework) {
  if (!roleSorter_.contains(role)) {
    auto weight = weights_.find(role);
    roleSorter_.add(role, weight == weights_.end() ? 1.0 : weight->second);
    roleSorter_.setTotal(totals_);
  }
  auto& sorter = frameworkSorters_[role];
  if (!sorter) {
    sorter = std::make_unique<DrfSorter>();
    sorter->setTotal(totals_);
  }
  if (!sorter->contains(framework.value())) sorter->add(framework.value());
}

void Allocator::removeRoleClient(const std::string& role, const FrameworkId& framework) {
  auto it = frameworkSorters_.find(role);
  if (it == frameworkSorters_.end()) return;
  it->second->remove(framework.value());
  if (it->second->size() == 0) {
    frameworkSorters_.erase(it);
    roleSorter_.remove(role);
  }
}

void Allocator::addFramework(const FrameworkId& framework, const FrameworkSpec& spec, bool active) {
  auto state = std::make_unique<FrameworkState>();
  state->spec = spec;
  state->active = active;
  frameworks_[framework] = std::move(state);
  for (const std::string& role : spec.roles) addRoleClient(role, framework);
}

void Allocator::updateFramework(const FrameworkId& framework, const FrameworkSpec& spec) {
  auto it = frameworks_.find(framework);
  if (it == frameworks_.end()) return;
  for (const std::string& role : it->second->spec.roles) {
    if (!spec.roles.contains(role)) removeRoleClient(role, framework);
  }
  for (const std::string& role : spec.roles) addRoleClient(role, framework);
  it->second->spec = spec;
}

void Allocator::removeFramework(const FrameworkId& framework) {
  auto it = frameworks_.find(framework);
  if (it == frameworks_.end()) return;
  for (const std::string& role : it->second->spec.roles) removeRoleClient(role, framework);
  frameworks_.erase(it);
}

void Allocator::activateFramework(const FrameworkId& framework) {
  if (auto it = frameworks_.find(framework); it != frameworks_.end()) it->second->active = true;
}

void Allocator::deactivateFramework(const FrameworkId& framework) {
  if (auto it = frameworks_.find(framework); it != frameworks_.end()) it->second->active = false;
}

void Allocator::trackAllocated(const FrameworkId& framework, const std::string& role, const Resources& resources) {
  auto quantities = resources.scalarQuantities();
  roleSorter_.allocated(role, quantities);
  if (auto it = frameworkSorters_.find(role); it != frameworkSorters_.end()) {
    it->second->allocated(framework.value(), quantities);
  }
}

void Allocator::trackUnallocated(const FrameworkId& framework, const std::string& role, const Resources& resources) {
  auto quantities = resources.scalarQuantities();
  roleSorter_.unallocated(role, quantities);
  if (auto it = frameworkSorters_.find(role); it != frameworkSorters_.end()) {
    it->second->unallocated(framework.value(), quantities);
  }
}

void Allocator::addUsed(const FrameworkId& framework, const AgentId& agent, const Resources& resources) {
  auto it = agents_.find(agent);
  if (it == agents_.end()) return;
  it->second->allocated += resources;
  it->second->allocatedByFramework[framework] += resources;
  std::set<std::string> roles;
  for (const ResourceEntry& entry : resources.entries()) roles.insert(entry.allocationRole);
  for (const std::string& role : roles) trackAllocated(framework, role, resources.allocatedTo(role));
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
  }
  std::set<std::string> roles;
  for (const ResourceEntry& entry : resources.entries()) roles.insert(entry.allocationRole);
  for (const std::string& role : roles) trackUnallocated(framework, role, resources.allocatedTo(role));

  auto frameworkIt = frameworks_.find(framework);
  if (!filter || *filter <= Duration::zero() || frameworkIt == frameworks_.end() || agentIt == agents_.end()) {
    return;
  }
  Duration duration = std::min(*filter, options_.maxFilterDuration);
  for (const std::string& role : roles) {
    frameworkIt->second->filters[{role, agent}].push_back(
        Filter{resources.allocatedTo(role).withoutAllocation(), now + duration});
  }
}

void Allocator::suppressRoles(const FrameworkId& framework, const std::set<std::string>& roles) {
  auto it = frameworks_.find(framework);
  if (it == frameworks_.end()) return;
  const std::set<std::string>& target = roles.empty() ? it->second->spec.roles : roles;
  it->second->spec.suppressedRoles.insert(target.begin(), target.end());
}

void Allocator::reviveRoles(const FrameworkId& framework, const std::set<std::string>& roles) {
  auto it = frameworks_.find(framework);
  if (it == frameworks_.end()) return;
  const std::set<std::string> target = roles.empty() ? it->second->spec.roles : roles;
  for (const std::string& role : target) {
    it->second->spec.suppressedRoles.erase(role);
    std::erase_if(it->second->filters, [&](const auto& item) { return item.first.first == role; });
  }
}

void Allocator::setWeight(const std::string& role, double weight) {
  weights_[role] = weight;
  roleSorter_.setWeight(role, weight);
}

void Allocator::updateTotals() {
  totals_.clear();
  for (const auto& [id, agent] : agents_) {
    for (const auto& [name, value] : agent->total.scalarQuantities()) totals_[name] += value;
  }
  roleSorter_.setTotal(totals_);
  for (auto& [role, sorter] : frameworkSorters_) sorter->setTotal(totals_);
}

bool Allocator::isFiltered(const FrameworkId& framework, const std::string& role, const AgentId& agent,
                           const Resources& resources, TimePoint now) {
  auto& filters = frameworks_.at(framework)->filters;
  auto it = filters.find({role, agent});
  if (it == filters.end()) return false;
  std::erase_if(it->second, [&](const Filter& filter) { return filter.expiry <= now; });
  if (it->second.empty()) {
    filters.erase(it);
    return false;
  }
  Resources plain = resources.withoutAllocation();
  return std::any_of(it->second.begin(), it->second.end(),
                     [&](const Filter& filter) { return filter.resources.contains(plain); });
}

bool Allocator::meetsMinimum(const Resources& resources) const {
  auto quantities = resources.scalarQuantities();
  return std::any_of(options_.minAllocatable.begin(), options_.minAllocatable.end(), [&](const auto& minimum) {
    return std::all_of(minimum.begin(), minimum.end(), [&](const auto& item) {
      auto it = quantities.find(item.first);
      return it != quantities.end() && it->second + 1e-9 >= item.second;
    });
  });
}

std::vector<Allocation> Allocator::allocate(TimePoint now) {
  ++allocationRuns_;
  std::vector<Allocation> result;
  for (auto& [agentId, agent] : agents_) {
    if (!agent->active) continue;
    Resources available = agent->total - agent->allocated.withoutAllocation();
    if (available.empty()) continue;
    for (const std::string& role : roleSorter_.sort()) {
      auto sorterIt = frameworkSorters_.find(role);
      if (sorterIt == frameworkSorters_.end()) continue;
      for (const std::string& frameworkName : sorterIt->second->sort()) {
        FrameworkId frameworkId(frameworkName);
        const FrameworkState& framework = *frameworks_.at(frameworkId);
        if (!framework.active || framework.spec.suppressedRoles.contains(role)) continue;
        Resources offerable = available.allocatableTo(role);
        if (!framework.spec.revocableCapable) offerable = offerable.nonRevocable();
        if (offerable.empty() || !meetsMinimum(offerable)) continue;
        if (isFiltered(frameworkId, role, agentId, offerable, now)) continue;
        Resources allocation = offerable.withAllocationRole(role);
        available -= offerable;
        agent->allocated += allocation;
        agent->allocatedByFramework[frameworkId] += allocation;
        trackAllocated(frameworkId, role, allocation);
        result.push_back(Allocation{frameworkId, agentId, role, std::move(allocation)});
      }
    }
  }
  return result;
}

Resources Allocator::available(const AgentId& agent) const {
  auto it = agents_.find(agent);
  if (it == agents_.end()) return {};
  return it->second->total - it->second->allocated.withoutAllocation();
}

Resources Allocator::allocated(const AgentId& agent) const {
  auto it = agents_.find(agent);
  return it == agents_.end() ? Resources() : it->second->allocated;
}

double Allocator::roleShare(const std::string& role) const { return roleSorter_.share(role); }

size_t Allocator::activeFilterCount() const {
  size_t count = 0;
  for (const auto& [id, framework] : frameworks_) {
    for (const auto& [key, filters] : framework->filters) count += filters.size();
  }
  return count;
}

}  // namespace mezzo::alloc
