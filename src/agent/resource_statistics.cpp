#include "agent/resource_statistics.hpp"

#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

namespace mezzo::agent {

nlohmann::json ResourceStatistics::toJson() const {
  nlohmann::json out;
  out["timestamp"] = timestamp;
  auto put = [&out](const char* name, const auto& field) {
    if (field) out[name] = *field;
  };
  put("processes", processes);
  put("threads", threads);
  put("cpus_user_time_secs", cpusUserTimeSecs);
  put("cpus_system_time_secs", cpusSystemTimeSecs);
  put("cpus_limit", cpusLimit);
  put("cpus_nr_periods", cpusNrPeriods);
  put("cpus_nr_throttled", cpusNrThrottled);
  put("cpus_throttled_time_secs", cpusThrottledTimeSecs);
  put("mem_total_bytes", memTotalBytes);
  put("mem_rss_bytes", memRssBytes);
  put("mem_cache_bytes", memCacheBytes);
  put("mem_swap_bytes", memSwapBytes);
  put("mem_mapped_file_bytes", memMappedFileBytes);
  put("mem_limit_bytes", memLimitBytes);
  return out;
}

v1::ResourceStatistics ResourceStatistics::toProto() const {
  v1::ResourceStatistics out;
  out.set_timestamp(timestamp);
  if (processes) out.set_processes(*processes);
  if (threads) out.set_threads(*threads);
  if (cpusUserTimeSecs) out.set_cpus_user_time_secs(*cpusUserTimeSecs);
  if (cpusSystemTimeSecs) out.set_cpus_system_time_secs(*cpusSystemTimeSecs);
  if (cpusLimit) out.set_cpus_limit(*cpusLimit);
  if (cpusNrPeriods) out.set_cpus_nr_periods(*cpusNrPeriods);
  if (cpusNrThrottled) out.set_cpus_nr_throttled(*cpusNrThrottled);
  if (cpusThrottledTimeSecs) out.set_cpus_throttled_time_secs(*cpusThrottledTimeSecs);
  if (memTotalBytes) out.set_mem_total_bytes(*memTotalBytes);
  if (memRssBytes) out.set_mem_rss_bytes(*memRssBytes);
  if (memCacheBytes) out.set_mem_cache_bytes(*memCacheBytes);
  if (memSwapBytes) out.set_mem_swap_bytes(*memSwapBytes);
  if (memMappedFileBytes) out.set_mem_mapped_file_bytes(*memMappedFileBytes);
  if (memLimitBytes) out.set_mem_limit_bytes(*memLimitBytes);
  return out;
}

ResourceStatistics sampleProcesses(const std::vector<pid_t>& pids) {
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const uint64_t pageSize = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  ResourceStatistics stats;
  uint32_t processes = 0;
  uint32_t threads = 0;
  double user = 0;
  double system = 0;
  uint64_t rss = 0;
  for (pid_t pid : pids) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(stat, line)) continue;
    size_t close = line.rfind(')');
    if (close == std::string::npos) continue;
    // Fields after "(comm)": state(3) ... utime(14) stime(15) ... num_threads(20) ... rss(24).
    std::istringstream rest(line.substr(close + 2));
    std::vector<std::string> fields;
    for (std::string field; rest >> field && fields.size() < 22;) fields.push_back(field);
    if (fields.size() < 22) continue;
    ++processes;
    user += std::stod(fields[11]) / ticks;
    system += std::stod(fields[12]) / ticks;
    threads += static_cast<uint32_t>(std::stoul(fields[17]));
    rss += std::stoull(fields[21]) * pageSize;
  }
  stats.processes = processes;
  stats.threads = threads;
  stats.cpusUserTimeSecs = user;
  stats.cpusSystemTimeSecs = system;
  stats.memRssBytes = rss;
  return stats;
}

}  // namespace mezzo::agent
