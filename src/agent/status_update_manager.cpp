#include "agent/status_update_manager.hpp"

#include <algorithm>

namespace mezzo::agent {


bool StatusUpdateManager::isDuplicate(const FrameworkId& framework, const v1::TaskStatus& status) const {
  auto it = streams_.find({framework, TaskId(status.task_id().value())});
  if (it == streams_.end()) return false;
  const Stream& stream = it->second;
  return stream.acknowledged.contains(status.uuid()) ||
         std::any_of(stream.updates.begin(), stream.updates.end(),
                     [&](const v1::TaskStatus& update) { return update.uuid() == status.uuid(); });
}

StatusUpdateManager::AddResult StatusUpdateManager::add(const FrameworkId& framework, const v1::TaskStatus& status) {
  if (isDuplicate(framework, status)) return AddResult::kDuplicate;
  Stream& stream = streams_[{framework, TaskId(status.task_id().value())}];
  stream.updates.push_back(status);
  if (!stream.inFlight) unsent_.insert({framework, TaskId(status.task_id().value())});
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
  if (stream.inFlight) retries_.erase({stream.nextRetry, it->first});
  stream.inFlight = false;
  stream.backoff = Duration::zero();
  if (stream.updates.empty()) {
    unsent_.erase(it->first);
  } else {
    unsent_.insert(it->first);  // the next update is due at once
  }
  if (terminal && stream.updates.empty()) {
    streams_.erase(it);
    return AckResult::kStreamFinished;
  }
  return AckResult::kAcknowledged;
}

std::vector<OutgoingUpdate> StatusUpdateManager::takeDue(TimePoint now) {
  // In stream order, as a scan over every stream would give them.
  std::set<Key> due = std::move(unsent_);
  unsent_.clear();
  while (!retries_.empty() && retries_.begin()->first <= now) {
    due.insert(retries_.begin()->second);
    retries_.erase(retries_.begin());
  }
  std::vector<OutgoingUpdate> out;
  out.reserve(due.size());
  for (const Key& key : due) {
    auto it = streams_.find(key);
    if (it == streams_.end() || it->second.updates.empty()) continue;
    markInFlight(key, it->second, now);
    out.push_back(OutgoingUpdate{key.first, it->second.updates.front()});
  }
  return out;
}

// First send waits initialBackoff for its ack; each retry doubles the wait.
void StatusUpdateManager::markInFlight(const Key& key, Stream& stream, TimePoint now) {
  stream.backoff = stream.inFlight ? std::min(stream.backoff * 2, options_.maxBackoff) : options_.initialBackoff;
  stream.inFlight = true;
  stream.nextRetry = now + stream.backoff;
  retries_.insert({stream.nextRetry, key});
}

std::optional<TimePoint> StatusUpdateManager::nextRetry() const {
  if (retries_.empty()) return std::nullopt;
  return retries_.begin()->first;
}

void StatusUpdateManager::resetInFlight() {
  retries_.clear();
  unsent_.clear();
  for (auto& [key, stream] : streams_) {
    stream.inFlight = false;
    stream.backoff = Duration::zero();
    if (!stream.updates.empty()) unsent_.insert(key);
  }
}

void StatusUpdateManager::removeFramework(const FrameworkId& framework) {
  auto ofFramework = [&](const Key& key) { return key.first == framework; };
  std::erase_if(streams_, [&](const auto& entry) { return ofFramework(entry.first); });
  std::erase_if(unsent_, ofFramework);
  std::erase_if(retries_, [&](const auto& entry) { return ofFramework(entry.second); });
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
