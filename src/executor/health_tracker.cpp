// Health check verdicts (Mesos's rules, see the header).
#include "executor/health_tracker.hpp"

namespace mezzo::executor {

HealthTracker::HealthTracker(Duration gracePeriod, uint32_t consecutiveFailuresToKill, TimePoint start)
    : gracePeriod_(gracePeriod), failuresToKill_(consecutiveFailuresToKill), start_(start) {}

std::optional<HealthTracker::Update> HealthTracker::onSuccess() {
  const bool report = initializing_ || consecutiveFailures_ > 0;
  initializing_ = false;
  consecutiveFailures_ = 0;
  if (!report) return std::nullopt;
  return Update{.healthy = true};
}

std::optional<HealthTracker::Update> HealthTracker::onFailure(TimePoint now) {
  if (initializing_ && gracePeriod_ > Duration::zero() && now - start_ <= gracePeriod_) return std::nullopt;
  ++consecutiveFailures_;
  return Update{.healthy = false,
                .consecutiveFailures = consecutiveFailures_,
                .killTask = consecutiveFailures_ >= failuresToKill_};
}

}  // namespace mezzo::executor
