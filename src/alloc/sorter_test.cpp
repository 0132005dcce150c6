// The sorter alone: weighted DRF order, hierarchical (level by level) order,
// eligibility classes, and the weighted random order.
#include "alloc/sorter.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace mezzo::alloc {
namespace {

TEST(Sorter, OrdersByWeightedDominantShare) {
  Sorter sorter;
  sorter.setTotal({{"cpus", 10}, {"mem", 100}});
  sorter.add("a");
  sorter.add("b", 2.0);
  sorter.allocated("a", {{"cpus", 2}});  // share 0.2
  sorter.allocated("b", {{"mem", 30}});  // share 0.3 / 2 = 0.15
  EXPECT_EQ(sorter.sort(), (std::vector<std::string>{"b", "a"}));
  sorter.unallocated("a", {{"cpus", 2}});
  EXPECT_EQ(sorter.sort(), (std::vector<std::string>{"a", "b"}));
  EXPECT_DOUBLE_EQ(sorter.share("b"), 0.15);
}

TEST(Sorter, TiesGoToTheClientAllocatedToFewerTimes) {
  Sorter sorter;
  sorter.setTotal({{"cpus", 10}});
  for (const char* client : {"a", "b", "c"}) sorter.add(client);
  // Equal shares: whoever comes first is allocated to and given back, as
  // an offer that times out; it then goes after the others.
  std::set<std::string> firsts;
  for (int round = 0; round < 3; ++round) {
    std::string first = sorter.sort().front();
    EXPECT_FALSE(firsts.contains(first)) << first << " came first twice";
    firsts.insert(first);
    sorter.allocated(first, {{"cpus", 10}});
    sorter.unallocated(first, {{"cpus", 10}});
  }
  EXPECT_EQ(firsts.size(), 3u);
}

TEST(Sorter, TiesBetweenNewClientsAreSeededNotByName) {
  // The order among equal, never-allocated clients depends on the seed
  // (not on names or on the order they were added), and is the same for
  // the same seed.
  auto order = [](uint64_t seed, bool reversed) {
    Sorter sorter(SorterKind::kDrf, ClientNames::kFlat, seed);
    std::vector<std::string> names;
    for (int i = 0; i < 50; ++i) names.push_back("framework-" + std::to_string(i));
    if (reversed) std::reverse(names.begin(), names.end());
    for (const std::string& name : names) sorter.add(name);
    return sorter.sort();
  };
  EXPECT_EQ(order(1, false), order(1, true));
  std::vector<std::string> byName = order(1, false);
  std::sort(byName.begin(), byName.end());
  EXPECT_NE(order(1, false), byName);
  EXPECT_NE(order(1, false), order(2, false));
}

TEST(Sorter, HierarchicalOrdersSubtreesByTheirWholeAllocation) {
  Sorter sorter(SorterKind::kDrf, ClientNames::kHierarchical);
  sorter.setTotal({{"cpus", 100}});
  for (const char* role : {"a/x", "a/y", "b"}) sorter.add(role);
  sorter.allocated("a/x", {{"cpus", 10}});
  sorter.allocated("a/y", {{"cpus", 10}});
  sorter.allocated("b", {{"cpus", 15}});
  // Flat, a/x and a/y (0.1) would go before b (0.15); as subtrees, a holds 0.2.
  EXPECT_EQ(sorter.sort(), (std::vector<std::string>{"b", "a/x", "a/y"}));
  EXPECT_DOUBLE_EQ(sorter.share("a"), 0.2);
  EXPECT_DOUBLE_EQ(sorter.share("a/x"), 0.1);
  // The weight of a path weighs its subtree: a at weight 2 has share 0.1.
  sorter.setWeight("a", 2);
  EXPECT_EQ(sorter.sort(), (std::vector<std::string>{"a/x", "a/y", "b"}));
  // A client with children competes with them, holding only its own allocation.
  sorter.add("a");
  sorter.allocated("a", {{"cpus", 30}});
  EXPECT_EQ(sorter.sort(), (std::vector<std::string>{"b", "a/x", "a/y", "a"}));
  sorter.remove("a");
  sorter.remove("a/x");
  EXPECT_EQ(sorter.sort(), (std::vector<std::string>{"a/y", "b"}));
  EXPECT_DOUBLE_EQ(sorter.share("a"), 0.05);  // weight 2 kept for the path
}

TEST(Sorter, ClassesSkipClientsAndSubtrees) {
  Sorter sorter(SorterKind::kDrf, ClientNames::kHierarchical);
  sorter.setTotal({{"cpus", 10}});
  for (const char* role : {"a/x", "a/y", "b", "c"}) sorter.add(role);
  sorter.setClasses("a/x", 0b01);
  sorter.setClasses("a/y", 0b10);
  sorter.setClasses("b", 0b10);
  sorter.setActive("c", false);
  std::vector<std::string> visited;
  ClassMask wanted = 0b01;
  sorter.forEach(
      [&](const std::string& client) {
        visited.push_back(client);
        wanted = 0b10;  // the visitor narrows what it wants as it goes
        return true;
      },
      wanted);
  EXPECT_EQ(visited, (std::vector<std::string>{"a/x", "a/y", "b"}));
  EXPECT_EQ(sorter.sort(), (std::vector<std::string>{"a/x", "a/y", "b"}));
  sorter.setActive("c", true);
  EXPECT_EQ(sorter.sort().size(), 4u);
}

// How often each client is walked first, over `draws` walks.
std::map<std::string, double> firstPlaceFrequency(const Sorter& sorter, int draws) {
  std::map<std::string, double> counts;
  for (int i = 0; i < draws; ++i) {
    sorter.forEach([&](const std::string& client) {
      counts[client] += 1.0 / draws;
      return false;
    });
  }
  return counts;
}

TEST(Sorter, RandomOrderFollowsWeights) {
  Sorter sorter(SorterKind::kRandom, ClientNames::kFlat, 42);
  sorter.setTotal({{"cpus", 10}});
  sorter.add("a", 1.0);
  sorter.add("b", 2.0);
  sorter.add("c", 3.0);
  sorter.allocated("c", {{"cpus", 9}});  // allocations do not matter to the random order
  auto first = firstPlaceFrequency(sorter, 6000);
  EXPECT_NEAR(first["a"], 1.0 / 6, 0.03);
  EXPECT_NEAR(first["b"], 2.0 / 6, 0.03);
  EXPECT_NEAR(first["c"], 3.0 / 6, 0.03);
  EXPECT_EQ(sorter.sort().size(), 3u);  // every client, in some order
}

TEST(Sorter, RandomHierarchicalDrawsLevelByLevel) {
  Sorter sorter(SorterKind::kRandom, ClientNames::kHierarchical, 7);
  for (int i = 0; i < 5; ++i) sorter.add("x/" + std::to_string(i));
  sorter.add("y/0");
  auto first = firstPlaceFrequency(sorter, 4000);
  EXPECT_NEAR(first["y/0"], 0.5, 0.04);  // flat, it would be 1/6
  EXPECT_NEAR(first["x/3"], 0.1, 0.03);
}

TEST(Sorter, RandomOrderIsDeterministicPerSeed) {
  auto draws = [](uint64_t seed) {
    Sorter sorter(SorterKind::kRandom, ClientNames::kFlat, seed);
    for (int i = 0; i < 8; ++i) sorter.add("c" + std::to_string(i));
    std::vector<std::vector<std::string>> out;
    for (int i = 0; i < 5; ++i) out.push_back(sorter.sort());
    return out;
  };
  EXPECT_EQ(draws(1), draws(1));
  EXPECT_NE(draws(1), draws(2));
}

}  // namespace
}  // namespace mezzo::alloc
