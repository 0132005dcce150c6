// Which cgroup version the agent uses, decided from the text of
// /proc/mounts and the cgroup2 root's `cgroup.controllers` (pure: the
// caller reads the files, so every host layout can be unit-tested):
//   - v1 when every needed subsystem is mounted as a v1 hierarchy (pure v1
//     hosts, and hybrid hosts whose controllers are on v1);
//   - else v2 when a cgroup2 mount's root lists every needed controller
//     (cpu for cgroups/cpu, memory, pids; cpuacct and freezer need none:
//     cpu.stat, cgroup.freeze and cgroup.kill are in every v2 cgroup);
//   - else an error naming the missing v1 subsystems and v2 controllers.
//
// Thread-safety: pure functions.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "mezzo/common/status.hpp"

namespace mezzo::agent {

// Subsystem name -> mount point, for every cgroup (v1) line of `procMounts`
// (the text of /proc/mounts). Named hierarchies (name=systemd) are skipped.
std::map<std::string, std::string> parseCgroupMounts(std::string_view procMounts);
// The mount point of the first cgroup2 line of `procMounts`.
std::optional<std::string> parseCgroup2Mount(std::string_view procMounts);
// The controllers of a `cgroup.controllers` or `cgroup.subtree_control`
// text ("cpuset cpu io memory pids\n").
std::set<std::string> parseControllerList(std::string_view text);
// The v2 controllers that provide the v1 `subsystems`.
std::set<std::string> cgroup2ControllersFor(const std::vector<std::string>& subsystems);

struct CgroupLayout {
  int version = 1;
  std::map<std::string, std::string> v1Mounts;  // v1: the needed subsystems' mount points
  std::string v2Mount;                          // v2: the cgroup2 mount point
  std::set<std::string> v2Controllers;          // v2: the controllers to enable
};

// `readControllers(mount)` returns the text of `<mount>/cgroup.controllers`
// (nullopt when unreadable). Fails (kNotFound) with what is missing.
Result<CgroupLayout> detectCgroupLayout(
    std::string_view procMounts, const std::vector<std::string>& needed,
    const std::function<std::optional<std::string>(const std::string&)>& readControllers);

}  // namespace mezzo::agent
