// FetcherCache: the bookkeeping of the fetcher cache (--fetcher_cache_size),
// without any file I/O. Entries are keyed by (user, URI) and name a file in
// the cache directory. An entry is
//   pending  while its first fetcher downloads it (others wait for it),
//   storing  once admitted: its bytes are counted and being copied in,
//   ready    when its file is complete; hits pin it while they copy it out.
// Admission evicts ready, unpinned entries, least recently used first,
// until the new one fits; an entry larger than the whole cache, or one that
// cannot fit because everything else is pinned, is not admitted (the
// fetcher keeps its direct download and caches nothing).
//
// Invariant: usedBytes() (storing + ready entries) <= capacityBytes().
//
// Thread-safety: none; the Fetcher calls it under its mutex.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace mezzo::agent {

class FetcherCache {
 public:
  explicit FetcherCache(uint64_t capacityBytes) : capacity_(capacityBytes) {}

  static std::string key(const std::string& user, const std::string& uri) { return user + '\n' + uri; }

  enum class Outcome {
    kHit,      // ready: copy `file` out, then release(key)
    kMiss,     // now pending: download, then admit() or abandon()
    kPending,  // someone else is downloading it: wait and look up again
  };
  struct Lookup {
    Outcome outcome;
    std::string file;  // the entry's file name in the cache directory (hit and miss)
  };
  // `baseName` goes into the file name of a new entry, for operators.
  Lookup lookup(const std::string& key, const std::string& baseName);
  // A hit's copy is done.
  void release(const std::string& key);

  struct Admission {
    bool admitted = false;
    std::vector<std::string> evicted;  // files to delete before storing
  };
  // Pending -> storing with `size` bytes if it fits after evictions;
  // otherwise the entry is dropped.
  Admission admit(const std::string& key, uint64_t size);
  // Storing -> ready.
  void commit(const std::string& key);
  // Drops a pending or storing entry (download or store failed).
  void abandon(const std::string& key);

  uint64_t capacityBytes() const { return capacity_; }
  uint64_t usedBytes() const { return used_; }
  size_t readyEntries() const;
  bool contains(const std::string& key) const { return entries_.contains(key); }

 private:
  enum class State { kPending, kStoring, kReady };
  struct Entry {
    State state = State::kPending;
    std::string file;
    uint64_t size = 0;
    uint64_t lastUse = 0;  // tick of the last hit or commit
    int pins = 0;
  };
  // The least recently used ready, unpinned entry other than `except`, or end().
  std::map<std::string, Entry>::iterator evictionCandidate(const std::string& except);

  uint64_t capacity_;
  uint64_t used_ = 0;
  uint64_t tick_ = 0;
  uint64_t nextFileId_ = 0;
  std::map<std::string, Entry> entries_;
};

}  // namespace mezzo::agent
