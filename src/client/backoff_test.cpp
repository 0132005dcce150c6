#include "mezzo/client/backoff.hpp"

#include <gtest/gtest.h>

namespace mezzo::client {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(BackoffTest, DoublesFromInitialUpToCapWithEqualJitter) {
  Backoff backoff(seconds(1), seconds(15), /*seed=*/42);
  const std::vector<Duration> bases = {seconds(1), seconds(2), seconds(4), seconds(8), seconds(15), seconds(15)};
  for (Duration base : bases) {
    EXPECT_EQ(backoff.base(), base);
    Duration delay = backoff.next();
    EXPECT_GE(delay, base / 2);
    EXPECT_LE(delay, base);
  }
}

TEST(BackoffTest, ResetReturnsToInitial) {
  Backoff backoff(milliseconds(100), seconds(1), 7);
  backoff.next();
  backoff.next();
  EXPECT_EQ(backoff.base(), milliseconds(400));
  backoff.reset();
  EXPECT_EQ(backoff.base(), milliseconds(100));
}

TEST(BackoffTest, JitterVariesButSeedIsReproducible) {
  Backoff a(seconds(8), seconds(8), 1);
  Backoff b(seconds(8), seconds(8), 1);
  std::set<Duration::rep> seen;
  for (int i = 0; i < 20; ++i) {
    Duration delay = a.next();
    EXPECT_EQ(delay, b.next());
    seen.insert(delay.count());
  }
  EXPECT_GT(seen.size(), 10u);
}

TEST(BackoffTest, CapBelowInitialIsRaisedToInitial) {
  Backoff backoff(seconds(2), seconds(1), 3);
  EXPECT_LE(backoff.next(), seconds(2));
  EXPECT_EQ(backoff.base(), seconds(2));
}

}  // namespace
}  // namespace mezzo::client
