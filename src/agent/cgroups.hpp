// Cgroups v1 for the agent's isolators (issue 4, isolation): discovering
// where each subsystem is mounted, creating a container's cgroups under our
// own subtree `<hierarchy>/<root>/<container>` (root = --cgroups_root,
// default "mezzo"; other cgroups are never touched), placing a process,
// applying limits (cpu.shares and CFS quota from cpus, memory limit, pids),
// reading usage and the OOM-kill counter, and destroying a container
// (freeze, SIGKILL every member, thaw, rmdir).
//
// Subsystems may be mounted separately (`/sys/fs/cgroup/cpu` and
// `/sys/fs/cgroup/cpuacct` on our CI machines) or together
// (`/sys/fs/cgroup/cpu,cpuacct`): mount points come from /proc/mounts.
//
// cgroups v2: not implemented. discover() recognises a unified hierarchy
// that holds a needed controller and says so in its error.
//
// Thread-safety: a value holding paths; methods touch the file system only.
#pragma once

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/resource_statistics.hpp"
#include "mezzo/common/status.hpp"

namespace mezzo::agent {

// Subsystem name -> mount point, for every cgroup (v1) line of `procMounts`
// (the text of /proc/mounts). Named hierarchies (name=systemd) are skipped.
std::map<std::string, std::string> parseCgroupMounts(std::string_view procMounts);

struct CgroupLimits {
  double cpus = 0;             // 0 = no cpu limits
  uint64_t memoryBytes = 0;    // 0 = no memory limit
  uint64_t maxProcesses = 0;   // 0 = no pids limit
  bool cfsQuota = true;        // hard cap (CFS quota) besides cpu.shares
};

class Cgroups {
 public:
  // The subsystems this agent uses.
  static constexpr std::string_view kSubsystems[] = {"cpu", "cpuacct", "memory", "pids", "freezer"};

  // Reads /proc/mounts; fails unless every subsystem in `needed` is mounted
  // and `<mount>/<root>` can be created. Only the `needed` subsystems are
  // used from then on.
  static Result<Cgroups> discover(const std::string& root, const std::vector<std::string>& needed);

  Cgroups(std::map<std::string, std::string> mounts, std::string root)
      : mounts_(std::move(mounts)), root_(std::move(root)) {}

  // <mount of subsystem>/<root>/<container>
  std::string path(const std::string& subsystem, const std::string& container) const;
  bool has(const std::string& subsystem) const { return mounts_.contains(subsystem); }

  Status create(const std::string& container) const;
  Status assign(const std::string& container, pid_t pid) const;
  // The cgroup.procs files a process writes its pid to in order to join
  // the container (one per hierarchy).
  std::vector<std::string> procsFiles(const std::string& container) const;
  // Containers (directories) under our root, in any of our hierarchies.
  std::vector<std::string> containers() const;
  bool exists(const std::string& container) const;
  Status applyLimits(const std::string& container, const CgroupLimits& limits) const;
  // memory.oom_control's oom_kill counter (0 when unknown).
  uint64_t oomKills(const std::string& container) const;
  // An eventfd that becomes readable on an OOM event of the container (and
  // when its memory cgroup is removed); the caller owns it.
  Result<int> oomEventFd(const std::string& container) const;
  // Usage from cpuacct.stat, cpu.stat, memory.stat and friends; fields of
  // absent hierarchies are left empty.
  ResourceStatistics statistics(const std::string& container) const;
  // cpuacct.usage in nanoseconds.
  std::optional<uint64_t> cpuUsageNanos(const std::string& container) const;
  std::vector<pid_t> processes(const std::string& container) const;
  // Freeze, SIGKILL every process, thaw, wait until empty, rmdir everywhere.
  Status destroy(const std::string& container) const;

 private:
  std::map<std::string, std::string> mounts_;
  std::string root_;
};

}  // namespace mezzo::agent
