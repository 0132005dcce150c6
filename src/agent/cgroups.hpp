// Cgroups: the cgroups v1 implementation of ContainerCgroups
// (container_cgroups.hpp), used where every needed subsystem is mounted as
// a v1 hierarchy (cgroups2.hpp is the v2 one; cgroup_detection.hpp
// chooses). A container has one cgroup per hierarchy,
// `<hierarchy>/<root>/<container>` (root = --cgroups_root, default
// "mezzo"; other cgroups are never touched), with cpu.shares and the CFS
// quota from cpus, memory.limit_in_bytes (and memsw where swap is
// accounted) and pids.max; usage comes from cpuacct.stat, cpu.stat and
// memory.stat, OOM kills from memory.oom_control (an eventfd through
// cgroup.event_control), and destruction freezes, SIGKILLs every member,
// thaws and removes the directories.
//
// Subsystems may be mounted separately (`/sys/fs/cgroup/cpu` and
// `/sys/fs/cgroup/cpuacct` on our CI machines) or together
// (`/sys/fs/cgroup/cpu,cpuacct`): mount points come from /proc/mounts.
//
// Thread-safety: a value holding paths; methods touch the file system only.
#pragma once

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/container_cgroups.hpp"

namespace mezzo::agent {

class Cgroups final : public ContainerCgroups {
 public:
  // The subsystems this agent uses.
  static constexpr std::string_view kSubsystems[] = {"cpu", "cpuacct", "memory", "pids", "freezer"};

  // Uses the hierarchies in `mounts` (subsystem -> mount point); fails
  // unless `<mount>/<root>` can be created and written in each.
  static Result<Cgroups> open(std::map<std::string, std::string> mounts, std::string root);

  Cgroups(std::map<std::string, std::string> mounts, std::string root)
      : mounts_(std::move(mounts)), root_(std::move(root)) {}

  // <mount of subsystem>/<root>/<container>
  std::string path(const std::string& subsystem, const std::string& container) const;

  int version() const override { return 1; }
  std::string describe() const override;
  bool has(const std::string& subsystem) const override { return mounts_.contains(subsystem); }
  Status create(const std::string& container) const override;
  Status assign(const std::string& container, pid_t pid) const override;
  std::vector<std::string> procsFiles(const std::string& container) const override;
  // Containers under our root in any of our hierarchies.
  std::vector<std::string> containers() const override;
  bool exists(const std::string& container) const override;
  Status applyLimits(const std::string& container, const CgroupLimits& limits) const override;
  // memory.oom_control's oom_kill counter.
  uint64_t oomKills(const std::string& container) const override;
  Result<int> oomEventFd(const std::string& container) const override;
  ResourceStatistics statistics(const std::string& container) const override;
  // cpuacct.usage.
  std::optional<uint64_t> cpuUsageNanos(const std::string& container) const override;
  std::vector<pid_t> processes(const std::string& container) const override;
  // Freeze, SIGKILL every process, thaw, wait until empty, rmdir everywhere.
  Status destroy(const std::string& container) const override;
  Status removeRoot() const override;

 private:
  std::map<std::string, std::string> mounts_;
  std::string root_;
};

}  // namespace mezzo::agent
