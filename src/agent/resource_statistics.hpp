// ResourceStatistics: a container's usage as /monitor/statistics reports it
// (field names of the Mesos ResourceStatistics message, rendered as its
// JSON). Filled from cgroups (Cgroups::statistics) or, without cgroups,
// from /proc for the processes of the executor's session.
//
// Thread-safety: a value type and stateless functions.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "mezzo/v1/mesos.pb.h"

namespace mezzo::agent {

struct ResourceStatistics {
  double timestamp = 0;  // epoch seconds
  std::optional<uint32_t> processes;
  std::optional<uint32_t> threads;
  std::optional<double> cpusUserTimeSecs;
  std::optional<double> cpusSystemTimeSecs;
  std::optional<double> cpusLimit;
  std::optional<uint32_t> cpusNrPeriods;
  std::optional<uint32_t> cpusNrThrottled;
  std::optional<double> cpusThrottledTimeSecs;
  std::optional<uint64_t> memTotalBytes;
  std::optional<uint64_t> memRssBytes;
  std::optional<uint64_t> memCacheBytes;
  std::optional<uint64_t> memSwapBytes;
  std::optional<uint64_t> memMappedFileBytes;
  std::optional<uint64_t> memLimitBytes;

  // {"timestamp": ..., "cpus_user_time_secs": ..., ...}; empty fields are left out.
  nlohmann::json toJson() const;
  // The same fields as the v1 message (operator GET_CONTAINERS).
  v1::ResourceStatistics toProto() const;
};

// Sums /proc/<pid>/stat (utime, stime, rss, threads) over `pids`.
ResourceStatistics sampleProcesses(const std::vector<pid_t>& pids);

}  // namespace mezzo::agent
