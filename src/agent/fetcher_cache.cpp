#include "agent/fetcher_cache.hpp"

#include <algorithm>

namespace mezzo::agent {

FetcherCache::Lookup FetcherCache::lookup(const std::string& key, const std::string& baseName) {
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    Entry entry;
    entry.file = "c" + std::to_string(++nextFileId_) + "-" + baseName;
    std::string file = entry.file;
    entries_.emplace(key, std::move(entry));
    return {Outcome::kMiss, std::move(file)};
  }
  Entry& entry = it->second;
  if (entry.state != State::kReady) return {Outcome::kPending, entry.file};
  entry.lastUse = ++tick_;
  ++entry.pins;
  return {Outcome::kHit, entry.file};
}

void FetcherCache::release(const std::string& key) {
  auto it = entries_.find(key);
  if (it != entries_.end() && it->second.pins > 0) --it->second.pins;
}

std::map<std::string, FetcherCache::Entry>::iterator FetcherCache::evictionCandidate(const std::string& except) {
  auto best = entries_.end();
  for (auto it = entries_.begin(); it != entries_.end(); ++it) {
    const Entry& entry = it->second;
    if (it->first == except || entry.state != State::kReady || entry.pins > 0) continue;
    if (best == entries_.end() || entry.lastUse < best->second.lastUse) best = it;
  }
  return best;
}

FetcherCache::Admission FetcherCache::admit(const std::string& key, uint64_t size) {
  Admission admission;
  auto it = entries_.find(key);
  if (it == entries_.end() || it->second.state != State::kPending) return admission;
  // Enough could be freed only if the evictable entries hold it.
  uint64_t evictable = 0;
  for (const auto& [otherKey, entry] : entries_) {
    if (otherKey != key && entry.state == State::kReady && entry.pins == 0) evictable += entry.size;
  }
  if (size > capacity_ || used_ - std::min(used_, evictable) + size > capacity_) {
    entries_.erase(it);
    return admission;
  }
  while (used_ + size > capacity_) {
    auto victim = evictionCandidate(key);
    admission.evicted.push_back(victim->second.file);
    used_ -= victim->second.size;
    entries_.erase(victim);
  }
  it->second.state = State::kStoring;
  it->second.size = size;
  used_ += size;
  admission.admitted = true;
  return admission;
}

void FetcherCache::commit(const std::string& key) {
  auto it = entries_.find(key);
  if (it == entries_.end() || it->second.state != State::kStoring) return;
  it->second.state = State::kReady;
  it->second.lastUse = ++tick_;
}

void FetcherCache::abandon(const std::string& key) {
  auto it = entries_.find(key);
  if (it == entries_.end() || it->second.state == State::kReady) return;
  used_ -= it->second.size;
  entries_.erase(it);
}

size_t FetcherCache::readyEntries() const {
  return static_cast<size_t>(std::count_if(entries_.begin(), entries_.end(),
                                           [](const auto& entry) { return entry.second.state == State::kReady; }));
}

}  // namespace mezzo::agent
