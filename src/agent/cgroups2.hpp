// Cgroups2: the cgroups v2 (unified hierarchy) implementation of
// ContainerCgroups (container_cgroups.hpp), used where the needed
// controllers are on a cgroup2 mount (cgroup_detection.hpp chooses).
//
// A container is one cgroup, `<mount>/<root>/<container>`. open() creates
// `<mount>/<root>` (each level of a nested root) and enables the agent's
// controllers (a subset of cpu, memory, pids) in the `cgroup.subtree_control`
// of each level; the mount's root must already delegate them (on systemd
// hosts it does). Containers are leaves: they hold the processes and never
// enable controllers themselves ("no internal processes").
//
//   limits      cpu.weight (from Mesos's 1024 shares per cpu, mapped as the
//               kernel's own cgroup1-to-2 rule does), cpu.max =
//               "<cpus x 100000> 100000" with the CFS cap, memory.max (and
//               memory.swap.max = 0 where swap is accounted), pids.max
//   usage       cpu.stat (present without the cpu controller), memory.current,
//               memory.stat, memory.swap.current, cgroup.procs
//   OOM         memory.events `oom_kill`; oomEventFd() is inotify on it
//   destroy     cgroup.kill (kernel >= 5.14), else freeze (cgroup.freeze),
//               SIGKILL every pid, thaw; wait until cgroup.events says
//               "populated 0" (bounded); rmdir (nested cgroups first)
//
// The mount point is a parameter so that tests can use a cgroup2 mount
// without controllers (a hybrid host's /sys/fs/cgroup/unified) for all
// that needs none.
//
// Thread-safety: a value holding paths; methods touch the file system only.
#pragma once

#include <sys/types.h>

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "agent/container_cgroups.hpp"

namespace mezzo::agent {

// cpu.weight (1..10000) for v1 cpu.shares (2..262144), linear as the kernel
// maps them: weight = 1 + ((shares - 2) x 9999) / 262142.
uint64_t cpuWeightFromShares(uint64_t shares);
// cpu.max: "<quota> <period>" for `cpus` (quota at least 1 ms).
std::string cpuMaxValue(double cpus);
// Usage from the v2 files' contents: cpu.stat and memory.stat (flat keyed),
// memory.current, memory.max ("max" = no limit), memory.swap.current
// (nullopt = file absent or unreadable).
struct Cgroup2Readings {
  std::map<std::string, uint64_t> cpuStat;
  std::map<std::string, uint64_t> memoryStat;
  std::optional<uint64_t> memoryCurrent;
  std::optional<uint64_t> memoryMax;
  std::optional<uint64_t> swapCurrent;
};
ResourceStatistics statisticsFromCgroup2(const Cgroup2Readings& readings);

// How destroy() kills a container's processes.
enum class Cgroup2KillMethod {
  kAuto,             // cgroup.kill where the kernel has it, else kFreezeAndSignal
  kFreezeAndSignal,  // freeze, SIGKILL every pid, thaw
};

class Cgroups2 final : public ContainerCgroups {
 public:
  // Creates `<mount>/<root>` and enables `controllers` at each of its
  // levels. Fails with a clear reason when the mount's root does not
  // delegate them (its cgroup.subtree_control), a level cannot enable
  // them (it holds processes), or the directories cannot be created.
  static Result<Cgroups2> open(std::string mount, std::string root, std::set<std::string> controllers,
                               Cgroup2KillMethod kill = Cgroup2KillMethod::kAuto);

  // <mount>/<root>/<container>
  std::string path(const std::string& container) const;
  const std::set<std::string>& controllers() const { return controllers_; }

  // cgroup.freeze = 1 and wait (bounded) until cgroup.events says frozen.
  Status freeze(const std::string& container) const;
  Status thaw(const std::string& container) const;
  // cgroup.events `frozen` (false when unreadable).
  bool frozen(const std::string& container) const;

  int version() const override { return 2; }
  std::string describe() const override;
  bool has(const std::string& subsystem) const override;
  Status create(const std::string& container) const override;
  Status assign(const std::string& container, pid_t pid) const override;
  std::vector<std::string> procsFiles(const std::string& container) const override;
  std::vector<std::string> containers() const override;
  bool exists(const std::string& container) const override;
  Status applyLimits(const std::string& container, const CgroupLimits& limits) const override;
  // memory.events `oom_kill` (counts nested cgroups too).
  uint64_t oomKills(const std::string& container) const override;
  Result<int> oomEventFd(const std::string& container) const override;
  ResourceStatistics statistics(const std::string& container) const override;
  // cpu.stat usage_usec x 1000.
  std::optional<uint64_t> cpuUsageNanos(const std::string& container) const override;
  std::vector<pid_t> processes(const std::string& container) const override;
  Status destroy(const std::string& container) const override;
  Status removeRoot() const override;

 private:
  Cgroups2(std::string mount, std::string root, std::set<std::string> controllers, Cgroup2KillMethod kill)
      : mount_(std::move(mount)), root_(std::move(root)), controllers_(std::move(controllers)), kill_(kill) {}

  // Whether cgroup.events of `dir` (the subtree) still holds processes.
  static bool populated(const std::string& dir);
  void killAll(const std::string& dir) const;

  std::string mount_;
  std::string root_;
  std::set<std::string> controllers_;
  Cgroup2KillMethod kill_;
};

}  // namespace mezzo::agent
