// Allocator: builds resource offers from free agent resources (the first
// level of two-level scheduling).
//
// Pure and synchronous: no threads, timers or sockets; time is passed in.
// The master core feeds it cluster changes (agents, frameworks, resources
// recovered from declined offers and finished tasks) and calls allocate(),
// which returns the allocations to turn into offers and counts them as
// allocated until they come back through recoverResources().
//
// Policy (hierarchical DRF): for each active agent, roles are visited in
// weighted-DRF order decided level by level over the role tree (a subtree
// counts as one client with its parent path's weight, see sorter.hpp), and
// within a role its frameworks in DRF order; a framework is offered
// everything on the agent its role may use (unreserved plus reserved for
// the role or an ancestor) unless that framework suppressed the role,
// filtered those resources on that agent (DECLINE with refuse_seconds), the
// agent has gpus and the framework lacks GPU_RESOURCES (filterGpuResources),
// or what is left is below the minimum allocatable size.
//
// Quota (Mesos quota v2, mesos-reference.md §4.7): a role's consumption is
// what is allocated (offered or used) to it and its descendants. Offers are
// cut so that no role's consumption exceeds its limits; and whatever is
// needed to bring every other role with guarantees up to them (the headroom)
// is held back from offers to roles that are not that role or its ancestors.
//
// Invariants: for every agent, allocated <= total (never over-allocated);
// the allocator never makes an offer that takes a role over a quota limit.
//
// Speed (docs/benchmarks.md): free resources are kept per agent, not
// recomputed; sorters are incremental; filters are indexed by (role, agent)
// per framework and remember the fingerprint of the resources they were last
// found to cover, so an unchanged agent is rejected in O(1) without resource
// math; under quota, roles whose limits leave none of the minimum groups an
// agent can still fill are skipped by the sorter without a visit (sorter
// classes); an agent visited without result is "quiet" until a filter that
// blocked it expires, it changes, or a framework-level change (new or
// activated framework, revive, role change) happens. allocate(now, kChanged)
// visits only agents changed since the last cycle (event-driven cycles); the
// periodic kAll cycle visits every agent that is not quiet.
//
// Thread-safety: none; owned by the master's event loop (or the simulator).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "alloc/offer_constraints.hpp"
#include "alloc/sorter.hpp"
#include "mezzo/common/clock.hpp"
#include "mezzo/common/ids.hpp"
#include "mezzo/common/resources.hpp"

namespace mezzo::alloc {

struct AllocatorOptions {
  // An offer must hold at least one of these quantities (cpus:0.01 or mem:32
  // by default, as Mesos's --min_allocatable_resources); empty: no minimum.
  std::vector<std::map<std::string, double>> minAllocatable = {{{"cpus", 0.01}}, {{"mem", 32}}};
  // Caps refuse_seconds at 365 days.
  Duration maxFilterDuration = std::chrono::hours(24 * 365);
  // Order of roles, and of frameworks within a role (Mesos's --role_sorter
  // and --framework_sorter): weighted DRF, or random weighted by weight.
  SorterKind roleSorter = SorterKind::kDrf;
  SorterKind frameworkSorter = SorterKind::kDrf;
  // Seeds the random sorters: the same seed and events give the same offers.
  uint64_t randomSeed = 0;
  // Mesos's --filter_gpu_resources: agents with gpus are offered only to
  // frameworks with the GPU_RESOURCES capability (FrameworkSpec::gpuCapable),
  // so that GPU machines are not filled by work that does not need them.
  bool filterGpuResources = true;
};

// Scalar quantities by resource name (cpus, mem, disk, gpus).
using Quantities = std::map<std::string, double>;

// Quota of one role; an absent name has no guarantee / no limit.
struct Quota {
  Quantities guarantees;
  Quantities limits;
};

struct FrameworkSpec {
  FrameworkSpec() = default;
  // FrameworkSpec{roles, suppressedRoles, revocableCapable}, as callers wrote it
  // before the fields below existed (aggregate initialisation would warn).
  FrameworkSpec(std::set<std::string> roles, std::set<std::string> suppressedRoles = {}, bool revocableCapable = false)
      : roles(std::move(roles)), suppressedRoles(std::move(suppressedRoles)), revocableCapable(revocableCapable) {}

