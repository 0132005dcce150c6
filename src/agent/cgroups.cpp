#include "agent/cgroups.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <set>

#include "agent/cgroup_files.hpp"
#include "mezzo/common/clock.hpp"

namespace mezzo::agent {

namespace fs = std::filesystem;

Result<Cgroups> Cgroups::open(std::map<std::string, std::string> mounts, std::string root) {
  for (const auto& [subsystem, mount] : mounts) {
    std::error_code ec;
    fs::path dir = fs::path(mount) / root;
    fs::create_directories(dir, ec);
    if (ec || access(dir.c_str(), W_OK) != 0) {
      return Status::permissionDenied("Cannot create " + dir.string() + (ec ? ": " + ec.message() : ""));
    }
  }
  return Cgroups(std::move(mounts), std::move(root));
}

std::string Cgroups::path(const std::string& subsystem, const std::string& container) const {
  auto it = mounts_.find(subsystem);
  return it == mounts_.end() ? std::string() : it->second + "/" + root_ + "/" + container;
}

std::string Cgroups::describe() const { return "cgroups v1 under '" + root_ + "'"; }

Status Cgroups::create(const std::string& container) const {
  for (std::string_view subsystem : kSubsystems) {
    std::string dir = path(std::string(subsystem), container);
    if (dir.empty()) continue;
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return Status::ioError("Cannot create " + dir + ": " + ec.message());
  }
  return Status::ok();
}

Status Cgroups::assign(const std::string& container, pid_t pid) const {
  for (const std::string& file : procsFiles(container)) {
    Status status = writeControl(file, std::to_string(pid));
    if (!status) return status;
  }
  return Status::ok();
}

std::vector<std::string> Cgroups::procsFiles(const std::string& container) const {
  std::vector<std::string> files;
  std::set<std::string> seen;  // co-mounted subsystems share one directory
  for (std::string_view subsystem : kSubsystems) {
    std::string dir = path(std::string(subsystem), container);
    if (!dir.empty() && seen.insert(dir).second) files.push_back(dir + "/cgroup.procs");
  }
  return files;
}

std::vector<std::string> Cgroups::containers() const {
  std::set<std::string> names;
  for (const auto& [subsystem, mount] : mounts_) {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(fs::path(mount) / root_, ec)) {
      if (entry.is_directory(ec)) names.insert(entry.path().filename().string());
    }
  }
  return {names.begin(), names.end()};
}

bool Cgroups::exists(const std::string& container) const {
  for (const auto& [subsystem, mount] : mounts_) {
    if (fs::exists(path(subsystem, container))) return true;
  }
  return false;
}

Status Cgroups::applyLimits(const std::string& container, const CgroupLimits& limits) const {
  if (limits.cpus > 0 && has("cpu")) {
    const std::string dir = path("cpu", container);
    Status status = writeControl(dir + "/cpu.shares", std::to_string(cpuShares(limits.cpus)));
    if (status && limits.cfsQuota) status = writeControl(dir + "/cpu.cfs_period_us", std::to_string(kCfsPeriodMicros));
    if (status && limits.cfsQuota) {
      const double quota = limits.quotaCpus > 0 ? limits.quotaCpus : limits.cpus;
      status = writeControl(dir + "/cpu.cfs_quota_us", std::isinf(quota) ? "-1" : std::to_string(cfsQuotaMicros(quota)));
    }
    if (!status) return status;
  }
  if (limits.memoryBytes > 0 && has("memory")) {
    const std::string dir = path("memory", container);
    const std::string value = std::to_string(limits.memoryBytes);
    // Where swap is accounted (the memsw file exists only then), memory+swap
    // is limited too; memsw must stay >= the memory limit, so when raising
    // it goes first, when lowering second.
    const bool swap = fs::exists(dir + "/memory.memsw.limit_in_bytes");
    if (swap) (void)writeControl(dir + "/memory.memsw.limit_in_bytes", value);
    Status status = writeControl(dir + "/memory.limit_in_bytes", value);
    if (!status) return status;
    if (swap) {
      status = writeControl(dir + "/memory.memsw.limit_in_bytes", value);
      if (!status) return status;
    }
  }
  if (limits.maxProcesses > 0 && has("pids")) {
    Status status = writeControl(path("pids", container) + "/pids.max", std::to_string(limits.maxProcesses));
    if (!status) return status;
  }
  return Status::ok();
}

uint64_t Cgroups::oomKills(const std::string& container) const {
  if (!has("memory")) return 0;
  return lookup(readFlatKeyed(path("memory", container) + "/memory.oom_control"), "oom_kill").value_or(0);
}

