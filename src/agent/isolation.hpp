// Isolation settings of the agent (--isolation, --launcher) and the pure
// rules that turn an executor's resources into container limits.
//
// Isolators (comma list, Mesos names):
//   cgroups/cpu    cpu.shares = 1024 x cpus; CFS quota = cpus x period
//                  (unless --cgroups_enable_cfs=false); cpuacct for usage
//                  (v2: cpu.weight from the shares, cpu.max)
//   cgroups/mem    memory.limit_in_bytes (and memsw where swap is
//                  accounted; v2: memory.max, memory.swap.max = 0); an OOM
//                  kill is reported as REASON_CONTAINER_LIMITATION_MEMORY
//   cgroups/pids   pids.max = --cgroups_pids_max
//   posix/rlimits  RLIMIT_DATA = the memory limit, per process (the fallback
//                  where cgroups are missing; see docs/agent.md)
//   posix/cpu, posix/mem   no enforcement; usage sampled from /proc (default)
//   cgroups/all    cgroups/cpu,cgroups/mem,cgroups/pids
//   namespaces/pid the executor is pid 1 of its own pid namespace, with a
//                  /proc of its own (implies a mount namespace); it and
//                  every task see only the container's processes
//   filesystem/linux  the container has its own mount namespace (slave
//                  propagation: host mounts reach it, its mounts stay in);
//                  ContainerInfo volumes are bind-mounted in it
//
// Launchers: `linux` tracks and destroys a container through its cgroup
// (v1 freezer; v2 cgroup.kill/cgroup.freeze; nothing escapes by calling
// setsid); `posix` through the
// executor's session. Both start the executor through the small
// `mezzo-launch` helper when there is anything to set up (join cgroups,
// set rlimits) so that the setup is done before exec.
//
// Thread-safety: values and stateless functions.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "mezzo/common/resources.hpp"
#include "mezzo/common/status.hpp"

namespace mezzo::agent {

enum class Isolator {
  kCgroupsCpu,
  kCgroupsMem,
  kCgroupsPids,
  kPosixRlimits,
  kPosixCpu,
  kPosixMem,
  kNamespacesPid,
  kFilesystemLinux
};
enum class LauncherKind { kLinux, kPosix };

struct IsolationOptions {
  std::set<Isolator> isolators;
  LauncherKind launcher = LauncherKind::kPosix;
  std::string cgroupsRoot = "mezzo";
  bool enableCfs = true;
  uint64_t pidsMax = 0;          // 0 = no limit
  std::string launchHelperPath;  // mezzo-launch

  bool has(Isolator isolator) const { return isolators.contains(isolator); }
  bool usesCgroups() const {
    return has(Isolator::kCgroupsCpu) || has(Isolator::kCgroupsMem) || has(Isolator::kCgroupsPids);
  }
  bool usesNamespaces() const { return has(Isolator::kNamespacesPid) || has(Isolator::kFilesystemLinux); }
  bool needsLinuxLauncher() const { return usesCgroups() || usesNamespaces(); }
};

// "cgroups/cpu,cgroups/mem" -> isolators; unknown names are an error.
Result<std::set<Isolator>> parseIsolation(std::string_view text);
// "linux" | "posix" | "" (= linux when cgroups isolators are on, else posix).
Result<LauncherKind> parseLauncher(std::string_view text, const std::set<Isolator>& isolators);
std::string isolatorName(Isolator isolator);

// What a container may use.
struct ContainerLimits {
  double cpus = 0;           // 0 = no cpu limit; the cpu weight (shares)
  uint64_t memoryBytes = 0;  // 0 = no memory limit
  double cpuQuota = 0;       // CFS quota in cpus: 0 = `cpus`, infinity = none (TaskInfo.limits)
  bool operator==(const ContainerLimits&) const = default;
};

// TaskInfo.limits summed over a container: the cpus and mem (MB) it may
// burst to; a task without a limit counts with its request; infinity =
// unlimited. Unset: no task of the container has such a limit.
struct BurstLimits {
  std::optional<double> cpus;
  std::optional<double> mem;
};

// The memory the built-in command executor itself needs, added to its
// task's memory (as Mesos does); no cpu is added: the executor is idle
// while its task runs.
inline constexpr uint64_t kCommandExecutorMemoryBytes = 32ull << 20;

// Limits for an executor with `resources` (its own plus its tasks'): the
// memory limit is the burst mem limit when there is one (plus the command
// executor's own memory), none when it is infinite; the CFS quota is the
// burst cpus limit when there is one (as Mesos 1.11).
ContainerLimits containerLimits(const Resources& resources, bool commandExecutor, const BurstLimits& burst = {});

}  // namespace mezzo::agent
