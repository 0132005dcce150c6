#include "agent/garbage_collector.hpp"

#include <gtest/gtest.h>

namespace mezzo::agent {
namespace {

using std::chrono::hours;
using std::chrono::minutes;

TimePoint at(Duration offset) { return TimePoint(std::chrono::seconds(1'700'000'000)) + offset; }

TEST(GarbageCollector, PathsAreDueAfterTheDelay) {
  GarbageCollector gc(hours(1));
  gc.schedule("/a", at(minutes(0)));
  gc.schedule("/b", at(minutes(30)));
  EXPECT_EQ(gc.nextDue(), at(hours(1)));
  EXPECT_TRUE(gc.takeOlderThan(hours(1), at(minutes(59))).empty());
  EXPECT_EQ(gc.takeOlderThan(hours(1), at(minutes(60))), std::vector<std::string>{"/a"});
  EXPECT_FALSE(gc.scheduled("/a"));
  EXPECT_EQ(gc.nextDue(), at(minutes(90)));
  gc.unschedule("/b");
  EXPECT_FALSE(gc.nextDue().has_value());
}

TEST(GarbageCollector, AFullerDiskShortensTheAllowedAge) {
  GarbageCollector gc(hours(10));
  EXPECT_EQ(gc.maxAge(0.0, 0.1), hours(9));
  EXPECT_EQ(gc.maxAge(0.5, 0.1), hours(4));
  EXPECT_EQ(gc.maxAge(0.95, 0.1), Duration::zero()) << "never negative";
  gc.schedule("/old", at(hours(0)));
  gc.schedule("/new", at(hours(5)));
  EXPECT_EQ(gc.takeOlderThan(gc.maxAge(0.5, 0.1), at(hours(6))), std::vector<std::string>{"/old"});
  EXPECT_EQ(gc.takeOlderThan(gc.maxAge(1.0, 0.1), at(hours(6))), std::vector<std::string>{"/new"});
  EXPECT_EQ(gc.size(), 0u);
}

}  // namespace
}  // namespace mezzo::agent
