// HealthTracker: the verdict half of a task health check, as in Mesos's
// checks/health_checker.cpp. It turns each check outcome into the health
// update the executor must send, if any. Pure: the caller passes the time.
//
// Rules: a success is reported (healthy) when it is the first one or the
// first after failures. A failure is ignored while no check has succeeded
// yet and the grace period, counted from the tracker's start (so it includes
// the check delay), has not run out; any other failure counts and is
// reported (unhealthy) every time, with `killTask` once
// `consecutive_failures` failures in a row have been counted.
//
// Thread-safety: none; one owner.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

#include "mezzo/common/clock.hpp"

namespace mezzo::executor {

class HealthTracker {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  struct Update {
    bool healthy = false;
    uint32_t consecutiveFailures = 0;
    bool killTask = false;
  };

  HealthTracker(Duration gracePeriod, uint32_t consecutiveFailuresToKill, TimePoint start);

  std::optional<Update> onSuccess();
  std::optional<Update> onFailure(TimePoint now);

 private:
  Duration gracePeriod_;
  uint32_t failuresToKill_;
  TimePoint start_;
  bool initializing_ = true;  // no success yet
  uint32_t consecutiveFailures_ = 0;
};

}  // namespace mezzo::executor
