#include "mezzo/client/backoff.hpp"

#include <algorithm>

namespace mezzo::client {

Backoff::Backoff(Duration initial, Duration cap, uint64_t seed)
    : initial_(std::max(initial, Duration(1))),
      cap_(std::max(cap, std::max(initial, Duration(1)))),
      base_(initial_),
      rng_(seed != 0 ? seed : std::random_device{}()) {}

Duration Backoff::next() {
  Duration base = base_;
  base_ = base_ >= cap_ / 2 ? cap_ : base_ * 2;
  std::uniform_int_distribution<Duration::rep> jitter(base.count() / 2, base.count());
  return Duration(jitter(rng_));
}

}  // namespace mezzo::client
