// Backoff: the reconnect delay schedule of Mezzo's API clients.
//
// Exponential: the base delay starts at `initial`, doubles after every
// attempt and stops growing at `cap`; reset() after a success. Each delay is
// jittered ("equal jitter": uniform in [base/2, base]) so that many clients
// that lost the same master do not come back in lockstep, while a client never
// retries sooner than half the base.
//
// Thread-safety: a value owned by one client; not synchronised.
#pragma once

#include <cstdint>
#include <random>

#include "mezzo/common/clock.hpp"

namespace mezzo::client {

class Backoff {
 public:
  // `seed` 0 draws a random seed; tests pass a fixed one.
  Backoff(Duration initial, Duration cap, uint64_t seed = 0);

  // The delay to wait before the next attempt; advances the schedule.
  Duration next();
  // Back to the initial delay.
  void reset() { base_ = initial_; }
  // The un-jittered delay the next call to next() draws from.
  Duration base() const { return base_; }

 private:
  Duration initial_;
  Duration cap_;
  Duration base_;
  std::mt19937_64 rng_;
};

}  // namespace mezzo::client