Result<int> Cgroups::oomEventFd(const std::string& container) const {
  if (!has("memory")) return Status::notFound("No memory hierarchy");
  const std::string dir = path("memory", container);
  int control = ::open((dir + "/memory.oom_control").c_str(), O_RDONLY | O_CLOEXEC);
  if (control < 0) return Status::ioError("Cannot open " + dir + "/memory.oom_control: " + std::strerror(errno));
  int event = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (event < 0) {
    ::close(control);
    return Status::ioError(std::string("eventfd failed: ") + std::strerror(errno));
  }
  Status registered =
      writeControl(dir + "/cgroup.event_control", std::to_string(event) + " " + std::to_string(control));
  ::close(control);  // the kernel holds its own reference once registered
  if (!registered) {
    ::close(event);
    return registered;
  }
  return event;
}

ResourceStatistics Cgroups::statistics(const std::string& container) const {
  ResourceStatistics stats;
  stats.timestamp = toEpochSeconds(SystemClock().now());
  if (has("cpuacct")) {
    auto cpuacct = readFlatKeyed(path("cpuacct", container) + "/cpuacct.stat");
    const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
    if (auto user = lookup(cpuacct, "user")) stats.cpusUserTimeSecs = static_cast<double>(*user) / ticks;
    if (auto system = lookup(cpuacct, "system")) stats.cpusSystemTimeSecs = static_cast<double>(*system) / ticks;
  }
  if (has("cpu")) {
    auto cpu = readFlatKeyed(path("cpu", container) + "/cpu.stat");
    if (auto periods = lookup(cpu, "nr_periods")) stats.cpusNrPeriods = static_cast<uint32_t>(*periods);
    if (auto throttled = lookup(cpu, "nr_throttled")) stats.cpusNrThrottled = static_cast<uint32_t>(*throttled);
    if (auto nanos = lookup(cpu, "throttled_time")) stats.cpusThrottledTimeSecs = static_cast<double>(*nanos) / 1e9;
  }
  if (has("memory")) {
    const std::string dir = path("memory", container);
    auto memory = readFlatKeyed(dir + "/memory.stat");
    stats.memRssBytes = lookup(memory, "total_rss");
    stats.memCacheBytes = lookup(memory, "total_cache");
    stats.memMappedFileBytes = lookup(memory, "total_mapped_file");
    stats.memSwapBytes = lookup(memory, "total_swap");
    stats.memTotalBytes = readNumber(dir + "/memory.usage_in_bytes");
    stats.memLimitBytes = readNumber(dir + "/memory.limit_in_bytes");
  }
  stats.processes = static_cast<uint32_t>(processes(container).size());
  return stats;
}

std::optional<uint64_t> Cgroups::cpuUsageNanos(const std::string& container) const {
  if (!has("cpuacct")) return std::nullopt;
  return readNumber(path("cpuacct", container) + "/cpuacct.usage");
}

std::vector<pid_t> Cgroups::processes(const std::string& container) const {
  for (const std::string& file : procsFiles(container)) {
    std::vector<pid_t> pids = readPids(file);
    if (!pids.empty()) return pids;
  }
  return {};
}

Status Cgroups::destroy(const std::string& container) const {
  const std::string freezer = has("freezer") ? path("freezer", container) : std::string();
  const bool canFreeze = !freezer.empty() && fs::exists(freezer);
  killUntilEmpty([&] { return processes(container).empty(); },
                 [&] {
                   // Frozen, nothing can fork away from the kill.
                   if (canFreeze) (void)writeControl(freezer + "/freezer.state", "FROZEN");
                   for (pid_t pid : processes(container)) ::kill(pid, SIGKILL);
                   if (canFreeze) (void)writeControl(freezer + "/freezer.state", "THAWED");
                 });
  Status result = Status::ok();
  for (std::string_view subsystem : kSubsystems) {
    std::string dir = path(std::string(subsystem), container);
    if (dir.empty() || !fs::exists(dir)) continue;
    if (::rmdir(dir.c_str()) != 0) result = Status::ioError("Cannot remove " + dir + ": " + std::strerror(errno));
  }
  return result;
}

Status Cgroups::removeRoot() const {
  Status result = Status::ok();
  for (const auto& [subsystem, mount] : mounts_) {
    const std::string dir = mount + "/" + root_;
    if (::rmdir(dir.c_str()) != 0 && errno != ENOENT) {
      result = Status::ioError("Cannot remove " + dir + ": " + std::strerror(errno));
    }
  }
  return result;
}

}  // namespace mezzo::agent
