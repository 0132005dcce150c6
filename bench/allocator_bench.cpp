// Allocator benchmarks B1 and B3 (workloads and anchor figures in
// docs/benchmarks.md). In-process, as Mesos's own allocator benchmarks: the
// allocator is driven directly, with a manual time, and only the allocation
// call is timed (manual timing), not the set-up or the declines.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "alloc/allocator.hpp"

namespace mezzo::alloc {
namespace {

Resources parsed(const std::string& text) {
  auto result = Resources::parse(text);
  if (!result.isOk()) std::abort();
  return *result;
}

std::string numbered(const char* prefix, int i) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%s%06d", prefix, i);
  return buffer;
}

TimePoint at(double seconds) {
  return TimePoint(std::chrono::seconds(1'700'000'000)) +
         std::chrono::duration_cast<Duration>(std::chrono::duration<double>(seconds));
}

// Subscribes `count` frameworks f000000.. in role `*`, all active.
std::vector<FrameworkId> addFrameworksInStarRole(Allocator& allocator, int count) {
  std::vector<FrameworkId> ids;
  for (int f = 0; f < count; ++f) {
    ids.emplace_back(numbered("f", f));
    allocator.addFramework(ids.back(), FrameworkSpec{{"*"}, {}, false}, true);
  }
  return ids;
}

// Times one call in wall-clock seconds.
template <typename F>
double timed(F&& call) {
  auto start = std::chrono::steady_clock::now();
  call();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// B1, DeclineOffers-style (Mesos's HierarchicalAllocator_BENCHMARK_Test
// DeclineOffers): every agent is cpus:24;mem:4096;disk:4096;ports:[31000-32000]
// with 16 one-cpu tasks of framework i % F already running on it; all F
// frameworks are in role `*` and decline every offer with a one-year filter.
// One iteration = the frameworks decline the previous cycle's offers (not
// timed), then one full allocation cycle (timed).
void declineOffers(benchmark::State& state) {
  const int agents = static_cast<int>(state.range(0));
  const int frameworks = static_cast<int>(state.range(1));
  Allocator allocator;
  const std::vector<FrameworkId> frameworkIds = addFrameworksInStarRole(allocator, frameworks);
  const Resources total = parsed("cpus:24;mem:4096;disk:4096;ports:[31000-32000]");
  const Resources used = parsed("cpus:16;mem:2014;disk:1024;ports:[31000-31015]").withAllocationRole("*");
  for (int a = 0; a < agents; ++a) {
    allocator.addAgent(AgentId(numbered("a", a)), total, {{frameworkIds[static_cast<size_t>(a % frameworks)], used}});
  }
  std::vector<Allocation> outstanding;
  double now = 0;
  size_t offers = 0;
  for (auto _ : state) {
    for (const Allocation& offer : outstanding) {
      allocator.recoverResources(offer.framework, offer.agent, offer.resources, std::chrono::hours(24 * 365),
                                 at(now));
    }
    now += 1;
    double seconds = timed([&] { outstanding = allocator.allocate(at(now)); });
    offers += outstanding.size();
    state.SetIterationTime(seconds);
  }
  state.counters["offers_per_cycle"] = static_cast<double>(offers) / static_cast<double>(state.iterations());
}

// B3, re-offer: a 10,000-agent cluster completely used by the tasks of F
// frameworks (one framework per agent, round robin). One iteration = one
// one-cpu task finishes on one agent (its resources are recovered) and the
// allocator runs an event-driven cycle (AllocationScope::kChanged, as the
// master does on events); timed until the new offer exists. The offer is then kept
// (a task is launched on it) so the cluster stays full.
void reoffer(benchmark::State& state) {
  const int agents = static_cast<int>(state.range(0));
  const int frameworks = static_cast<int>(state.range(1));
  Allocator allocator;
  const std::vector<FrameworkId> frameworkIds = addFrameworksInStarRole(allocator, frameworks);
  const Resources total = parsed("cpus:16;mem:16384");
  const Resources task = parsed("cpus:1;mem:1024").withAllocationRole("*");
  std::vector<AgentId> agentIds;
  std::vector<FrameworkId> owner;  // who holds the next task to finish, per agent
  for (int a = 0; a < agents; ++a) {
    agentIds.emplace_back(numbered("a", a));
    owner.push_back(frameworkIds[static_cast<size_t>(a % frameworks)]);
    allocator.addAgent(agentIds.back(), total, {{owner.back(), total.withAllocationRole("*")}});
  }
  allocator.allocate(at(0));
  size_t next = 0;
  double now = 1;
  for (auto _ : state) {
    size_t agent = next++ % agentIds.size();
    now += 0.001;
    std::vector<Allocation> offers;
    double seconds = timed([&] {
      allocator.recoverResources(owner[agent], agentIds[agent], task, std::nullopt, at(now));
      offers = allocator.allocate(at(now), AllocationScope::kChanged);
    });
    if (offers.size() != 1) state.SkipWithError("expected exactly one new offer");
    else owner[agent] = offers.front().framework;
    state.SetIterationTime(seconds);
  }
}

// B2, quota: 3,000 agents cpus:16;mem:65536; 2,500 roles with a small quota
// (guarantee = limit = cpus:2;mem:2048) and 500 with a large one (cpus:50;
// mem:51200), one framework each, which keeps what it is offered.
// range(2) = 0: the first cycle (timed on a fresh cluster per iteration);
// 1: the empty cycle after it.
void quota(benchmark::State& state) {
  const int agents = static_cast<int>(state.range(0));
  const int roles = static_cast<int>(state.range(1));
  const bool emptyCycle = state.range(2) == 1;
  const Resources total = parsed("cpus:16;mem:65536");
  size_t offers = 0;
  for (auto _ : state) {
    Allocator allocator;
    for (int r = 0; r < roles; ++r) {
      std::string role = numbered("role", r);
      bool large = r % 6 == 5;  // 500 of 3,000
      Quantities quantities = large ? Quantities{{"cpus", 50}, {"mem", 51200}} : Quantities{{"cpus", 2}, {"mem", 2048}};
      allocator.setQuota(role, Quota{quantities, quantities});
      allocator.addFramework(FrameworkId(numbered("f", r)), FrameworkSpec{{role}, {}, false}, true);
    }
    for (int a = 0; a < agents; ++a) allocator.addAgent(AgentId(numbered("a", a)), total);
    std::vector<Allocation> made;
    double seconds = timed([&] { made = allocator.allocate(at(1)); });
    if (emptyCycle) seconds = timed([&] { made = allocator.allocate(at(2)); });
    offers += made.size();
    state.SetIterationTime(seconds);
  }
  state.counters["offers_per_cycle"] = static_cast<double>(offers) / static_cast<double>(state.iterations());
}

BENCHMARK(quota)
    ->Name("B2/Quota")
    ->ArgNames({"agents", "roles", "empty"})
    ->Args({3'000, 3'000, 0})
    ->Args({3'000, 3'000, 1})
    ->Iterations(1)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

BENCHMARK(declineOffers)
    ->Name("B1/DeclineOffers")
    ->Args({10'000, 1'000})
    ->Args({20'000, 2'000})
    ->Args({50'000, 1'000})
    ->Iterations(5)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

BENCHMARK(reoffer)
    ->Name("B3/Reoffer")
    ->Args({10'000, 1'000})
    ->Iterations(200)
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace mezzo::alloc

BENCHMARK_MAIN();
