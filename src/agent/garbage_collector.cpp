#include "agent/garbage_collector.hpp"

#include <algorithm>

namespace mezzo::agent {

void GarbageCollector::schedule(const std::string& path, TimePoint since) { since_[path] = since; }

void GarbageCollector::unschedule(const std::string& path) { since_.erase(path); }

Duration GarbageCollector::maxAge(double diskUsage, double headroom) const {
  double factor = std::max(0.0, 1.0 - headroom - diskUsage);
  return std::chrono::duration_cast<Duration>(delay_ * factor);
}

std::vector<std::string> GarbageCollector::takeOlderThan(Duration age, TimePoint now) {
  std::vector<std::string> due;
  for (auto it = since_.begin(); it != since_.end();) {
    if (now - it->second >= age) {
      due.push_back(it->first);
      it = since_.erase(it);
    } else {
      ++it;
    }
  }
  return due;
}

std::optional<TimePoint> GarbageCollector::nextDue() const {
  if (since_.empty()) return std::nullopt;
  auto oldest = std::min_element(since_.begin(), since_.end(),
                                 [](const auto& a, const auto& b) { return a.second < b.second; });
  return oldest->second + delay_;
}

}  // namespace mezzo::agent
