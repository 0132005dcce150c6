#include "alloc/allocator.hpp"

#include <gtest/gtest.h>

#include <random>

#include "alloc/alloc_test_helpers.hpp"

namespace mezzo::alloc {
namespace {

using test_support::inRole;
using test_support::offeredCpus;
using test_support::res;
using test_support::at;

std::map<FrameworkId, Resources> byFramework(const std::vector<Allocation>& allocations) {
  std::map<FrameworkId, Resources> out;
  for (const Allocation& allocation : allocations) out[allocation.framework] += allocation.resources;
  return out;
}

TEST(Allocator, OffersWholeAgentToOneFramework) {
  Allocator allocator;
  allocator.addAgent(AgentId("a1"), res("cpus:4;mem:1024;ports:[31000-31009]"));
  allocator.addFramework(FrameworkId("f1"), inRole("*"), true);
  auto allocations = allocator.allocate(at(0));
  ASSERT_EQ(allocations.size(), 1u);
  EXPECT_EQ(allocations[0].role, "*");
  EXPECT_DOUBLE_EQ(allocations[0].resources.cpus(), 4);
  EXPECT_EQ(allocations[0].resources.allocatedTo("*").cpus(), 4);
  // Everything is out on offer: nothing left for the next cycle.
  EXPECT_TRUE(allocator.allocate(at(1)).empty());
  EXPECT_TRUE(allocator.available(AgentId("a1")).empty());
}

TEST(Allocator, DeclineFilterHoldsUntilExpiryOrRevive) {
  Allocator allocator;
  allocator.addAgent(AgentId("a1"), res("cpus:4;mem:1024"));
  allocator.addFramework(FrameworkId("f1"), inRole("*"), true);
  auto first = allocator.allocate(at(0));
  ASSERT_EQ(first.size(), 1u);
  allocator.recoverResources(FrameworkId("f1"), AgentId("a1"), first[0].resources, std::chrono::seconds(5), at(0));
  EXPECT_TRUE(allocator.allocate(at(4)).empty());
  EXPECT_EQ(allocator.activeFilterCount(), 1u);
  EXPECT_EQ(allocator.allocate(at(5)).size(), 1u);

  allocator.recoverResources(FrameworkId("f1"), AgentId("a1"), res("cpus:4;mem:1024").withAllocationRole("*"),
                             std::chrono::seconds(100), at(5));
  EXPECT_TRUE(allocator.allocate(at(6)).empty());
  allocator.reviveRoles(FrameworkId("f1"), {});
  EXPECT_EQ(allocator.allocate(at(6)).size(), 1u);
}

TEST(Allocator, FilteredFrameworkLetsTheNextOneHaveTheAgent) {
  Allocator allocator;
  allocator.addAgent(AgentId("a1"), res("cpus:4;mem:1024"));
  allocator.addFramework(FrameworkId("f1"), inRole("*"), true);
  auto first = allocator.allocate(at(0));
  ASSERT_EQ(first.size(), 1u);
  allocator.addFramework(FrameworkId("f2"), inRole("*"), true);
  allocator.recoverResources(first[0].framework, AgentId("a1"), first[0].resources, std::chrono::seconds(60), at(0));
  auto second = allocator.allocate(at(1));
  ASSERT_EQ(second.size(), 1u);
  EXPECT_NE(second[0].framework, first[0].framework);
}

TEST(Allocator, SuppressedRoleGetsNoOffersUntilRevived) {
  Allocator allocator;
  allocator.addAgent(AgentId("a1"), res("cpus:4;mem:1024"));
  allocator.addFramework(FrameworkId("f1"), inRole("*"), true);
  allocator.suppressRoles(FrameworkId("f1"), {"*"});
  EXPECT_TRUE(allocator.allocate(at(0)).empty());
  allocator.reviveRoles(FrameworkId("f1"), {"*"});
  EXPECT_EQ(allocator.allocate(at(0)).size(), 1u);
}

TEST(Allocator, StaticReservationsGoOnlyToTheirRole) {
  Allocator allocator;
  allocator.addAgent(AgentId("a1"), res("cpus(ops):2;mem(ops):512;cpus:1;mem:256"));
  allocator.addFramework(FrameworkId("eng"), inRole("eng"), true);
  auto allocations = allocator.allocate(at(0));
  ASSERT_EQ(allocations.size(), 1u);
  EXPECT_DOUBLE_EQ(allocations[0].resources.cpus(), 1);
  EXPECT_TRUE(allocations[0].resources.reserved().empty());

  allocator.addFramework(FrameworkId("ops"), inRole("ops"), true);
  allocations = allocator.allocate(at(1));
  ASSERT_EQ(allocations.size(), 1u);
  EXPECT_EQ(allocations[0].framework, FrameworkId("ops"));
  EXPECT_DOUBLE_EQ(allocations[0].resources.reservedFor("ops").cpus(), 2);
}

TEST(Allocator, InactiveAgentsAndFrameworksAreSkipped) {
  Allocator allocator;
  allocator.addAgent(AgentId("a1"), res("cpus:4;mem:1024"));
  allocator.addFramework(FrameworkId("f1"), inRole("*"), false);
  EXPECT_TRUE(allocator.allocate(at(0)).empty());
  allocator.activateFramework(FrameworkId("f1"));
  allocator.deactivateAgent(AgentId("a1"));
  EXPECT_TRUE(allocator.allocate(at(0)).empty());
  allocator.activateAgent(AgentId("a1"));
  EXPECT_EQ(allocator.allocate(at(0)).size(), 1u);
}

TEST(Allocator, BelowMinimumIsNotOffered) {
  Allocator allocator;
  allocator.addAgent(AgentId("a1"), res("cpus:0.001;mem:16"));
  allocator.addFramework(FrameworkId("f1"), inRole("*"), true);
  EXPECT_TRUE(allocator.allocate(at(0)).empty());
}

TEST(Allocator, WeightedRolesShareAgentsInProportion) {
  // 30 one-cpu agents, two hungry roles weighted 1 and 2 that keep every offer.
  Allocator allocator;
  allocator.setWeight("light", 1);
  allocator.setWeight("heavy", 2);
  for (int i = 0; i < 30; ++i) allocator.addAgent(AgentId("a" + std::to_string(i)), res("cpus:1;mem:100"));
  allocator.addFramework(FrameworkId("fl"), inRole("light"), true);
  allocator.addFramework(FrameworkId("fh"), inRole("heavy"), true);
  auto totals = byFramework(allocator.allocate(at(0)));
  EXPECT_NEAR(totals[FrameworkId("fh")].cpus(), 20, 1);
  EXPECT_NEAR(totals[FrameworkId("fl")].cpus(), 10, 1);
}

// Property: across random event orders, no agent is ever over-allocated and
// recovered resources return exactly.
TEST(AllocatorProperty, NeverOverAllocates) {
  std::mt19937 rng(42);
  for (int round = 0; round < 50; ++round) {
    Allocator allocator;
    std::vector<AgentId> agents;
    for (int i = 0; i < 5; ++i) {
      agents.emplace_back("a" + std::to_string(i));
      allocator.addAgent(agents.back(), res("cpus:" + std::to_string(1 + rng() % 8) +
                                            ";mem:" + std::to_string(256 * (1 + rng() % 8))));
    }
    for (int f = 0; f < 4; ++f) {
      allocator.addFramework(FrameworkId("f" + std::to_string(f)), inRole(f % 2 ? "a" : "b"), true);
    }
    std::vector<Allocation> outstanding;
    for (int step = 0; step < 40; ++step) {
      for (Allocation& allocation : allocator.allocate(at(step))) outstanding.push_back(std::move(allocation));
      if (!outstanding.empty() && rng() % 2) {
        size_t index = rng() % outstanding.size();
        Allocation back = outstanding[index];
        outstanding.erase(outstanding.begin() + static_cast<long>(index));
        std::optional<Duration> filter;
        if (rng() % 2) filter = std::chrono::seconds(rng() % 5);
        allocator.recoverResources(back.framework, back.agent, back.resources, filter, at(step));
      }
      for (const AgentId& agent : agents) {
        Resources allocated = allocator.allocated(agent).withoutAllocation();
        Resources available = allocator.available(agent);
        Resources total = allocated + available;
        ASSERT_TRUE(total.contains(allocated));
        ASSERT_GE(available.cpus(), 0);
      }
    }
  }
}

// Property: with equal (unbounded) demand, random weights and random
// arrival orders, each role's dominant share divided by its weight ends
// within one task (here: one one-cpu agent) of every other role's.
TEST(AllocatorProperty, SharesConvergeToWeights) {
  std::mt19937 rng(3);
  for (int round = 0; round < 30; ++round) {
    Allocator allocator;
    int roles = 2 + static_cast<int>(rng() % 3);
    std::vector<double> weights;
    for (int r = 0; r < roles; ++r) {
      weights.push_back(1.0 + static_cast<double>(rng() % 4));
      allocator.setWeight("r" + std::to_string(r), weights.back());
    }
    int agents = 40 + static_cast<int>(rng() % 40);
    // Agents and frameworks arrive interleaved, each cycle's offers are kept.
    std::map<FrameworkId, Resources> held;
    int added = 0;
    for (int step = 0; added < agents || step < roles; ++step) {
      if (step < roles)
        allocator.addFramework(FrameworkId("f" + std::to_string(step)), inRole("r" + std::to_string(step)), true);
      for (int i = 0; i < 1 + static_cast<int>(rng() % 10) && added < agents; ++i, ++added) {
        allocator.addAgent(AgentId("a" + std::to_string(added)), res("cpus:1;mem:128"));
      }
      for (auto& [framework, resources] : byFramework(allocator.allocate(at(step)))) held[framework] += resources;
    }
    for (int i = 0; i < roles; ++i) {
      for (int j = 0; j < roles; ++j) {
        double a = held[FrameworkId("f" + std::to_string(i))].cpus() / weights[static_cast<size_t>(i)];
        double b = held[FrameworkId("f" + std::to_string(j))].cpus() / weights[static_cast<size_t>(j)];
        ASSERT_LE(a - b, 1.0 / std::min(weights[static_cast<size_t>(i)], weights[static_cast<size_t>(j)]) + 1e-9)
            << "round " << round << " roles " << i << "," << j;
      }
    }
  }
}

// Property (hierarchical DRF): two top-level roles with hungry subtrees of
// random sizes and weights split the cluster by their weights, within one
// task (one one-cpu agent), however many child roles each holds. Sorted
// flat, a subtree with five roles would take about five sixths.
TEST(AllocatorProperty, SubtreesShareByTheirParentWeight) {
  std::mt19937 rng(11);
  for (int round = 0; round < 20; ++round) {
    Allocator allocator;
    const int childrenA = round == 0 ? 5 : 1 + static_cast<int>(rng() % 6);
    const int childrenB = round == 0 ? 1 : 1 + static_cast<int>(rng() % 3);
    const double weightA = round == 0 ? 1.0 : 1.0 + static_cast<double>(rng() % 3);
    allocator.setWeight("a", weightA);
    for (int c = 0; c < childrenA; ++c) {
      std::string role = "a/" + std::to_string(c);
      allocator.addFramework(FrameworkId("fa" + std::to_string(c)), inRole(role), true);
      allocator.setWeight(role, 1.0 + static_cast<double>(rng() % 3));  // weights below a do not matter to b
    }
    for (int c = 0; c < childrenB; ++c) {
      allocator.addFramework(FrameworkId("fb" + std::to_string(c)), inRole("b/" + std::to_string(c)), true);
    }
    const int agents = 30 + static_cast<int>(rng() % 40);
    std::vector<Allocation> held;
    for (int added = 0; added < agents; ++added) {
      allocator.addAgent(AgentId("a" + std::to_string(added)), res("cpus:1;mem:128"));
      if (rng() % 4 == 0 || added + 1 == agents) {
        for (Allocation& allocation : allocator.allocate(at(added))) held.push_back(std::move(allocation));
      }
    }
    const double expectedA = agents * weightA / (weightA + 1.0);
    EXPECT_NEAR(offeredCpus(held, "a"), expectedA, 1.0) << "round " << round << ": " << childrenA << " children under a";
    EXPECT_NEAR(offeredCpus(held, "b"), agents - expectedA, 1.0) << "round " << round;
    EXPECT_NEAR(allocator.roleShare("a"), allocator.roleShare("b"), 1.0 / agents + 1e-9) << "round " << round;
  }
}

// --role_sorter=random: each agent goes to a role drawn by weight, whatever
// the roles already hold. r0 already holds 100 cpus; with DRF r1 would get
// the first 100 new agents and about 150 of 200, at random about 100.
TEST(Allocator, RandomRoleSorterIgnoresWhatRolesHold) {
  AllocatorOptions options;
  options.roleSorter = SorterKind::kRandom;
  options.frameworkSorter = SorterKind::kRandom;
  options.randomSeed = 5;
  Allocator allocator(options);
  allocator.addFramework(FrameworkId("f0"), inRole("r0"), true);
  allocator.addFramework(FrameworkId("f1"), inRole("r1"), true);
  allocator.addAgent(AgentId("big"), res("cpus:100;mem:12800"),
                     {{FrameworkId("f0"), res("cpus:100;mem:12800").withAllocationRole("r0")}});
  for (int i = 0; i < 200; ++i) allocator.addAgent(AgentId("a" + std::to_string(i)), res("cpus:1;mem:128"));
  auto offers = allocator.allocate(at(0));
  EXPECT_NEAR(offeredCpus(offers, "r1"), 100, 20);
  EXPECT_DOUBLE_EQ(offeredCpus(offers, "r0") + offeredCpus(offers, "r1"), 200);
}

// offer_filters[role].min_allocatable_resources: a framework's own minimum
// replaces the global one, for that framework in that role only, whether
// it is larger or smaller.
TEST(Allocator, FrameworkMinimumAllocatableOverridesTheGlobalOne) {
  Allocator allocator;
  FrameworkSpec picky = inRole("r");
  picky.minAllocatableByRole["r"] = {{{"cpus", 4}}, {{"cpus", 1}, {"mem", 4096}}};
  allocator.addFramework(FrameworkId("picky"), picky, true);
  allocator.addAgent(AgentId("small"), res("cpus:2;mem:1024"));
  allocator.addAgent(AgentId("large"), res("cpus:8;mem:1024"));
  auto offers = allocator.allocate(at(0));
  ASSERT_EQ(offers.size(), 1u);
  EXPECT_EQ(offers[0].agent, AgentId("large"));
  // Another framework of the same role takes what is too small for the first.
  allocator.addFramework(FrameworkId("plain"), inRole("r"), true);
  offers = allocator.allocate(at(1), AllocationScope::kChanged);
  ASSERT_EQ(offers.size(), 1u);
  EXPECT_EQ(offers[0].framework, FrameworkId("plain"));
  EXPECT_EQ(offers[0].agent, AgentId("small"));
}

TEST(Allocator, FrameworkMinimumBelowTheGlobalOneUnderQuota) {
  AllocatorOptions options;
  options.minAllocatable = {{{"cpus", 1}}};
  Allocator allocator(options);
  allocator.setQuota("r", Quota{{}, {{"cpus", 100}}});  // quota on: roles are skipped by class
  allocator.addAgent(AgentId("a1"), res("cpus:0.5;mem:512"));
  allocator.addFramework(FrameworkId("plain"), inRole("r"), true);
  EXPECT_TRUE(allocator.allocate(at(0)).empty());
  FrameworkSpec modest = inRole("s");
  modest.minAllocatableByRole["s"] = {{{"mem", 64}}};
  allocator.addFramework(FrameworkId("modest"), modest, true);
  auto offers = allocator.allocate(at(1));
  ASSERT_EQ(offers.size(), 1u);
  EXPECT_EQ(offers[0].framework, FrameworkId("modest"));
  EXPECT_DOUBLE_EQ(offers[0].resources.cpus(), 0.5);
  // Its minimum applies in that role only.
  modest.roles.insert("t");
  allocator.recoverResources(FrameworkId("modest"), AgentId("a1"), offers[0].resources, std::nullopt, at(2));
  modest.suppressedRoles.insert("s");
  allocator.updateFramework(FrameworkId("modest"), modest);
  EXPECT_TRUE(allocator.allocate(at(2)).empty());
}

// --filter_gpu_resources (default on, as in Mesos): an agent with gpus goes
// only to frameworks with GPU_RESOURCES; off, to anyone.
TEST(Allocator, GpuAgentsOnlyForGpuCapableFrameworks) {
  Allocator allocator;
  allocator.addAgent(AgentId("gpu"), res("cpus:4;mem:1024;gpus:2"));
  allocator.addAgent(AgentId("plain"), res("cpus:4;mem:1024"));
  allocator.addFramework(FrameworkId("web"), inRole("*"), true);
  auto offers = allocator.allocate(at(0));
  ASSERT_EQ(offers.size(), 1u);
  EXPECT_EQ(offers[0].agent, AgentId("plain"));
  FrameworkSpec gpuCapable = inRole("*");
  gpuCapable.gpuCapable = true;
  allocator.addFramework(FrameworkId("ml"), gpuCapable, true);
  offers = allocator.allocate(at(1));
  ASSERT_EQ(offers.size(), 1u);
  EXPECT_EQ(offers[0].agent, AgentId("gpu"));
  EXPECT_EQ(offers[0].framework, FrameworkId("ml"));

  AllocatorOptions unfiltered;
  unfiltered.filterGpuResources = false;
  Allocator open(unfiltered);
  open.addAgent(AgentId("gpu"), res("cpus:4;mem:1024;gpus:2"));
  open.addFramework(FrameworkId("web"), inRole("*"), true);
  offers = open.allocate(at(0));
  ASSERT_EQ(offers.size(), 1u);
  EXPECT_DOUBLE_EQ(offers[0].resources.scalar("gpus"), 2);
}

// Offer constraints: an agent whose attributes fail a framework's
// constraints for a role is not offered to it in that role (but to others).
TEST(Allocator, OfferConstraintsKeepAgentsFromAFrameworkInARole) {
  Allocator allocator;
  using Predicate = AttributeConstraint::Predicate;
  FrameworkSpec gpuOnly = inRole("ml");
  gpuOnly.roles.insert("batch");
  gpuOnly.suppressedRoles.insert("batch");
  gpuOnly.offerConstraintsByRole["ml"] = {
      {AttributeConstraint{AttributeConstraint::Selector::kAttribute, "gpu", Predicate::kExists, ""},
       AttributeConstraint{AttributeConstraint::Selector::kHostname, "", Predicate::kTextNotMatches, "bad-.*"}}};
  allocator.addFramework(FrameworkId("ml"), gpuOnly, true);
  allocator.addAgent(AgentId("plain"), res("cpus:4;mem:1024"), {}, AgentInfoForAllocation{"plain-1", {}});
  allocator.addAgent(AgentId("gpu"), res("cpus:4;mem:1024"), {},
                     AgentInfoForAllocation{"gpu-1", {{"gpu", std::string("a100")}}});
  allocator.addAgent(AgentId("badgpu"), res("cpus:4;mem:1024"), {},
                     AgentInfoForAllocation{"bad-gpu-2", {{"gpu", std::string("a100")}}});
  allocator.addAgent(AgentId("old"), res("cpus:4;mem:1024"));  // no attributes known
  auto offers = allocator.allocate(at(0));
  ASSERT_EQ(offers.size(), 1u);
  EXPECT_EQ(offers[0].agent, AgentId("gpu"));
  // The constraints are per role: unconstrained in batch, it gets the rest there.
  gpuOnly.suppressedRoles.clear();
  allocator.updateFramework(FrameworkId("ml"), gpuOnly);
  offers = allocator.allocate(at(1));
  EXPECT_EQ(offers.size(), 3u);
  for (const Allocation& offer : offers) EXPECT_EQ(offer.role, "batch");
}

}  // namespace
}  // namespace mezzo::alloc
