#include "agent/fetcher_cache.hpp"

#include <gtest/gtest.h>

namespace mezzo::agent {
namespace {

using Outcome = FetcherCache::Outcome;

// Looks `key` up, and on a miss admits and commits it with `size` bytes.
// Returns the files evicted to make room.
std::vector<std::string> store(FetcherCache& cache, const std::string& key, uint64_t size) {
  auto found = cache.lookup(key, key);
  EXPECT_EQ(found.outcome, Outcome::kMiss) << key;
  auto admission = cache.admit(key, size);
  EXPECT_TRUE(admission.admitted) << key;
  cache.commit(key);
  return admission.evicted;
}

TEST(FetcherCache, ASecondLookupHitsWithoutDownloading) {
  FetcherCache cache(100);
  auto first = cache.lookup("u\nhttp://h/a", "a");
  ASSERT_EQ(first.outcome, Outcome::kMiss);
  EXPECT_EQ(first.file, "c1-a");
  EXPECT_EQ(cache.lookup("u\nhttp://h/a", "a").outcome, Outcome::kPending) << "being downloaded";
  ASSERT_TRUE(cache.admit("u\nhttp://h/a", 40).admitted);
  EXPECT_EQ(cache.usedBytes(), 40u);
  EXPECT_EQ(cache.lookup("u\nhttp://h/a", "a").outcome, Outcome::kPending) << "being stored";
  cache.commit("u\nhttp://h/a");
  auto hit = cache.lookup("u\nhttp://h/a", "a");
  EXPECT_EQ(hit.outcome, Outcome::kHit);
  EXPECT_EQ(hit.file, "c1-a");
  cache.release("u\nhttp://h/a");
  EXPECT_EQ(cache.readyEntries(), 1u);
}

TEST(FetcherCache, TheKeyIncludesTheUser) {
  FetcherCache cache(100);
  store(cache, FetcherCache::key("alice", "http://h/a"), 10);
  EXPECT_EQ(cache.lookup(FetcherCache::key("bob", "http://h/a"), "a").outcome, Outcome::kMiss);
  EXPECT_EQ(cache.lookup(FetcherCache::key("alice", "http://h/a"), "a").outcome, Outcome::kHit);
}

TEST(FetcherCache, TheLeastRecentlyUsedEntriesAreEvictedFirst) {
  FetcherCache cache(100);
  store(cache, "a", 40);
  store(cache, "b", 40);
  ASSERT_EQ(cache.lookup("a", "a").outcome, Outcome::kHit);  // a is now more recent than b
  cache.release("a");
  EXPECT_EQ(store(cache, "c", 30), std::vector<std::string>{"c2-b"});
  EXPECT_EQ(cache.usedBytes(), 70u);
  EXPECT_FALSE(cache.contains("b"));
  EXPECT_EQ(store(cache, "d", 100), (std::vector<std::string>{"c1-a", "c3-c"}));
  EXPECT_EQ(cache.usedBytes(), 100u);
  EXPECT_EQ(cache.readyEntries(), 1u);
}

TEST(FetcherCache, AnEntryLargerThanTheCacheIsNotAdmitted) {
  FetcherCache cache(100);
  store(cache, "a", 60);
  ASSERT_EQ(cache.lookup("huge", "huge").outcome, Outcome::kMiss);
  auto admission = cache.admit("huge", 101);
  EXPECT_FALSE(admission.admitted);
  EXPECT_TRUE(admission.evicted.empty()) << "nothing is evicted for an entry that cannot fit";
  EXPECT_FALSE(cache.contains("huge"));
  EXPECT_TRUE(cache.contains("a"));
  EXPECT_EQ(cache.usedBytes(), 60u);
}

TEST(FetcherCache, PinnedEntriesAreNotEvicted) {
  FetcherCache cache(100);
  store(cache, "a", 60);
  ASSERT_EQ(cache.lookup("a", "a").outcome, Outcome::kHit);  // being copied out
  ASSERT_EQ(cache.lookup("b", "b").outcome, Outcome::kMiss);
  EXPECT_FALSE(cache.admit("b", 50).admitted) << "a is pinned, so b cannot fit";
  EXPECT_TRUE(cache.contains("a"));
  cache.release("a");
  ASSERT_EQ(cache.lookup("b", "b").outcome, Outcome::kMiss);
  auto admission = cache.admit("b", 50);
  EXPECT_TRUE(admission.admitted);
  EXPECT_EQ(admission.evicted, std::vector<std::string>{"c1-a"});
}

TEST(FetcherCache, AbandonedEntriesFreeTheirKeyAndSpace) {
  FetcherCache cache(100);
  ASSERT_EQ(cache.lookup("a", "a").outcome, Outcome::kMiss);
  cache.abandon("a");  // the download failed
  EXPECT_FALSE(cache.contains("a"));
  ASSERT_EQ(cache.lookup("a", "a").outcome, Outcome::kMiss) << "the next fetch tries again";
  ASSERT_TRUE(cache.admit("a", 30).admitted);
  cache.abandon("a");  // storing failed
  EXPECT_EQ(cache.usedBytes(), 0u);
  store(cache, "b", 10);
  cache.abandon("b");
  EXPECT_TRUE(cache.contains("b")) << "ready entries are only evicted";
}

TEST(FetcherCache, UsageNeverExceedsTheCapacity) {
  FetcherCache cache(1000);
  for (uint64_t i = 0; i < 200; ++i) {
    const std::string key = "k" + std::to_string(i % 37);
    auto found = cache.lookup(key, key);
    if (found.outcome == Outcome::kHit) {
      cache.release(key);
    } else if (found.outcome == Outcome::kMiss) {
      if (cache.admit(key, (i * 7919) % 1200).admitted) cache.commit(key);
    }
    ASSERT_LE(cache.usedBytes(), cache.capacityBytes()) << "step " << i;
  }
}

}  // namespace
}  // namespace mezzo::agent
