// Clock: the only source of time for Mezzo's pure cores.
//
// The allocator and the master core never read the wall clock themselves;
// they are handed a Clock (or a `now`). Daemons use SystemClock; tests and the
// simulator use ManualClock and advance it explicitly.
//
// Thread-safety: SystemClock is stateless and thread-safe. ManualClock is not
// synchronised: use it from one thread (the test's or the simulator's).
#pragma once

#include <chrono>

namespace mezzo {

using Duration = std::chrono::nanoseconds;
// Time since the Unix epoch. Both clocks use the same epoch so that times can
// be put on the wire (TaskStatus.timestamp) unchanged.
using TimePoint = std::chrono::time_point<std::chrono::system_clock, Duration>;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
};

class SystemClock final : public Clock {
 public:
  TimePoint now() const override { return std::chrono::system_clock::now(); }
};

class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimePoint start = TimePoint(std::chrono::seconds(1'700'000'000))) : now_(start) {}
  TimePoint now() const override { return now_; }
  void advance(Duration d) { now_ += d; }
  void set(TimePoint t) { now_ = t; }

 private:
  TimePoint now_;
};

// Seconds since the epoch as a double (the unit of TaskStatus.timestamp).
inline double toEpochSeconds(TimePoint t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

inline Duration secondsToDuration(double seconds) {
  return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(seconds));
}

}  // namespace mezzo
