// RateLimiter: spaces out agent removals (--agent_removal_rate_limit).
//
// A rate is "<permits>/<duration>" in Mesos's notation ("1/10secs",
// "5/20mins"): at most `permits` removals per `duration`, spread evenly, so
// one permit every duration/permits. The first permit is free; each later
// one waits until the interval since the previous one has passed. Pure: the
// caller passes the time.
//
// Thread-safety: a plain value; owned by the master's event loop.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "mezzo/common/clock.hpp"
#include "mezzo/common/status.hpp"

namespace mezzo::master {

struct RemovalRate {
  uint32_t permits = 1;
  Duration per{};
};

// Parses "<permits>/<duration>"; permits > 0, duration > 0.
Result<RemovalRate> parseRemovalRate(std::string_view text);

class RateLimiter {
 public:
  explicit RateLimiter(RemovalRate rate) : interval_(rate.per / rate.permits) {}

  // Takes a permit if one is free at `now`.
  bool tryAcquire(TimePoint now);
  // When the next permit is free (nullopt: now).
  std::optional<TimePoint> nextPermit() const { return next_; }
  Duration interval() const { return interval_; }

 private:
  Duration interval_;
  std::optional<TimePoint> next_;
};

}  // namespace mezzo::master
