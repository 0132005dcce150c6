// Fetcher: brings a container's CommandInfo.URIs into its sandbox before
// its executor starts, off the agent's event loop. Each fetch() is a job run
// by one of a few worker threads: every URI in order is copied (local
// files) or downloaded (http, https), through the cache when `cache` is
// set, made executable or unpacked (fetcher_uri.hpp has the naming and
// archive rules), and the outcome is posted back to the io_context. The
// first failing URI ends the job with an error naming it.
//
// The cache lives in its own directory (wiped by start()), bounded by
// `cacheSize` with LRU eviction (fetcher_cache.hpp). Concurrent fetches of
// the same cached URI download it once: the others wait for the first.
//
// Thread-safety: fetch(), cancel() and metrics() may be called from any
// thread (the agent calls them from its loop); `done` callbacks run on the
// io_context. The destructor cancels running jobs and joins the workers;
// queued jobs are dropped without their callback.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "agent/fetcher_cache.hpp"
#include "mezzo/common/clock.hpp"
#include "mezzo/common/status.hpp"
#include "mezzo/v1/mesos.pb.h"

namespace mezzo::agent {

struct FetcherOptions {
  std::string cacheDir;  // absolute; emptied by start()
  uint64_t cacheSize = uint64_t{2} << 30;
  Duration stallTimeout = std::chrono::minutes(1);
  size_t threads = 4;
};

struct FetchRequest {
  std::string containerId;  // names the job for cancel() and logs
  std::string sandbox;      // existing directory the URIs are fetched into
  std::string user;         // part of the cache key (empty: none)
  std::vector<v1::CommandInfo::URI> uris;
};

struct FetcherMetrics {
  uint64_t fetchesSucceeded = 0;  // jobs whose every URI was fetched
  uint64_t fetchesFailed = 0;     // jobs that ended with an error (cancelled ones are not counted)
  uint64_t cacheTotalBytes = 0;
  uint64_t cacheUsedBytes = 0;
};

class Fetcher {
 public:
  using Done = std::function<void(const Status&)>;

  Fetcher(boost::asio::io_context& io, FetcherOptions options);
  ~Fetcher();
  Fetcher(const Fetcher&) = delete;
  Fetcher& operator=(const Fetcher&) = delete;

  // Empties and creates the cache directory and starts the workers.
  Status start();
  // Queues a job; `done` is posted to the io_context with its outcome.
  void fetch(FetchRequest request, Done done);
  // Stops the job of `containerId` (queued or running) as soon as it can;
  // its `done` still runs, with an error.
  void cancel(const std::string& containerId);
  FetcherMetrics metrics() const;
  const FetcherOptions& options() const { return options_; }

 private:
  struct Job {
    FetchRequest request;
    Done done;
    std::shared_ptr<std::atomic<bool>> cancelled;
  };
  void work();
  Status runJob(const Job& job);
  Status fetchUri(const v1::CommandInfo::URI& uri, const Job& job);
  // Puts the URI's bytes at `target`; returns how ("downloaded", "from the cache", ...).
  Result<std::string> obtain(const v1::CommandInfo::URI& uri, const std::string& target, const Job& job);
  Result<std::string> obtainCached(const v1::CommandInfo::URI& uri, const std::string& target, const Job& job);
  Status transfer(const std::string& uri, const std::string& target, const Job& job) const;
  // Copies a fresh download into the cache entry `file` if admitted; false if not cached.
  bool offerToCache(const std::string& key, const std::string& file, const std::string& downloaded);

  boost::asio::io_context& io_;
  FetcherOptions options_;
  mutable std::mutex mutex_;
  std::condition_variable jobsChanged_;   // workers wait for jobs
  std::condition_variable cacheChanged_;  // waiters for a pending cache entry
  std::deque<Job> queue_;
  std::map<std::string, std::shared_ptr<std::atomic<bool>>> cancelFlags_;  // by container id
  FetcherCache cache_;
  FetcherMetrics counts_;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace mezzo::agent
