#include "agent/cgroups2.hpp"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <thread>

#include "agent/cgroup_detection.hpp"
#include "agent/cgroup_files.hpp"
#include "mezzo/common/clock.hpp"
#include "mezzo/common/strings.hpp"

namespace mezzo::agent {

namespace fs = std::filesystem;

namespace {

constexpr uint64_t kMinShares = 2;
constexpr uint64_t kMaxShares = 262144;
constexpr uint64_t kMaxWeight = 10000;
constexpr int kFreezeWaitRounds = 100;
constexpr auto kFreezeWaitPause = std::chrono::milliseconds(1);

std::string joinNames(const std::set<std::string>& names) {
  std::string text;
  for (const std::string& name : names) text += (text.empty() ? "" : " ") + name;
  return text;
}

// Enables each of `controllers` not yet in `dir`'s cgroup.subtree_control.
Status enableControllers(const std::string& dir, const std::set<std::string>& controllers) {
  const std::string file = dir + "/cgroup.subtree_control";
  const std::set<std::string> enabled = parseControllerList(readControl(file).value_or(""));
  for (const std::string& controller : controllers) {
    if (enabled.contains(controller)) continue;
    Status status = writeControl(file, "+" + controller);
    if (!status) {
      std::string message = "Cannot enable the cgroup2 controller '" + controller + "' for the children of ";
      message += dir;
      message += " (a cgroup holding processes cannot): ";
      message += status.message();
      return Status::failedPrecondition(std::move(message));
    }
  }
  return Status::ok();
}

// Removes `dir` and the cgroups nested in it, deepest first.
Status removeCgroupTree(const std::string& dir) {
  std::vector<std::string> dirs;
  std::error_code ec;
  for (const auto& entry : fs::recursive_directory_iterator(dir, ec)) {
    if (entry.is_directory(ec)) dirs.push_back(entry.path().string());
  }
  std::ranges::sort(dirs, [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  dirs.push_back(dir);
  for (const std::string& cgroup : dirs) {
    if (::rmdir(cgroup.c_str()) != 0 && errno != ENOENT) {
      return Status::ioError("Cannot remove " + cgroup + ": " + std::strerror(errno));
    }
  }
  return Status::ok();
}

Status setFrozen(const std::string& dir, bool frozen) {
  Status status = writeControl(dir + "/cgroup.freeze", frozen ? "1" : "0");
  if (!status) return status;
  for (int round = 0; round < kFreezeWaitRounds; ++round) {
    if (lookup(readFlatKeyed(dir + "/cgroup.events"), "frozen") == (frozen ? 1u : 0u)) return Status::ok();
    std::this_thread::sleep_for(kFreezeWaitPause);
  }
  return Status::unavailable(dir + (frozen ? " did not freeze" : " did not thaw") + " within 100 ms");
}

}  // namespace

uint64_t cpuWeightFromShares(uint64_t shares) {
  shares = std::clamp(shares, kMinShares, kMaxShares);
  return std::clamp<uint64_t>(1 + ((shares - kMinShares) * (kMaxWeight - 1)) / (kMaxShares - kMinShares), 1,
                              kMaxWeight);
}

std::string cpuMaxValue(double cpus) {
  return std::to_string(cfsQuotaMicros(cpus)) + " " + std::to_string(kCfsPeriodMicros);
}

ResourceStatistics statisticsFromCgroup2(const Cgroup2Readings& readings) {
  ResourceStatistics stats;
  const auto& cpu = readings.cpuStat;
  if (auto user = lookup(cpu, "user_usec")) stats.cpusUserTimeSecs = static_cast<double>(*user) / 1e6;
  if (auto system = lookup(cpu, "system_usec")) stats.cpusSystemTimeSecs = static_cast<double>(*system) / 1e6;
  if (auto periods = lookup(cpu, "nr_periods")) stats.cpusNrPeriods = static_cast<uint32_t>(*periods);
  if (auto throttled = lookup(cpu, "nr_throttled")) stats.cpusNrThrottled = static_cast<uint32_t>(*throttled);
  if (auto micros = lookup(cpu, "throttled_usec")) stats.cpusThrottledTimeSecs = static_cast<double>(*micros) / 1e6;
  const auto& memory = readings.memoryStat;
  stats.memRssBytes = lookup(memory, "anon");
  stats.memCacheBytes = lookup(memory, "file");
  stats.memMappedFileBytes = lookup(memory, "file_mapped");
  stats.memSwapBytes = readings.swapCurrent;
  stats.memTotalBytes = readings.memoryCurrent;
  stats.memLimitBytes = readings.memoryMax;
  return stats;
}

Result<Cgroups2> Cgroups2::open(std::string mount, std::string root, std::set<std::string> controllers,
                                Cgroup2KillMethod kill) {
  const std::string delegatedFile = mount + "/cgroup.subtree_control";
  auto delegated = readControl(delegatedFile);
  if (!delegated) return Status::ioError("Cannot read " + delegatedFile);
  std::set<std::string> missing;
  std::ranges::set_difference(controllers, parseControllerList(*delegated), std::inserter(missing, missing.end()));
  if (!missing.empty()) {
    return Status::failedPrecondition("The cgroup2 root " + mount + " does not delegate the controller(s) '" +
                                      joinNames(missing) + "' to its children (cgroup.subtree_control: '" +
                                      std::string(trim(*delegated)) + "'); enable them there (echo +memory > " +
                                      delegatedFile + ") or run the agent with cgroups v1");
  }
  fs::path level(mount);
  for (const fs::path& part : fs::path(root).relative_path()) {
    if (part.empty() || part == "." || part == "..") continue;
    level /= part;
    std::error_code ec;
    fs::create_directory(level, ec);
    if (ec || access(level.c_str(), W_OK) != 0) {
      return Status::permissionDenied("Cannot create " + level.string() + (ec ? ": " + ec.message() : ""));
    }
    Status status = enableControllers(level.string(), controllers);
    if (!status) return status;
  }
  return Cgroups2(std::move(mount), std::move(root), std::move(controllers), kill);
}

std::string Cgroups2::path(const std::string& container) const { return mount_ + "/" + root_ + "/" + container; }

std::string Cgroups2::describe() const {
  return "cgroups v2 at " + mount_ + "/" + root_ +
         " (controllers: " + (controllers_.empty() ? std::string("none") : joinNames(controllers_)) + ")";
}

bool Cgroups2::has(const std::string& subsystem) const {
  return subsystem == "cpuacct" || subsystem == "freezer" || controllers_.contains(subsystem);
}

Status Cgroups2::freeze(const std::string& container) const { return setFrozen(path(container), true); }

Status Cgroups2::thaw(const std::string& container) const { return setFrozen(path(container), false); }

bool Cgroups2::frozen(const std::string& container) const {
  return lookup(readFlatKeyed(path(container) + "/cgroup.events"), "frozen").value_or(0) == 1;
}

Status Cgroups2::create(const std::string& container) const {
  std::error_code ec;
  fs::create_directory(path(container), ec);
  if (ec) return Status::ioError("Cannot create " + path(container) + ": " + ec.message());
  return Status::ok();
}

Status Cgroups2::assign(const std::string& container, pid_t pid) const {
  return writeControl(path(container) + "/cgroup.procs", std::to_string(pid));
}

std::vector<std::string> Cgroups2::procsFiles(const std::string& container) const {
  return {path(container) + "/cgroup.procs"};
}

std::vector<std::string> Cgroups2::containers() const {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(fs::path(mount_) / root_, ec)) {
    if (entry.is_directory(ec)) names.push_back(entry.path().filename().string());
  }
  std::ranges::sort(names);
  return names;
}

bool Cgroups2::exists(const std::string& container) const { return fs::exists(path(container)); }

Status Cgroups2::applyLimits(const std::string& container, const CgroupLimits& limits) const {
  const std::string dir = path(container);
  if (limits.cpus > 0 && has("cpu")) {
    Status status = writeControl(dir + "/cpu.weight", std::to_string(cpuWeightFromShares(cpuShares(limits.cpus))));
    if (status && limits.cfsQuota) {
      const double quota = limits.quotaCpus > 0 ? limits.quotaCpus : limits.cpus;
      status = writeControl(dir + "/cpu.max", std::isinf(quota) ? "max " + std::to_string(kCfsPeriodMicros)
                                                                 : cpuMaxValue(quota));
    }
    if (!status) return status;
  }
  if (limits.memoryBytes > 0 && has("memory")) {
    Status status = writeControl(dir + "/memory.max", std::to_string(limits.memoryBytes));
    // Swap is limited separately on v2 (the file exists where it is
    // accounted): none, so that memory.max is a hard limit.
    if (status && fs::exists(dir + "/memory.swap.max")) status = writeControl(dir + "/memory.swap.max", "0");
    if (!status) return status;
  }
  if (limits.maxProcesses > 0 && has("pids")) {
    Status status = writeControl(dir + "/pids.max", std::to_string(limits.maxProcesses));
    if (!status) return status;
  }
  return Status::ok();
}

uint64_t Cgroups2::oomKills(const std::string& container) const {
  if (!has("memory")) return 0;
  return lookup(readFlatKeyed(path(container) + "/memory.events"), "oom_kill").value_or(0);
}

Result<int> Cgroups2::oomEventFd(const std::string& container) const {
  if (!has("memory")) return Status::notFound("The memory controller is not enabled");
  return watchFileModifications(path(container) + "/memory.events");
}

ResourceStatistics Cgroups2::statistics(const std::string& container) const {
  const std::string dir = path(container);
  Cgroup2Readings readings;
  readings.cpuStat = readFlatKeyed(dir + "/cpu.stat");
  if (has("memory")) {
    readings.memoryStat = readFlatKeyed(dir + "/memory.stat");
    readings.memoryCurrent = readNumber(dir + "/memory.current");
    readings.memoryMax = readNumber(dir + "/memory.max");
    readings.swapCurrent = readNumber(dir + "/memory.swap.current");
  }
  ResourceStatistics stats = statisticsFromCgroup2(readings);
  stats.timestamp = toEpochSeconds(SystemClock().now());
  stats.processes = static_cast<uint32_t>(processes(container).size());
  return stats;
}

std::optional<uint64_t> Cgroups2::cpuUsageNanos(const std::string& container) const {
  auto micros = lookup(readFlatKeyed(path(container) + "/cpu.stat"), "usage_usec");
  if (!micros) return std::nullopt;
  return *micros * 1000;
}

std::vector<pid_t> Cgroups2::processes(const std::string& container) const {
  return readPids(path(container) + "/cgroup.procs");
}

bool Cgroups2::populated(const std::string& dir) {
  if (auto value = lookup(readFlatKeyed(dir + "/cgroup.events"), "populated")) return *value != 0;
  return !readPids(dir + "/cgroup.procs").empty();
}

void Cgroups2::killAll(const std::string& dir) const {
  if (kill_ == Cgroup2KillMethod::kAuto && fs::exists(dir + "/cgroup.kill") &&
      writeControl(dir + "/cgroup.kill", "1")) {
    return;
  }
  // Frozen, nothing can fork away from the kill; on v2 a frozen process
  // still dies of SIGKILL, the thaw is for those that did not exist yet.
  (void)setFrozen(dir, true);
  std::vector<std::string> cgroups = {dir};
  std::error_code ec;
  for (const auto& entry : fs::recursive_directory_iterator(dir, ec)) {
    if (entry.is_directory(ec)) cgroups.push_back(entry.path().string());
  }
  for (const std::string& cgroup : cgroups) {
    for (pid_t pid : readPids(cgroup + "/cgroup.procs")) ::kill(pid, SIGKILL);
  }
  (void)setFrozen(dir, false);
}

Status Cgroups2::destroy(const std::string& container) const {
  const std::string dir = path(container);
  if (!fs::exists(dir)) return Status::ok();
  if (!killUntilEmpty([&] { return !populated(dir); }, [&] { killAll(dir); })) {
    return Status::unavailable("Processes of " + dir + " survived SIGKILL");
  }
  return removeCgroupTree(dir);
}

Status Cgroups2::removeRoot() const {
  const std::string dir = mount_ + "/" + root_;
  if (::rmdir(dir.c_str()) != 0 && errno != ENOENT) {
    return Status::ioError("Cannot remove " + dir + ": " + std::strerror(errno));
  }
  return Status::ok();
}

}  // namespace mezzo::agent