  std::set<std::string> roles;
  std::set<std::string> suppressedRoles;
  bool revocableCapable = false;
  // FrameworkInfo capability GPU_RESOURCES (see AllocatorOptions::filterGpuResources).
  bool gpuCapable = false;
  // FrameworkInfo.offer_filters[role].min_allocatable_resources: offers to
  // this framework in that role must hold at least one of these groups in
  // full, instead of AllocatorOptions::minAllocatable. An empty list means
  // no minimum (any non-empty offer).
  std::map<std::string, std::vector<Quantities>> minAllocatableByRole;
  // Subscribe/UpdateFramework offer_constraints.role_constraints: agents not
  // passing a role's constraints are not offered to this framework in that
  // role (offer_constraints.hpp). Roles absent here are not constrained.
  std::map<std::string, ConstraintGroups> offerConstraintsByRole;
};

// Which agents an allocation cycle looks at.
enum class AllocationScope {
  kAll,      // the periodic cycle: every agent (quiet ones are skipped in O(1))
  kChanged,  // event-driven: only agents whose free resources changed since the last cycle
             // (all agents if a framework-level change happened meanwhile)
};

struct Allocation {
  FrameworkId framework;
  AgentId agent;
  std::string role;
  Resources resources;  // allocation role set to `role`
};

// Figures for /metrics/snapshot; the Mesos metric each one feeds is named
// beside it (docs/allocation.md, Metrics).
struct AllocatorStats {
  uint64_t allocationRuns = 0;       // allocator/mesos/allocation_runs
  double lastAllocationRunMs = 0.0;  // allocator/mesos/allocation_run_ms (wall time of the last allocate())
  uint64_t offersMade = 0;           // allocations returned by allocate() so far
  size_t activeFilters = 0;          // decline filters not expired at `now`, all roles
  // allocator/mesos/offer_filters/roles/<role>/active
  std::map<std::string, size_t> activeFiltersByRole;
  // allocator/mesos/quota/roles/<role>/resources/<res>/offered_or_allocated (roles with quota)
  std::map<std::string, Quantities> quotaConsumption;
  // allocator/mesos/roles/<role>/shares/dominant (roles with frameworks; a subtree's for a parent)
  std::map<std::string, double> dominantShares;
};

class Allocator {
 public:
  explicit Allocator(AllocatorOptions options = {});
  ~Allocator();

  void addAgent(const AgentId& agent, const Resources& total, const std::map<FrameworkId, Resources>& used = {});
  // With the hostname and attributes that offer constraints look at.
  void addAgent(const AgentId& agent, const Resources& total, const std::map<FrameworkId, Resources>& used,
                const AgentInfoForAllocation& info);
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
  // Sets (or, with an empty Quota, removes) a role's quota.
  void setQuota(const std::string& role, const Quota& quota);

  // Scalars allocated (offered or used) to `role` and its descendants.
  Quantities consumption(const std::string& role) const;

  std::vector<Allocation> allocate(TimePoint now, AllocationScope scope = AllocationScope::kAll);

  // Introspection for /state, metrics and tests.
  Resources available(const AgentId& agent) const;
  Resources allocated(const AgentId& agent) const;
  double roleShare(const std::string& role) const;
  // The roles a framework suppressed offers for (empty if unknown).
  std::set<std::string> suppressedRoles(const FrameworkId& framework) const;
  size_t activeFilterCount() const;
  uint64_t allocationRuns() const { return allocationRuns_; }
  // O(roles + filters): for the metrics endpoint, not for every event.
  AllocatorStats stats(TimePoint now) const;

 private:
  struct AgentState;
  struct FrameworkState;
  struct RoleState {
    std::string name;
    RoleState* parent = nullptr;  // `eng` for `eng/ml`; null at the top
    uint32_t index = 0;           // unique; keys filters
    bool hasQuota = false;
    Quota quota;
    Quantities consumption;             // offered or used by the role and its descendants
    std::unique_ptr<Sorter> frameworks;  // its subscribed frameworks; null when none
    std::set<std::string> frameworksWithOwnMinimum;  // ids, FrameworkSpec::minAllocatableByRole
  };
  // The sorter class of roles with a framework that has its own minimum
  // allocatable size: the global groups say nothing about what it can take.
  static constexpr ClassMask kOwnMinimumClass = ClassMask{1} << (Sorter::kMaxClasses - 1);
  struct Filter {
    Resources resources;
    TimePoint expiry;
    uint64_t coveredFingerprint = 0;  // fingerprint of resources found covered; 0 = none yet
  };
  struct Offerable;

