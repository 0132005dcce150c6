// AgentFlags: the agent's configuration (Mesos flag names), plus the pure
// helpers that turn flag text into what the agent advertises: resources
// (given, or detected from the host like Mesos does) and attributes.
//
// Resource detection (Mesos containerizer rules): cpus = hardware threads;
// mem = total RAM minus 1 GiB when there are at least 2 GiB, else half;
// disk = work_dir file system size minus 5 GiB when at least 10 GiB, else
// half; ports = [31000-32000]. Names missing from --resources are detected,
// names present are taken as given.
//
// Attributes: "rack:r1;zone:z1;level:3;ids:[1-10];tags:{a,b}" -> TEXT,
// SCALAR (numbers), RANGES and SET attributes.
//
// Thread-safety: values and stateless functions.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "mezzo/common/clock.hpp"
#include "mezzo/common/resources.hpp"
#include "mezzo/common/status.hpp"
#include "mezzo/v1/mesos.pb.h"

namespace mezzo::agent {

// What a restarted agent does with the executors its checkpoint names:
// re-attach to them, or kill them (and report their tasks lost).
enum class RecoverMode { kReconnect, kCleanup };

// Who runs a command task (a task without ExecutorInfo): the agent itself,
// through its task supervisor (`mezzo-launch --supervisor`; no executor
// process, no executor API round trips), or a mezzo-executor process as in
// Mesos. Tasks with a health check or a check always get the executor,
// which runs the checks.
enum class CommandTasks { kSupervised, kExecutor };

// Mesos's --reconfiguration_policy: which changes of the agent's resources
// and attributes a restart that recovers the checkpointed agent id allows.
// kEqual: none; kAdditive: adding resources (or growing them) and adding
// attributes; nothing removed or changed.
enum class ReconfigurationPolicy { kEqual, kAdditive };

struct AgentFlags {
  std::string master;  // host:port
  std::string ip = "127.0.0.1";
  uint16_t port = 5051;
  std::string hostname;  // defaults to ip
  std::string workDir = "/tmp/mezzo-agent";
  std::string resources;   // text or JSON; empty = detect everything
  std::string attributes;
  std::string executorPath;  // defaults to mezzo-executor beside the agent binary
  std::string defaultExecutorPath;  // task groups; defaults to mezzo-default-executor beside the agent
  Duration statusUpdateRetryInterval = std::chrono::seconds(10);
  Duration statusUpdateRetryMax = std::chrono::minutes(10);
  Duration executorRegistrationTimeout = std::chrono::minutes(1);
  Duration executorShutdownGracePeriod = std::chrono::seconds(5);
  Duration executorReregistrationTimeout = std::chrono::seconds(2);
  RecoverMode recover = RecoverMode::kReconnect;
  CommandTasks commandTasks = CommandTasks::kSupervised;
  ReconfigurationPolicy reconfigurationPolicy = ReconfigurationPolicy::kEqual;
  // Isolation (see isolation.hpp and docs/agent.md).
  std::string isolation = "posix/cpu,posix/mem";
  std::string launcher;  // linux | posix | empty = linux with cgroups isolators, else posix
  std::string cgroupsRoot = "mezzo";
  bool cgroupsEnableCfs = true;
  uint64_t cgroupsPidsMax = 4096;
  std::string launchHelperPath;  // defaults to mezzo-launch beside the agent binary
  // Run containers as their user (CommandInfo.user, else FrameworkInfo.user), as Mesos.
  bool switchUser = true;
  // Sandbox garbage collection (sandbox_gc.cpp, garbage_collector.hpp).
  Duration gcDelay = std::chrono::hours(24 * 7);
  double gcDiskHeadroom = 0.1;
  Duration diskWatchInterval = std::chrono::minutes(1);
  // Fetcher (fetcher.hpp): cache directory (empty: <work_dir>/fetch) and size, stall timeout.
  std::string fetcherCacheDir;
  uint64_t fetcherCacheSize = uint64_t{2} << 30;
  Duration fetcherStallTimeout = std::chrono::minutes(1);
  Duration registrationBackoffMin = std::chrono::seconds(1);
  Duration registrationBackoffMax = std::chrono::seconds(30);
  size_t maxConnections = 0;  // HTTP connections open at once; 0 = 3/4 of the open-file limit
  // Every flag as given, for /flags.
  std::map<std::string, std::string> rendered;
};

// What the host offers, as measured (or made up by a test).
struct HostCapacity {
  unsigned cpus = 1;
  uint64_t memoryBytes = 0;
  uint64_t diskBytes = 0;
};

// Measures this machine: hardware threads, /proc/meminfo MemTotal (or
// sysconf), statvfs of `workDir` (or of its nearest existing parent).
HostCapacity detectHostCapacity(const std::string& workDir);

// The resources advertised for `flagText` (may be empty) on `host`.
Result<Resources> agentResources(const std::string& flagText, const HostCapacity& host);

Result<std::vector<v1::Attribute>> parseAttributes(const std::string& text);

// OK when `policy` allows an agent checkpointed as `previous` to come back
// with the resources and attributes of `current`; else the refusal names
// what changed (Mesos: "Incompatible agent info").
Status checkReconfiguration(ReconfigurationPolicy policy, const v1::AgentInfo& previous,
                            const v1::AgentInfo& current);

// Directory of the running binary (from /proc/self/exe), without the
// trailing slash; empty if unknown.
std::string selfExecutableDir();

}  // namespace mezzo::agent
