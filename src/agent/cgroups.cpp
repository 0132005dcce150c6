#include "agent/cgroups.hpp"

#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <fcntl.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "mezzo/common/clock.hpp"

namespace mezzo::agent {

namespace fs = std::filesystem;

namespace {

constexpr uint64_t kCfsPeriodMicros = 100000;
constexpr uint64_t kMinCfsQuotaMicros = 1000;
constexpr uint64_t kMinCpuShares = 2;
constexpr int kDestroyAttempts = 50;

Status writeControl(const std::string& file, const std::string& value) {
  std::ofstream out(file);
  if (!out) return Status::ioError("Cannot open " + file);
  out << value;
  out.flush();
  if (!out) return Status::ioError("Cannot write '" + value + "' to " + file);
  return Status::ok();
}

std::optional<std::string> readControl(const std::string& file) {
  std::ifstream in(file);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Key/value lines ("total_rss 4096") of a cgroup stat file.
std::map<std::string, uint64_t> readStatFile(const std::string& file) {
  std::map<std::string, uint64_t> values;
  auto text = readControl(file);
  if (!text) return values;
  std::istringstream lines(*text);
  std::string key;
  uint64_t value = 0;
  while (lines >> key >> value) values[key] = value;
  return values;
}

std::optional<uint64_t> readNumber(const std::string& file) {
  auto text = readControl(file);
  if (!text || text->empty()) return std::nullopt;
  return std::strtoull(text->c_str(), nullptr, 10);
}

std::optional<uint64_t> lookup(const std::map<std::string, uint64_t>& values, const std::string& key) {
  auto it = values.find(key);
  return it == values.end() ? std::nullopt : std::optional<uint64_t>(it->second);
}

// Where a cgroup v2 (unified) hierarchy is mounted, from /proc/mounts.
std::optional<std::string> unifiedMount(std::string_view procMounts) {
  std::istringstream lines{std::string(procMounts)};
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    std::string device, mountPoint, type;
    if (fields >> device >> mountPoint >> type && type == "cgroup2") return mountPoint;
  }
  return std::nullopt;
}

// The v2 name of a v1 subsystem.
std::string unifiedControllerOf(const std::string& subsystem) {
  if (subsystem == "cpuacct") return "cpu";
  return subsystem;
}

}  // namespace

std::map<std::string, std::string> parseCgroupMounts(std::string_view procMounts) {
  std::map<std::string, std::string> mounts;
  std::istringstream lines{std::string(procMounts)};
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    std::string device, mountPoint, type, options;
    if (!(fields >> device >> mountPoint >> type >> options) || type != "cgroup") continue;
    std::istringstream parts(options);
    std::string option;
    while (std::getline(parts, option, ',')) {
      if (option == "rw" || option == "ro" || option.find('=') != std::string::npos) continue;
      if (option == "relatime" || option == "noatime" || option == "nosuid" || option == "nodev" ||
          option == "noexec" || option == "clone_children" || option == "xattr") {
        continue;
      }
      mounts.emplace(option, mountPoint);
    }
  }
  return mounts;
}

Result<Cgroups> Cgroups::discover(const std::string& root, const std::vector<std::string>& needed) {
  auto text = readControl("/proc/mounts");
  if (!text) return Status::ioError("Cannot read /proc/mounts");
  std::map<std::string, std::string> mounts = parseCgroupMounts(*text);
  std::erase_if(mounts, [&](const auto& entry) {
    return std::find(needed.begin(), needed.end(), entry.first) == needed.end();
  });
  Cgroups cgroups(std::move(mounts), root);
  for (const std::string& subsystem : needed) {
    if (!cgroups.has(subsystem)) {
      std::string message = "cgroup v1 subsystem '" + subsystem + "' is not mounted";
      if (auto unified = unifiedMount(*text)) {
        auto controllers = readControl(*unified + "/cgroup.controllers");
        std::string controller = unifiedControllerOf(subsystem);
        if (controllers && (" " + *controllers + " ").find(" " + controller) != std::string::npos) {
          message += "; the host has cgroups v2 (controller '" + controller + "' on " + *unified +
                     "), which this agent does not support yet";
        }
      }
      return Status::notFound(message);
    }
    std::error_code ec;
    fs::path dir = fs::path(cgroups.mounts_.at(subsystem)) / root;
    fs::create_directories(dir, ec);
    if (ec || access(dir.c_str(), W_OK) != 0) {
      return Status::permissionDenied("Cannot create " + dir.string() + (ec ? ": " + ec.message() : ""));
    }
  }
  return cgroups;
}

