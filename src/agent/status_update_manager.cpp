#include "agent/status_update_manager.hpp"

#include <algorithm>

namespace mezzo::agent {


StatusUpdateManager::AddResult StatusUpdateManager::add(const FrameworkId& framework, const v1::TaskStatus& status) {
  Stream& stream = streams_[{framework, TaskId(status.task_id().value())}];
  if (stream.acknowledged.contains(status.uuid())) return AddResult::kDuplicate;
  bool queued = std::any_of(stream.updates.begin(), stream.updates.end(),
                            [&](const v1::TaskStatus& update) { return update.uuid() == status.uuid(); });
  if (queued) return AddResult::kDuplicate;
  stream.updates.push_back(status);
  return AddResult::kAdded;
}

StatusUpdateManager::AckResult StatusUpdateManager::acknowledge(const FrameworkId& framework, const TaskId& task,
                                                                const std::string& uuid) {
  auto it = streams_.find({framework, task});
  if (it == streams_.end()) return AckResult::kIgnored;
  Stream& stream = it->second;
  if (stream.updates.empty() || stream.updates.front().uuid() != uuid) return AckResult::kIgnored;
  const bool terminal = isTerminalTaskState(stream.updates.front().state());
  stream.updates.pop_front();
  stream.acknowledged.insert(uuid);
  stream.inFlight = false;
  stream.backoff = Duration::zero();
  if (terminal && stream.updates.empty()) {
    streams_.erase(it);
    return AckResult::kStreamFinished;
  }
  return AckResult::kAcknowledged;
}

std::vector<OutgoingUpdate> StatusUpdateManager::takeDue(TimePoint now) {
  std::vector<OutgoingUpdate> due;
  for (auto& [key, stream] : streams_) {
    if (stream.updates.empty()) continue;
    if (stream.inFlight && stream.nextRetry > now) continue;
    // First send waits initialBackoff for its ack; each retry doubles the wait.
    stream.backoff = stream.inFlight ? std::min(stream.backoff * 2, options_.maxBackoff) : options_.initialBackoff;
    stream.inFlight = true;
    stream.nextRetry = now + stream.backoff;
    due.push_back(OutgoingUpdate{key.first, stream.updates.front()});
  }
  return due;
}

std::optional<TimePoint> StatusUpdateManager::nextRetry() const {
  std::optional<TimePoint> earliest;
  for (const auto& [key, stream] : streams_) {
    if (stream.updates.empty() || !stream.inFlight) continue;
    if (!earliest || stream.nextRetry < *earliest) earliest = stream.nextRetry;
  }
  return earliest;
}

void StatusUpdateManager::resetInFlight() {
  for (auto& [key, stream] : streams_) {
    stream.inFlight = false;
    stream.backoff = Duration::zero();
  }
}

void StatusUpdateManager::removeFramework(const FrameworkId& framework) {
  std::erase_if(streams_, [&](const auto& entry) { return entry.first.first == framework; });
}

const v1::TaskStatus* StatusUpdateManager::head(const FrameworkId& framework, const TaskId& task) const {
  auto it = streams_.find({framework, task});
  if (it == streams_.end() || it->second.updates.empty()) return nullptr;
  return &it->second.updates.front();
}

bool StatusUpdateManager::hasPending(const FrameworkId& framework, const TaskId& task) const {
  return head(framework, task) != nullptr;
}

bool StatusUpdateManager::hasPending(const FrameworkId& framework) const {
  return std::any_of(streams_.begin(), streams_.end(), [&](const auto& entry) {
    return entry.first.first == framework && !entry.second.updates.empty();
  });
}

size_t StatusUpdateManager::pendingCount() const {
  size_t count = 0;
  for (const auto& [key, stream] : streams_) count += stream.updates.size();
  return count;
}

}  // namespace mezzo::agent
