// Quota v2 in the allocator: limits are never exceeded across a role's
// subtree; guarantees are met first and their headroom is not given away.
#include <gtest/gtest.h>

#include <random>

#include "alloc/alloc_test_helpers.hpp"
#include "alloc/allocator.hpp"

namespace mezzo::alloc {
namespace {

using test_support::inRole;
using test_support::offeredCpus;
using test_support::res;
using test_support::at;

double cpusOf(const Quantities& quantities) {
  auto it = quantities.find("cpus");
  return it == quantities.end() ? 0.0 : it->second;
}

void addAgents(Allocator& allocator, int count, const std::string& resources) {
  for (int i = 0; i < count; ++i) allocator.addAgent(AgentId("a" + std::to_string(i)), res(resources));
}

TEST(Quota, LimitCutsOffers) {
  Allocator allocator;
  addAgents(allocator, 3, "cpus:4;mem:1024");
  allocator.setQuota("q", Quota{{}, {{"cpus", 6}}});
  allocator.addFramework(FrameworkId("f"), inRole("q"), true);
  auto offers = allocator.allocate(at(0));
  EXPECT_DOUBLE_EQ(offeredCpus(offers, "q"), 6);
  EXPECT_DOUBLE_EQ(cpusOf(allocator.consumption("q")), 6);
  // Raising the limit wakes the agents that still have cpus.
  allocator.setQuota("q", Quota{{}, {{"cpus", 10}}});
  EXPECT_DOUBLE_EQ(offeredCpus(allocator.allocate(at(1), AllocationScope::kChanged), "q"), 4);
}

TEST(Quota, LimitCoversTheWholeSubtree) {
  Allocator allocator;
  addAgents(allocator, 4, "cpus:4;mem:1024");
  allocator.setQuota("eng", Quota{{}, {{"cpus", 5}}});
  allocator.addFramework(FrameworkId("fa"), inRole("eng/a"), true);
  allocator.addFramework(FrameworkId("fb"), inRole("eng/b"), true);
  allocator.addFramework(FrameworkId("ops"), inRole("ops"), true);
  auto offers = allocator.allocate(at(0));
  EXPECT_DOUBLE_EQ(offeredCpus(offers, "eng"), 5);
  EXPECT_DOUBLE_EQ(offeredCpus(offers, "ops"), 11);
  EXPECT_DOUBLE_EQ(cpusOf(allocator.consumption("eng")), 5);
  EXPECT_DOUBLE_EQ(cpusOf(allocator.consumption("eng/a")) + cpusOf(allocator.consumption("eng/b")), 5);
}

TEST(Quota, GuaranteeHeadroomIsHeldBackFromOtherRoles) {
  Allocator allocator;
  addAgents(allocator, 10, "cpus:4;mem:1024");
  allocator.setQuota("guaranteed", Quota{{{"cpus", 12}}, {}});
  allocator.addFramework(FrameworkId("greedy"), inRole("a-greedy"), true);
  EXPECT_DOUBLE_EQ(offeredCpus(allocator.allocate(at(0)), "a-greedy"), 28);
  allocator.addFramework(FrameworkId("g"), inRole("guaranteed"), true);
  EXPECT_DOUBLE_EQ(offeredCpus(allocator.allocate(at(1), AllocationScope::kChanged), "guaranteed"), 12);
}

TEST(Quota, FreedResourcesReachAHeldBackRole) {
  Allocator allocator;
  addAgents(allocator, 2, "cpus:4;mem:1024");
  // Names without a limit are not cut: limit both so nothing else is offered.
  allocator.setQuota("q", Quota{{}, {{"cpus", 4}, {"mem", 1024}}});
  allocator.addFramework(FrameworkId("f"), inRole("q"), true);
  auto offers = allocator.allocate(at(0));
  ASSERT_EQ(offers.size(), 1u);
  EXPECT_TRUE(allocator.allocate(at(1)).empty());  // at the limit: the other agent stays free
  allocator.recoverResources(offers[0].framework, offers[0].agent, offers[0].resources, std::nullopt, at(2));
  EXPECT_DOUBLE_EQ(offeredCpus(allocator.allocate(at(2), AllocationScope::kChanged), "q"), 4);
}

// Property: random cells with random limits and guarantees (guarantees sum
// to at most the cluster); guaranteed roles keep what they get, greedy roles
// return offers at random. After every cycle no role's subtree exceeds its
// limit (checked against a model of the outstanding offers); after every
// periodic cycle every guarantee is met.
TEST(QuotaProperty, LimitsNeverExceededGuaranteesMet) {
  std::mt19937 rng(11);
  for (int round = 0; round < 40; ++round) {
    Allocator allocator;
    int agents = 4 + static_cast<int>(rng() % 8);
    addAgents(allocator, agents, "cpus:" + std::to_string(2 + rng() % 6) + ";mem:4096");
    double totalCpus = 0;
    for (int i = 0; i < agents; ++i) totalCpus += allocator.available(AgentId("a" + std::to_string(i))).cpus();
    const std::vector<std::string> roles = {"eng", "eng/ml", "eng/web", "ops", "batch"};
    std::map<std::string, Quota> quotas;
    double guaranteed = 0;
    for (const std::string& role : roles) {
      if (rng() % 2) quotas[role].limits["cpus"] = static_cast<double>(rng() % static_cast<unsigned>(totalCpus));
      bool topLevel = role.find('/') == std::string::npos;
      double guarantee = std::floor(totalCpus / 4 * static_cast<double>(rng() % 100) / 100);
      if (topLevel && role != "eng" && guarantee > 0 && guaranteed + guarantee <= totalCpus) {
        guaranteed += guarantee;
        quotas[role].guarantees["cpus"] = guarantee;
        quotas[role].limits["cpus"] = std::max(quotas[role].limits["cpus"], guarantee + 1);
      }
    }
    for (const auto& [role, quota] : quotas) allocator.setQuota(role, quota);
    for (const std::string& role : roles) allocator.addFramework(FrameworkId("f-" + role), inRole(role), true);

    std::vector<Allocation> outstanding;
    for (int step = 0; step < 30; ++step) {
      bool periodic = step % 3 == 0;
      for (Allocation& offer :
           allocator.allocate(at(step), periodic ? AllocationScope::kAll : AllocationScope::kChanged)) {
        outstanding.push_back(std::move(offer));
      }
      for (const auto& [role, quota] : quotas) {
        double held = offeredCpus(outstanding, role);
        EXPECT_NEAR(cpusOf(allocator.consumption(role)), held, 1e-6);
        auto limit = quota.limits.find("cpus");
        if (limit != quota.limits.end()) {
          ASSERT_LE(held, limit->second + 1e-6) << role << " round " << round;
        }
        auto guarantee = quota.guarantees.find("cpus");
        if (periodic && guarantee != quota.guarantees.end()) {
          ASSERT_GE(held + 1e-6, guarantee->second) << role << " round " << round << " step " << step;
        }
      }
      // Greedy (non-guaranteed) roles return some offers, with or without filters.
      for (size_t i = 0; i < outstanding.size();) {
        const Allocation& offer = outstanding[i];
        bool keeps = quotas.contains(offer.role) && quotas[offer.role].guarantees.contains("cpus");
        if (keeps || rng() % 3 != 0) {
          ++i;
          continue;
        }
        std::optional<Duration> filter;
        if (rng() % 2) filter = std::chrono::seconds(1 + rng() % 3);
        allocator.recoverResources(offer.framework, offer.agent, offer.resources, filter, at(step));
        outstanding.erase(outstanding.begin() + static_cast<long>(i));
      }
    }
  }
}

}  // namespace
}  // namespace mezzo::alloc
