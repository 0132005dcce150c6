// Allocator: builds resource offers from free agent resources (the first
// level of two-level scheduling).
//
// Pure and synchronous: no threads, timers or sockets; time is passed in.
// The master core feeds it cluster changes (agents, frameworks, resources
// recovered from declined offers and finished tasks) and calls allocate(),
// which returns the allocations to turn into offers and counts them as
// allocated until they come back through recoverResources().
//
// Policy (hierarchical DRF, first version): for each active agent, roles are
// visited in weighted-DRF order, and within a role its frameworks in DRF
// order; a framework is offered everything on the agent its role may use
// (unreserved plus reserved for the role or an ancestor) unless that framework
// suppressed the role, filtered those resources on that agent (DECLINE with
// refuse_seconds), or what is left is below the minimum allocatable size.
//
// Invariant: for every agent, allocated <= total (never over-allocated).
//
// Thread-safety: none; owned by the master's event loop (or the simulator).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "alloc/sorter.hpp"
#include "mezzo/common/clock.hpp"
#include "mezzo/common/ids.hpp"
#include "mezzo/common/resources.hpp"

namespace mezzo::alloc {

struct AllocatorOptions {
  // An offer must hold at least one of these quantities (cpus:0.01 or mem:32
  // by default, as Mesos's --min_allocatable_resources).
  std::vector<std::map<std::string, double>> minAllocatable = {{{"cpus", 0.01}}, {{"mem", 32}}};
  // Caps refuse_seconds at 365 days.
  Duration maxFilterDuration = std::chrono::hours(24 * 365);
};

struct FrameworkSpec {
  std::set<std::string> roles;
  std::set<std::string> suppressedRoles;
  bool revocableCapable = false;
};

struct Allocation {
  FrameworkId framework;
  AgentId agent;
  std::string role;
  Resources resources;  // allocation role set to `role`
};

class Allocator {
 public:
  explicit Allocator(AllocatorOptions options = {});
  ~Allocator();

  void addAgent(const AgentId& agent, const Resources& total,
                const std::map<FrameworkId, Resources>& used = {});
  void removeAgent(const AgentId& agent);
  void activateAgent(const AgentId& agent);
  void deactivateAgent(const AgentId& agent);

  void addFramework(const FrameworkId& framework, const FrameworkSpec& spec, bool active);
  void updateFramework(const FrameworkId& framework, const FrameworkSpec& spec);
  void removeFramework(const FrameworkId& framework);
  void activateFramework(const FrameworkId& framework);
  void deactivateFramework(const FrameworkId& framework);

  // Counts `resources` (with allocation roles) as used by the framework on
  // the agent, e.g. tasks reported by a re-registering agent.
  void addUsed(const FrameworkId& framework, const AgentId& agent, const Resources& resources);

  // Resources come back from an offer or a finished task. With a filter
  // duration, they are not re-offered to that framework on that agent
  // (for the same role) until it passes or the framework revives.
  void recoverResources(const FrameworkId& framework, const AgentId& agent, const Resources& resources,
                        std::optional<Duration> filter, TimePoint now);

  void suppressRoles(const FrameworkId& framework, const std::set<std::string>& roles);
  // Unsuppresses and clears filters; empty = all the framework's roles.
  void reviveRoles(const FrameworkId& framework, const std::set<std::string>& roles);

  void setWeight(const std::string& role, double weight);

  std::vector<Allocation> allocate(TimePoint now);

  // Introspection for /state, metrics and tests.
  Resources available(const AgentId& agent) const;
  Resources allocated(const AgentId& agent) const;
  double roleShare(const std::string& role) const;
  size_t activeFilterCount() const;
  uint64_t allocationRuns() const { return allocationRuns_; }

 private:
  struct AgentState;
  struct FrameworkState;
  struct Filter {
    Resources resources;
    TimePoint expiry;
  };

  void trackAllocated(const FrameworkId& framework, const std::string& role, const Resources& resources);
  void trackUnallocated(const FrameworkId& framework, const std::string& role, const Resources& resources);
  void updateTotals();
  bool isFiltered(const FrameworkId& framework, const std::string& role, const AgentId& agent,
                  const Resources& resources, TimePoint now);
  bool meetsMinimum(const Resources& resources) const;
  void addRoleClient(const std::string& role, const FrameworkId& framework);
  void removeRoleClient(const std::string& role, const FrameworkId& framework);

  AllocatorOptions options_;
  std::map<AgentId, std::unique_ptr<AgentState>> agents_;
  std::map<FrameworkId, std::unique_ptr<FrameworkState>> frameworks_;
  DrfSorter roleSorter_;
  std::map<std::string, std::unique_ptr<DrfSorter>> frameworkSorters_;  // by role
  std::map<std::string, double> weights_;
  std::map<std::string, double> totals_;
  uint64_t allocationRuns_ = 0;
};

}  // namespace mezzo::alloc