  // The state of a role (created with its ancestors on first mention, kept
  // for the allocator's lifetime so RoleState pointers stay valid).
  RoleState& role(const std::string& name);
  const RoleState* findRole(const std::string& name) const;
  void trackAllocated(const FrameworkId& framework, RoleState& role, const Resources& resources);
  void trackUnallocated(const FrameworkId& framework, RoleState& role, const Resources& resources);
  void trackSorters(const FrameworkId& framework, RoleState& role, const Quantities& quantities, double sign);
  void changeTotals(const Resources& total, double sign);
  // Sorter totals are refreshed lazily (adding 50,000 agents must not
  // re-sort all clients each time); the sorters are caches of shares.
  void pushTotals() const;
  std::optional<TimePoint> filteredUntil(FrameworkState& framework, uint64_t key, const Offerable& offerable,
                                         TimePoint now);
  // Does `quantities` hold one of `groups` in full? A name absent from
  // `quantities` counts as unlimited when `absentIsUnlimited`, else as zero.
  static bool meetsAnyGroup(const Quantities& quantities, const std::vector<Quantities>& groups,
                            bool absentIsUnlimited);
  // Keeps RoleState::frameworksWithOwnMinimum in step with a framework's spec.
  void trackOwnMinimum(const FrameworkState& framework, const std::string& role, bool subscribed);
  // Adds (sign +1) or removes (-1) quota consumption of `role` and its ancestors.
  void trackConsumption(RoleState& role, const Quantities& quantities, double sign);
  // The most of each scalar an offer to `role` may take under quota.
  Quantities quotaCap(const RoleState& role) const;
  // `resources` with each scalar named in `cap` cut down to at most that much.
  static Resources capScalars(const Resources& resources, const Quantities& cap);
  // Re-computes which minimum-allocatable groups a role's own limits still
  // allow (its sorter classes); a role allowing none leaves the role order
  // until its consumption drops.
  void updateLimitBlock(RoleState& role);
  // The minimum-allocatable groups (as sorter classes) that `quantities`
  // could meet (absent names as in meetsAnyGroup).
  ClassMask minimumClasses(const Quantities& quantities, bool absentIsUnlimited) const;
  bool canMeetMinimum(const Quantities& cap) const { return minimumClasses(cap, true) != 0; }
  // What a role with guarantees still needs to reach them (empty if none).
  Quantities unsatisfiedGuarantee(const RoleState& role) const;
  void addRoleClient(const std::string& role, const FrameworkId& framework);
  void removeRoleClient(const std::string& role, const FrameworkId& framework);
  void refreshAvailable(AgentState& agent);
  void markChanged(AgentState& agent);
  void allocateOnAgent(AgentState& agent, TimePoint now, std::vector<Allocation>& out);
  // Does the agent pass the framework's offer constraints for the role? Cached per (role, agent).
  bool passesConstraints(FrameworkState& framework, const RoleState& role, const AgentState& agent);
  bool offerOnAgent(AgentState& agent, RoleState& role, FrameworkState& framework, TimePoint now, Offerable& all,
                    Offerable& nonRevocable, TimePoint& blockedUntil, std::vector<Allocation>& out);

  AllocatorOptions options_;
  std::map<AgentId, std::unique_ptr<AgentState>> agents_;
  std::map<FrameworkId, std::unique_ptr<FrameworkState>> frameworks_;
  std::unordered_map<std::string, FrameworkState*> frameworksByName_;
  std::unordered_map<std::string, std::unique_ptr<RoleState>> roles_;
  OfferConstraintMatcher constraintMatcher_;
  // Clients: roles with frameworks, as a tree of role paths (hierarchical DRF).
  mutable Sorter roleSorter_;
  std::map<std::string, double> totals_;
  mutable bool totalsChanged_ = false;
  size_t quotaCount_ = 0;     // roles with a quota
  size_t ownMinimumCount_ = 0;  // (framework, role) pairs with their own minimum allocatable size
  Quantities allocatedTotal_;  // all roles
  Quantities unsatisfiedTotal_;  // sum of unsatisfiedGuarantee() over all roles, kept incrementally
  // While an agent's role order is being walked it must not change: roles
  // whose limit block may have changed wait here.
  bool walkingRoles_ = false;
  std::vector<RoleState*> pendingLimitBlocks_;
  uint32_t nextAgentIndex_ = 0;
  std::vector<AgentId> changedAgents_;
  // Bumped by changes that can make a quiet agent offerable again.
  uint64_t epoch_ = 1;
  uint64_t lastCycleEpoch_ = 0;
  uint64_t allocationRuns_ = 0;
  uint64_t offersMade_ = 0;
  double lastAllocationRunMs_ = 0.0;
};

}  // namespace mezzo::alloc