std::string Cgroups::path(const std::string& subsystem, const std::string& container) const {
  auto it = mounts_.find(subsystem);
  return it == mounts_.end() ? std::string() : it->second + "/" + root_ + "/" + container;
}

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
  for (std::string_view subsystem : kSubsystems) {
    std::string dir = path(std::string(subsystem), container);
    if (dir.empty()) continue;
    Status status = writeControl(dir + "/cgroup.procs", std::to_string(pid));
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
    auto shares = std::max<uint64_t>(kMinCpuShares, static_cast<uint64_t>(std::llround(limits.cpus * 1024)));
    auto quota =
        std::max<uint64_t>(kMinCfsQuotaMicros, static_cast<uint64_t>(std::llround(limits.cpus * kCfsPeriodMicros)));
    Status status = writeControl(dir + "/cpu.shares", std::to_string(shares));
    if (status && limits.cfsQuota) status = writeControl(dir + "/cpu.cfs_period_us", std::to_string(kCfsPeriodMicros));
    if (status && limits.cfsQuota) status = writeControl(dir + "/cpu.cfs_quota_us", std::to_string(quota));
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
  auto text = readControl(path("memory", container) + "/memory.oom_control");
  if (!text) return 0;
  std::istringstream lines(*text);
  std::string key;
  uint64_t value = 0;
  while (lines >> key >> value) {
    if (key == "oom_kill") return value;
  }
  return 0;
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
    auto cpuacct = readStatFile(path("cpuacct", container) + "/cpuacct.stat");
    const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
    if (auto user = lookup(cpuacct, "user")) stats.cpusUserTimeSecs = static_cast<double>(*user) / ticks;
    if (auto system = lookup(cpuacct, "system")) stats.cpusSystemTimeSecs = static_cast<double>(*system) / ticks;
  }
  if (has("cpu")) {
    auto cpu = readStatFile(path("cpu", container) + "/cpu.stat");
    if (auto periods = lookup(cpu, "nr_periods")) stats.cpusNrPeriods = static_cast<uint32_t>(*periods);
    if (auto throttled = lookup(cpu, "nr_throttled")) stats.cpusNrThrottled = static_cast<uint32_t>(*throttled);
    if (auto nanos = lookup(cpu, "throttled_time")) stats.cpusThrottledTimeSecs = static_cast<double>(*nanos) / 1e9;
  }
  if (has("memory")) {
    const std::string dir = path("memory", container);
    auto memory = readStatFile(dir + "/memory.stat");
    stats.memRssBytes = lookup(memory, "total_rss");
    stats.memCacheBytes = lookup(memory, "total_cache");
    stats.memMappedFileBytes = lookup(memory, "total_mapped_file");
    stats.memSwapBytes = lookup(memory, "total_swap");
    stats.memTotalBytes = readNumber(dir + "/memory.usage_in_bytes");
    stats.memLimitBytes = readNumber(dir + "/memory.limit_in_bytes");
  }
  std::vector<pid_t> pids = processes(container);
  stats.processes = static_cast<uint32_t>(pids.size());
  return stats;
}

std::optional<uint64_t> Cgroups::cpuUsageNanos(const std::string& container) const {
  return readNumber(path("cpuacct", container) + "/cpuacct.usage");
}

std::vector<pid_t> Cgroups::processes(const std::string& container) const {
  std::vector<pid_t> pids;
  for (std::string_view subsystem : kSubsystems) {
    auto text = readControl(path(std::string(subsystem), container) + "/cgroup.procs");
    if (!text) continue;
    std::istringstream in(*text);
    pid_t pid = 0;
    while (in >> pid) pids.push_back(pid);
    if (!pids.empty()) break;
  }
  return pids;
}

Status Cgroups::destroy(const std::string& container) const {
  const std::string freezer = has("freezer") ? path("freezer", container) : std::string();
  const bool canFreeze = !freezer.empty() && fs::exists(freezer);
  for (int attempt = 0; attempt < kDestroyAttempts; ++attempt) {
    std::vector<pid_t> pids = processes(container);
    if (pids.empty()) break;
    // Frozen, nothing can fork away from the kill.
    if (canFreeze) writeControl(freezer + "/freezer.state", "FROZEN");
    for (pid_t pid : pids) ::kill(pid, SIGKILL);
    if (canFreeze) writeControl(freezer + "/freezer.state", "THAWED");
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  Status result = Status::ok();
  for (std::string_view subsystem : kSubsystems) {
    std::string dir = path(std::string(subsystem), container);
    if (dir.empty() || !fs::exists(dir)) continue;
    if (::rmdir(dir.c_str()) != 0) result = Status::ioError("Cannot remove " + dir + ": " + std::strerror(errno));
  }
  return result;
}

}  // namespace mezzo::agent
