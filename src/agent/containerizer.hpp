// Containerizer: runs executors in isolated containers, as configured by
// IsolationOptions (isolation.hpp). A container is named by its container
// id and is, depending on the isolators:
//   - cgroups `<hierarchy>/<cgroups_root>/<container id>` (v1: cpu,
//     cpuacct, memory, pids, freezer; v2: one cgroup in the unified
//     hierarchy) with the container's limits (container_cgroups.hpp);
//   - rlimits set on the executor (and inherited by its tasks);
//   - a mount namespace (filesystem/linux) and a pid namespace with its
//     own /proc (namespaces/pid), entered by `mezzo-launch`;
//   - always the executor's session.
// launch() creates and limits the cgroups, then spawns the executor through
// `mezzo-launch`, which joins them before exec (race-free placement).
// destroy() kills everything in the container (its cgroup with the linux
// launcher, the session otherwise) and removes its cgroups.
//
// Errors: launch() fails with the reason the container could not be made;
// create() fails when a requested isolator is unavailable (for example
// neither cgroups v1 nor v2 offers what the isolators need, or our root is
// not writable).
//
// Thread-safety: none; owned by the agent's event loop. Methods touch the
// file system only (destroy() may wait a few tens of milliseconds).
#pragma once

#include <sys/types.h>

#include <memory>
#include <set>
#include <string>

#include "agent/container_cgroups.hpp"
#include "agent/isolation.hpp"
#include "agent/launch_helper.hpp"
#include "agent/process.hpp"
#include "agent/resource_statistics.hpp"

namespace mezzo::agent {

class Containerizer {
 public:
  static Result<Containerizer> create(IsolationOptions options);

  const IsolationOptions& options() const { return options_; }
  bool usesCgroups() const { return cgroups_ != nullptr; }
  // Human-readable summary for the start-up log.
  std::string describe() const;

  // Creates and limits the container's cgroups and returns what
  // mezzo-launch must do to put a program inside it (no program yet):
  // `settings` (the container's own rlimits, volumes and user) plus the
  // isolators' cgroups, rlimits and namespaces. The agent's task supervisor
  // launches command tasks with it.
  Result<launch::Request> prepare(const std::string& container, const ContainerLimits& limits,
                                  launch::Request settings);
  Result<pid_t> launch(const std::string& container, const ContainerLimits& limits, SpawnOptions spawn,
                       launch::Request settings);
  // New limits for a running container (a task was added to its executor).
  Status update(const std::string& container, const ContainerLimits& limits);

  // True once the kernel has OOM-killed a process of the container.
  bool memoryLimitReached(const std::string& container) const;
  // A descriptor readable on the container's memory events; drain it, then
  // ask memoryLimitReached() (see ContainerCgroups::oomEventFd).
  Result<int> oomEventFd(const std::string& container) const;

  ResourceStatistics usage(const std::string& container, pid_t sessionLeader, const ContainerLimits& limits) const;

  // Kills every process of the container and removes its cgroups.
  // `sessionLeader` <= 0: the session needs no signalling.
  Status destroy(const std::string& container, pid_t sessionLeader);
  // The posix launcher's part of destroy() for several ended executors at
  // once (one pass over /proc); false (nothing done) with the linux launcher.
  bool killSessions(const std::set<pid_t>& sessionLeaders);

  // After an agent restart: destroys the cgroups under our root that are
  // not in `live` (orphans). Returns how many were destroyed.
  size_t cleanupOrphans(const std::set<std::string>& live);
  bool hasContainer(const std::string& container) const;

 private:
  explicit Containerizer(IsolationOptions options) : options_(std::move(options)) {}

  IsolationOptions options_;
  std::unique_ptr<ContainerCgroups> cgroups_;  // null without cgroups
};

}  // namespace mezzo::agent
