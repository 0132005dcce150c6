#include "agent/garbage_collector.hpp"

#include <algorithm>

namespace mezzo::agent {

void GarbageCollector::schedule(const std::string& path, TimePoint since) {
  unschedule(path);
  since_[path] = since;
  byAge_.insert({since, path});
}

void GarbageCollector::unschedule(const std::string& path) {
  auto it = since_.find(path);
  if (it == since_.end()) return;
  byAge_.erase({it->second, path});
  since_.erase(it);
}

Duration GarbageCollector::maxAge(double diskUsage, double headroom) const {
  double factor = std::max(0.0, 1.0 - headroom - diskUsage);
  return std::chrono::duration_cast<Duration>(delay_ * factor);
}

std::vector<std::string> GarbageCollector::takeOlderThan(Duration age, TimePoint now) {
  std::vector<std::string> due;
  while (!byAge_.empty() && now - byAge_.begin()->first >= age) {
    due.push_back(byAge_.begin()->second);
    since_.erase(byAge_.begin()->second);
    byAge_.erase(byAge_.begin());
  }
  return due;
}

std::optional<TimePoint> GarbageCollector::nextDue() const {
  if (byAge_.empty()) return std::nullopt;
  return byAge_.begin()->first + delay_;
}

}  // namespace mezzo::agent
