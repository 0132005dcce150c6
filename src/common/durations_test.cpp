#include "mezzo/common/durations.hpp"

#include <gtest/gtest.h>

namespace mezzo {
namespace {

using namespace std::chrono_literals;

Duration parsedDuration(std::string_view text) {
  Result<Duration> parsed = parseDuration(text);
  EXPECT_TRUE(parsed.isOk()) << text << ": " << parsed.error();
  return parsed.isOk() ? *parsed : Duration(-1);
}

TEST(Durations, ParsesMesosUnits) {
  EXPECT_EQ(parsedDuration("10ns"), 10ns);
  EXPECT_EQ(parsedDuration("7us"), 7us);
  EXPECT_EQ(parsedDuration("250ms"), 250ms);
  EXPECT_EQ(parsedDuration("5secs"), 5s);
  EXPECT_EQ(parsedDuration("15mins"), 15min);
  EXPECT_EQ(parsedDuration("2hrs"), 2h);
  EXPECT_EQ(parsedDuration("1days"), 24h);
  EXPECT_EQ(parsedDuration("3weeks"), 3 * 7 * 24h);
}

TEST(Durations, ParsesShortAndSingularUnits) {
  EXPECT_EQ(parsedDuration("1s"), 1s);
  EXPECT_EQ(parsedDuration("1sec"), 1s);
  EXPECT_EQ(parsedDuration("2m"), 2min);
  EXPECT_EQ(parsedDuration("1min"), 1min);
  EXPECT_EQ(parsedDuration("1h"), 1h);
  EXPECT_EQ(parsedDuration("1hr"), 1h);
  EXPECT_EQ(parsedDuration("1d"), 24h);
  EXPECT_EQ(parsedDuration("1day"), 24h);
  EXPECT_EQ(parsedDuration("1w"), 7 * 24h);
  EXPECT_EQ(parsedDuration("1week"), 7 * 24h);
}

TEST(Durations, ParsesFractions) {
  EXPECT_EQ(parsedDuration("1.5secs"), 1500ms);
  EXPECT_EQ(parsedDuration("0.5ms"), 500us);
  EXPECT_EQ(parsedDuration(".25secs"), 250ms);
  EXPECT_EQ(parsedDuration("0secs"), 0ns);
}

TEST(Durations, RejectsMalformedText) {
  for (std::string bad : {"", "secs", "5", "5parsecs", "-5secs", "1..5secs", "5 secs", " 5secs", "5SECS", "1e3secs",
                          "100000000000weeks"}) {
    Result<Duration> parsed = parseDuration(bad);
    EXPECT_FALSE(parsed.isOk()) << bad;
    if (!parsed.isOk()) {
      EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
      EXPECT_NE(parsed.error().find(bad), std::string::npos) << parsed.error();
    }
  }
}

TEST(Durations, FormatsWithTheLargestFittingUnit) {
  EXPECT_EQ(formatDuration(0ns), "0ns");
  EXPECT_EQ(formatDuration(999ns), "999ns");
  EXPECT_EQ(formatDuration(1us), "1us");
  EXPECT_EQ(formatDuration(250ms), "250ms");
  EXPECT_EQ(formatDuration(5s), "5secs");
  EXPECT_EQ(formatDuration(90s), "1.5mins");
  EXPECT_EQ(formatDuration(15min), "15mins");
  EXPECT_EQ(formatDuration(2h), "2hrs");
  EXPECT_EQ(formatDuration(24h), "1days");
  EXPECT_EQ(formatDuration(14 * 24h), "2weeks");
  EXPECT_EQ(formatDuration(-5s), "-5secs");
}

TEST(Durations, FormatParseRoundTrip) {
  for (Duration d : {Duration(1ns), Duration(1500ns), Duration(250ms), Duration(5s), Duration(90s), Duration(1h),
                     Duration(36h), Duration(7 * 24h)}) {
    EXPECT_EQ(parsedDuration(formatDuration(d)), d) << formatDuration(d);
  }
}

}  // namespace
}  // namespace mezzo
