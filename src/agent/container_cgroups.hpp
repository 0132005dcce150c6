// ContainerCgroups: the cgroups of the agent's containers, whichever cgroup
// version the host runs. The Containerizer sees only this interface; it is
// implemented by `Cgroups` (v1, one hierarchy per subsystem; cgroups.hpp)
// and `Cgroups2` (v2, the unified hierarchy; cgroups2.hpp). Both keep a
// container in `<mount>/<root>/<container>` (root = --cgroups_root) and
// never touch cgroups outside `<mount>/<root>`.
//
// discoverCgroups() picks the version (cgroup_detection.hpp): v1 when every
// needed subsystem is mounted as a v1 hierarchy, else v2 when the cgroup2
// root offers the needed controllers, else an error naming what is missing.
//
// Subsystems are named the v1 way throughout ("cpu", "cpuacct", "memory",
// "pids", "freezer"); on v2, "cpuacct" (the core cpu.stat) and "freezer"
// (cgroup.freeze, cgroup.kill) are built into every cgroup.
//
// Thread-safety: implementations are values holding paths; methods touch
// the file system only and may be called from any thread.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/resource_statistics.hpp"
#include "mezzo/common/status.hpp"

namespace mezzo::agent {

struct CgroupLimits {
  double cpus = 0;            // 0 = no cpu limits
  uint64_t memoryBytes = 0;   // 0 = no memory limit
  uint64_t maxProcesses = 0;  // 0 = no pids limit
  bool cfsQuota = true;       // hard cap (CFS quota) besides the cpu weight
  double quotaCpus = 0;       // the CFS quota in cpus: 0 = `cpus`; infinity = no quota
};

class ContainerCgroups {
 public:
  virtual ~ContainerCgroups() = default;

  // 1 or 2.
  virtual int version() const = 0;
  // For the start-up log: "cgroups v1 under 'mezzo'", "cgroups v2 at ...".
  virtual std::string describe() const = 0;
  // Whether what the v1 `subsystem` does is available (v2: its controller
  // is enabled, or it is built in).
  virtual bool has(const std::string& subsystem) const = 0;

  virtual Status create(const std::string& container) const = 0;
  virtual Status assign(const std::string& container, pid_t pid) const = 0;
  // The cgroup.procs files a process writes its pid to in order to join
  // the container (v1: one per hierarchy; v2: one).
  virtual std::vector<std::string> procsFiles(const std::string& container) const = 0;
  // Containers (directories) under our root.
  virtual std::vector<std::string> containers() const = 0;
  virtual bool exists(const std::string& container) const = 0;
  virtual Status applyLimits(const std::string& container, const CgroupLimits& limits) const = 0;
  // How many processes of the container the kernel OOM-killed (0 when unknown).
  virtual uint64_t oomKills(const std::string& container) const = 0;
  // A non-blocking descriptor that becomes readable on the container's
  // memory events (and when its cgroup is removed); the caller owns it,
  // drains it with read() and then looks at oomKills(). v1: an eventfd on
  // memory.oom_control; v2: inotify on memory.events.
  virtual Result<int> oomEventFd(const std::string& container) const = 0;
  // Usage of the container; fields the host cannot give are left empty.
  virtual ResourceStatistics statistics(const std::string& container) const = 0;
  // Cpu time used by the container, in nanoseconds.
  virtual std::optional<uint64_t> cpuUsageNanos(const std::string& container) const = 0;
  virtual std::vector<pid_t> processes(const std::string& container) const = 0;
  // Kills every process of the container (nothing escapes by forking),
  // waits until it is empty (bounded) and removes its cgroups. OK when the
  // container does not exist.
  virtual Status destroy(const std::string& container) const = 0;
  // Removes our (empty) root directories; for tests and tools.
  virtual Status removeRoot() const = 0;
};

// Reads /proc/mounts, picks the cgroup version for the v1 subsystems in
// `needed` and prepares `<mount>/<root>` (v2: enabling the controllers).
Result<std::unique_ptr<ContainerCgroups>> discoverCgroups(const std::string& root,
                                                          const std::vector<std::string>& needed);

}  // namespace mezzo::agent
