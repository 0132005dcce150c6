// Event-driven cycles, quiet agents and the filter index: the speed-ups must
// not change who gets what (docs/benchmarks.md).
#include <gtest/gtest.h>

#include <random>

#include "alloc/alloc_test_helpers.hpp"
#include "alloc/allocator.hpp"

namespace mezzo::alloc {
namespace {

using test_support::inRole;
using test_support::res;
using test_support::at;

const FrameworkId kF1("f1");
const FrameworkId kF2("f2");
const AgentId kA1("a1");
const AgentId kA2("a2");

TEST(AllocatorEvents, ChangedScopeOffersOnlyWhatChanged) {
  Allocator allocator;
  allocator.addAgent(kA1, res("cpus:4;mem:1024"));
  allocator.addAgent(kA2, res("cpus:4;mem:1024"));
  allocator.addFramework(kF1, inRole("*"), true);
  auto first = allocator.allocate(at(0));
  ASSERT_EQ(first.size(), 2u);
  // a1 comes back with a short filter, a2 without one.
  for (const Allocation& offer : first) {
    std::optional<Duration> filter;
    if (offer.agent == kA1) filter = std::chrono::seconds(1);
    allocator.recoverResources(offer.framework, offer.agent, offer.resources, filter, at(0));
  }
  auto event = allocator.allocate(at(0.5), AllocationScope::kChanged);
  ASSERT_EQ(event.size(), 1u);
  EXPECT_EQ(event[0].agent, kA2);
  // The filter on a1 expires, but nothing changed on a1: an event cycle does
  // not look at it; the periodic cycle does.
  EXPECT_TRUE(allocator.allocate(at(2), AllocationScope::kChanged).empty());
  auto periodic = allocator.allocate(at(2));
  ASSERT_EQ(periodic.size(), 1u);
  EXPECT_EQ(periodic[0].agent, kA1);
}

TEST(AllocatorEvents, QuietAgentWakesForANewFramework) {
  Allocator allocator;
  allocator.addAgent(kA1, res("cpus:4;mem:1024"));
  allocator.addFramework(kF1, inRole("*"), true);
  auto first = allocator.allocate(at(0));
  ASSERT_EQ(first.size(), 1u);
  allocator.recoverResources(kF1, kA1, first[0].resources, std::chrono::hours(1), at(0));
  EXPECT_TRUE(allocator.allocate(at(1)).empty());
  EXPECT_TRUE(allocator.allocate(at(2)).empty());
  allocator.addFramework(kF2, inRole("*"), true);
  auto event = allocator.allocate(at(3), AllocationScope::kChanged);
  ASSERT_EQ(event.size(), 1u);
  EXPECT_EQ(event[0].framework, kF2);
}

TEST(AllocatorEvents, QuietAgentWakesOnActivateAndRevive) {
  Allocator allocator;
  allocator.addAgent(kA1, res("cpus:4;mem:1024"));
  allocator.addFramework(kF1, inRole("*"), false);
  EXPECT_TRUE(allocator.allocate(at(0)).empty());
  allocator.activateFramework(kF1);
  auto offers = allocator.allocate(at(1), AllocationScope::kChanged);
  ASSERT_EQ(offers.size(), 1u);
  allocator.recoverResources(kF1, kA1, offers[0].resources, std::chrono::hours(1), at(1));
  allocator.suppressRoles(kF1, {});
  EXPECT_TRUE(allocator.allocate(at(2)).empty());
  allocator.reviveRoles(kF1, {});
  EXPECT_EQ(allocator.allocate(at(3), AllocationScope::kChanged).size(), 1u);
}

TEST(AllocatorEvents, FilterCoversOnlyWhatWasDeclined) {
  Allocator allocator;
  allocator.addAgent(kA1, res("cpus:4;mem:1024"));
  allocator.addFramework(kF1, inRole("*"), true);
  allocator.addUsed(kF1, kA1, res("cpus:2;mem:512").withAllocationRole("*"));
  auto first = allocator.allocate(at(0));
  ASSERT_EQ(first.size(), 1u);
  EXPECT_DOUBLE_EQ(first[0].resources.cpus(), 2);
  allocator.recoverResources(kF1, kA1, first[0].resources, std::chrono::hours(1), at(0));
  EXPECT_TRUE(allocator.allocate(at(1)).empty());
  EXPECT_TRUE(allocator.allocate(at(2)).empty());  // answered from the remembered fingerprint
  // A task ends: more is free than was declined, so the filter no longer covers it.
  allocator.recoverResources(kF1, kA1, res("cpus:2;mem:512").withAllocationRole("*"), std::nullopt, at(3));
  auto again = allocator.allocate(at(3), AllocationScope::kChanged);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_DOUBLE_EQ(again[0].resources.cpus(), 4);
}

TEST(AllocatorEvents, RemovedAgentTakesItsFiltersAndTotals) {
  Allocator allocator;
  allocator.addAgent(kA1, res("cpus:4;mem:1024"));
  allocator.addFramework(kF1, inRole("*"), true);
  auto first = allocator.allocate(at(0));
  ASSERT_EQ(first.size(), 1u);
  EXPECT_DOUBLE_EQ(allocator.roleShare("*"), 1.0);
  allocator.recoverResources(kF1, kA1, first[0].resources, std::chrono::hours(1), at(0));
  EXPECT_EQ(allocator.activeFilterCount(), 1u);
  allocator.removeAgent(kA1);
  EXPECT_EQ(allocator.activeFilterCount(), 0u);
  allocator.addAgent(kA1, res("cpus:8;mem:1024"));
  auto again = allocator.allocate(at(1), AllocationScope::kChanged);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_DOUBLE_EQ(again[0].resources.cpus(), 8);
  EXPECT_DOUBLE_EQ(allocator.roleShare("*"), 1.0);
}

// A model of the filters the frameworks installed: (framework, agent,
// declined resources, expiry).
struct ModelFilter {
  FrameworkId framework;
  AgentId agent;
  Resources resources;
  TimePoint expiry;
};

bool coveredByModel(const std::vector<ModelFilter>& filters, const FrameworkId& framework, const AgentId& agent,
                    const Resources& offered, TimePoint now) {
  return std::any_of(filters.begin(), filters.end(), [&](const ModelFilter& filter) {
    return filter.framework == framework && filter.agent == agent && filter.expiry > now &&
           filter.resources.contains(offered);
  });
}

// Property (random cells, random event orders, both cycle scopes): a declined,
// filtered resource is never re-offered to that framework before the filter
// expires; and after a periodic cycle, whatever is still free on an agent is
// covered by a live filter of every framework (so it is offered once they expire).
TEST(AllocatorEventsProperty, FiltersHoldUntilExpiryAndNoLonger) {
  std::mt19937 rng(7);
  for (int round = 0; round < 40; ++round) {
    Allocator allocator;
    std::vector<AgentId> agents;
    for (int i = 0; i < 6; ++i) {
      agents.emplace_back("a" + std::to_string(i));
      allocator.addAgent(agents.back(), res("cpus:" + std::to_string(1 + rng() % 8) + ";mem:1024"));
    }
    std::vector<FrameworkId> frameworks;
    for (int f = 0; f < 3; ++f) {
      frameworks.emplace_back("f" + std::to_string(f));
      allocator.addFramework(frameworks.back(), inRole("*"), true);
    }
    std::vector<ModelFilter> filters;
    std::vector<Allocation> outstanding;
    double now = 0;
    for (int step = 0; step < 60; ++step) {
      now += 0.5 * static_cast<double>(rng() % 4);
      bool periodic = rng() % 3 == 0;
      auto offers = allocator.allocate(at(now), periodic ? AllocationScope::kAll : AllocationScope::kChanged);
      for (Allocation& offer : offers) {
        ASSERT_FALSE(
            coveredByModel(filters, offer.framework, offer.agent, offer.resources.withoutAllocation(), at(now)))
            << "round " << round << " step " << step;
        outstanding.push_back(std::move(offer));
      }
      if (periodic) {
        for (const AgentId& agent : agents) {
          Resources free = allocator.available(agent);
          if (free.cpus() < 0.01 && free.mem() < 32) continue;
          for (const FrameworkId& framework : frameworks) {
            ASSERT_TRUE(coveredByModel(filters, framework, agent, free, at(now)))
                << "free resources on " << agent.value() << " not offered to " << framework.value();
          }
        }
      }
      // Decline (with a filter) or keep-then-finish about half of what is out.
      while (!outstanding.empty() && rng() % 2) {
        size_t index = rng() % outstanding.size();
        Allocation back = outstanding[index];
        outstanding.erase(outstanding.begin() + static_cast<long>(index));
        std::optional<Duration> filter;
        if (rng() % 3) {
          filter = std::chrono::milliseconds(500 * (1 + rng() % 6));
          filters.push_back({back.framework, back.agent, back.resources.withoutAllocation(), at(now) + *filter});
        }
        allocator.recoverResources(back.framework, back.agent, back.resources, filter, at(now));
      }
    }
  }
}

TEST(AllocatorEvents, StatsForMetrics) {
  Allocator allocator;
  allocator.setQuota("q", Quota{{}, {{"cpus", 3}, {"mem", 512}}});
  allocator.addAgent(kA1, res("cpus:4;mem:1024"));
  allocator.addAgent(AgentId("a2"), res("cpus:4;mem:1024"));
  allocator.addFramework(kF1, inRole("q"), true);
  allocator.addFramework(FrameworkId("f2"), inRole("*"), true);
  auto offers = allocator.allocate(at(0));
  ASSERT_EQ(offers.size(), 3u);  // q: 3 cpus on one agent; *: the rest of both
  for (const Allocation& offer : offers) {
    if (offer.framework != kF1) allocator.recoverResources(offer.framework, offer.agent, offer.resources,
                                                           std::chrono::seconds(10), at(0));
  }
  EXPECT_TRUE(allocator.allocate(at(1)).empty());
  AllocatorStats stats = allocator.stats(at(1));
  EXPECT_EQ(stats.allocationRuns, 2u);
  EXPECT_EQ(stats.offersMade, 3u);
  EXPECT_GT(stats.lastAllocationRunMs, 0.0);
  EXPECT_EQ(stats.activeFilters, 2u);
  EXPECT_EQ(stats.activeFiltersByRole["*"], 2u);
  EXPECT_FALSE(stats.activeFiltersByRole.contains("q"));
  EXPECT_DOUBLE_EQ(stats.quotaConsumption["q"]["cpus"], 3);
  EXPECT_FALSE(stats.quotaConsumption.contains("*"));
  EXPECT_DOUBLE_EQ(stats.dominantShares["q"], 3.0 / 8);
  EXPECT_DOUBLE_EQ(stats.dominantShares["*"], 0.0);  // declined: nothing held
  EXPECT_EQ(allocator.stats(at(11)).activeFilters, 0u);  // expired
}

}  // namespace
}  // namespace mezzo::alloc
