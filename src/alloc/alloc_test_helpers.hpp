// Small builders shared by the allocator's unit and property tests.
// Header-only; used from test binaries only.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "alloc/allocator.hpp"

namespace mezzo::alloc::test_support {

// Parses a resource string, failing the current test on a parse error.
inline Resources res(const std::string& text) {
  auto parsed = Resources::parse(text);
  EXPECT_TRUE(parsed.isOk()) << parsed.error();
  return parsed.isOk() ? *parsed : Resources();
}

// A fixed epoch plus `seconds` (fractions allowed).
inline TimePoint at(double seconds) {
  return TimePoint(std::chrono::seconds(1'700'000'000)) +
         std::chrono::duration_cast<Duration>(std::chrono::duration<double>(seconds));
}

// A framework subscribed in exactly one role.
inline FrameworkSpec inRole(const std::string& role) { return FrameworkSpec{{role}, {}, false}; }

// Cpus in the allocations to `ancestor` and its descendant roles.
inline double offeredCpus(const std::vector<Allocation>& allocations, const std::string& ancestor) {
  double cpus = 0;
  for (const Allocation& allocation : allocations) {
    if (isRoleOrDescendant(allocation.role, ancestor)) cpus += allocation.resources.cpus();
  }
  return cpus;
}

}  // namespace mezzo::alloc::test_support
