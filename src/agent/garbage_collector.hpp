// GarbageCollector: which sandbox directories are due for removal
// (mesos-reference.md §4.3, `--gc_delay`, `--gc_disk_headroom`).
//
// A directory is scheduled when its executor ended (or, after an agent
// restart, when it is found without a live executor, dated by its mtime).
// It is due `gc_delay` after that; when the disk fills up the allowed age
// shrinks to gc_delay * max(0, 1 - gc_disk_headroom - disk usage), as in
// Mesos, so a full disk frees the oldest sandboxes first. Pure bookkeeping:
// the agent daemon asks what is due and removes it. Scheduling, taking
// what is due and nextDue() cost O(log n) per directory.
//
// Thread-safety: none; owned by the agent's event loop.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "mezzo/common/clock.hpp"

namespace mezzo::agent {

class GarbageCollector {
 public:
  explicit GarbageCollector(Duration delay) : delay_(delay) {}

  // Schedules `path` as of `since` (rescheduling moves it).
  void schedule(const std::string& path, TimePoint since);
  void unschedule(const std::string& path);
  bool scheduled(const std::string& path) const { return since_.contains(path); }
  size_t size() const { return since_.size(); }

  // The longest a directory may stay given the disk usage (0..1).
  Duration maxAge(double diskUsage, double headroom) const;
  // Takes out and returns the paths scheduled at least `age` before `now`.
  std::vector<std::string> takeOlderThan(Duration age, TimePoint now);
  // When the oldest path becomes due at full age; nullopt when empty.
  std::optional<TimePoint> nextDue() const;

 private:
  Duration delay_;
  std::map<std::string, TimePoint> since_;
  std::set<std::pair<TimePoint, std::string>> byAge_;  // the same, oldest first
};

}  // namespace mezzo::agent
