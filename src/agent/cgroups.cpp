#include "agent/cgroups.hpp"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

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
  Cgroups cgroups(parseCgroupMounts(*text), root);
  for (const std::string& subsystem : needed) {
    if (!cgroups.has(subsystem)) return Status::notFound("cgroup v1 subsystem '" + subsystem + "' is not mounted");
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

Status Cgroups::applyLimits(const std::string& container, const CgroupLimits& limits) const {
  if (limits.cpus > 0 && has("cpu")) {
    const std::string dir = path("cpu", container);
    auto shares = std::max<uint64_t>(kMinCpuShares, static_cast<uint64_t>(std::llround(limits.cpus * 1024)));
    auto quota =
        std::max<uint64_t>(kMinCfsQuotaMicros, static_cast<uint64_t>(std::llround(limits.cpus * kCfsPeriodMicros)));
    for (auto [file, value] : {std::pair{"/cpu.shares", shares}, std::pair{"/cpu.cfs_period_us", kCfsPeriodMicros},
                               std::pair{"/cpu.cfs_quota_us", quota}}) {
      Status status = writeControl(dir + file, std::to_string(value));
      if (!status) return status;
    }
  }
  if (limits.memoryBytes > 0 && has("memory")) {
    const std::string dir = path("memory", container);
    Status status = writeControl(dir + "/memory.limit_in_bytes", std::to_string(limits.memoryBytes));
    if (!status) return status;
    // Where swap is accounted, limit memory+swap too (the file exists only then).
    if (fs::exists(dir + "/memory.memsw.limit_in_bytes")) {
      writeControl(dir + "/memory.memsw.limit_in_bytes", std::to_string(limits.memoryBytes));
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

std::optional<uint64_t> Cgroups::cpuUsageNanos(const std::string& container) const {
  auto text = readControl(path("cpuacct", container) + "/cpuacct.usage");
  if (!text) return std::nullopt;
  return std::strtoull(text->c_str(), nullptr, 10);
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
