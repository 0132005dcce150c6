#include "executor/health_tracker.hpp"

#include <gtest/gtest.h>

namespace mezzo::executor {
namespace {

using namespace std::chrono_literals;

const HealthTracker::TimePoint kStart{std::chrono::hours(1)};

TEST(HealthTrackerTest, ReportsTheFirstSuccessAndTheFirstAfterFailures) {
  HealthTracker tracker(0s, 3, kStart);
  auto first = tracker.onSuccess();
  ASSERT_TRUE(first);
  EXPECT_TRUE(first->healthy);
  EXPECT_FALSE(tracker.onSuccess()) << "a second success in a row changes nothing";

  auto failure = tracker.onFailure(kStart + 1s);
  ASSERT_TRUE(failure);
  EXPECT_FALSE(failure->healthy);
  EXPECT_EQ(failure->consecutiveFailures, 1u);
  EXPECT_FALSE(failure->killTask);

  auto recovered = tracker.onSuccess();
  ASSERT_TRUE(recovered);
  EXPECT_TRUE(recovered->healthy);
}

TEST(HealthTrackerTest, KillsAfterConsecutiveFailuresAndASuccessResetsTheCount) {
  HealthTracker tracker(0s, 3, kStart);
  EXPECT_FALSE(tracker.onFailure(kStart + 1s)->killTask);
  EXPECT_FALSE(tracker.onFailure(kStart + 2s)->killTask);
  ASSERT_TRUE(tracker.onSuccess());
  EXPECT_EQ(tracker.onFailure(kStart + 3s)->consecutiveFailures, 1u);
  EXPECT_FALSE(tracker.onFailure(kStart + 4s)->killTask);
  auto third = tracker.onFailure(kStart + 5s);
  ASSERT_TRUE(third);
  EXPECT_EQ(third->consecutiveFailures, 3u);
  EXPECT_TRUE(third->killTask);
}

TEST(HealthTrackerTest, IgnoresFailuresInTheGracePeriodUntilTheFirstSuccess) {
  HealthTracker tracker(10s, 1, kStart);
  EXPECT_FALSE(tracker.onFailure(kStart + 5s));
  EXPECT_FALSE(tracker.onFailure(kStart + 10s)) << "the grace period's last instant still counts";
  auto late = tracker.onFailure(kStart + 11s);
  ASSERT_TRUE(late);
  EXPECT_TRUE(late->killTask);

  HealthTracker succeeded(10s, 1, kStart);
  ASSERT_TRUE(succeeded.onSuccess());
  auto inGrace = succeeded.onFailure(kStart + 2s);
  ASSERT_TRUE(inGrace) << "after a success the grace period no longer applies";
  EXPECT_TRUE(inGrace->killTask);
}

}  // namespace
}  // namespace mezzo::executor
