#include "agent/containerizer.hpp"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <sstream>

#include "agent/launch_helper.hpp"
#include "mezzo/common/clock.hpp"

namespace mezzo::agent {

namespace {

// The subsystems (v1 names) the isolators and the linux launcher need.
std::vector<std::string> neededSubsystems(const IsolationOptions& options) {
  std::vector<std::string> needed;
  if (options.has(Isolator::kCgroupsCpu)) needed.push_back("cpu");
  if (options.usesCgroups()) needed.push_back("cpuacct");  // usage statistics
  if (options.has(Isolator::kCgroupsMem)) needed.push_back("memory");
  if (options.has(Isolator::kCgroupsPids)) needed.push_back("pids");
  if (options.launcher == LauncherKind::kLinux) needed.push_back("freezer");
  return needed;
}

CgroupLimits cgroupLimits(const IsolationOptions& options, const ContainerLimits& limits) {
  CgroupLimits out;
  if (options.has(Isolator::kCgroupsCpu)) out.cpus = limits.cpus;
  // A cpu limit (TaskInfo.limits) is a quota whatever --cgroups_enable_cfs says.
  out.cfsQuota = options.enableCfs || limits.cpuQuota > 0;
  out.quotaCpus = limits.cpuQuota;
  if (options.has(Isolator::kCgroupsMem)) out.memoryBytes = limits.memoryBytes;
  if (options.has(Isolator::kCgroupsPids)) out.maxProcesses = options.pidsMax;
  return out;
}

}  // namespace

Result<Containerizer> Containerizer::create(IsolationOptions options) {
  Containerizer containerizer(std::move(options));
  const IsolationOptions& opts = containerizer.options_;
  if (opts.launcher == LauncherKind::kLinux || opts.usesCgroups()) {
    auto cgroups = discoverCgroups(opts.cgroupsRoot, neededSubsystems(opts));
    if (!cgroups) return Status(cgroups.status().code(), "cgroups unavailable: " + cgroups.error());
    containerizer.cgroups_ = std::move(*cgroups);
  }
  // The helper is also the task supervisor of command tasks run by the agent itself.
  if (access(opts.launchHelperPath.c_str(), X_OK) != 0) {
    return Status::notFound("The launch helper " + opts.launchHelperPath + " is not executable");
  }
  return containerizer;
}

std::string Containerizer::describe() const {
  std::ostringstream out;
  out << "isolation ";
  const char* separator = "";
  for (Isolator isolator : options_.isolators) {
    out << separator << isolatorName(isolator);
    separator = ",";
  }
  if (options_.isolators.empty()) out << "(none)";
  out << ", launcher " << (options_.launcher == LauncherKind::kLinux ? "linux" : "posix");
  if (cgroups_) out << ", " << cgroups_->describe();
  return out.str();
}

Result<launch::Request> Containerizer::prepare(const std::string& container, const ContainerLimits& limits,
                                               launch::Request settings) {
  launch::Request request = std::move(settings);
  if (cgroups_) {
    Status status = cgroups_->create(container);
    if (status) status = cgroups_->applyLimits(container, cgroupLimits(options_, limits));
    if (!status) {
      (void)cgroups_->destroy(container);
      return status;
    }
    request.cgroupProcsFiles = cgroups_->procsFiles(container);
  }
  if (options_.has(Isolator::kPosixRlimits) && limits.memoryBytes > 0) {
    const bool asked = std::any_of(request.rlimits.begin(), request.rlimits.end(),
                                   [](const launch::Rlimit& limit) { return limit.name == "data"; });
    if (!asked) request.rlimits.push_back({"data", limits.memoryBytes, limits.memoryBytes});
  }
  request.pidNamespace = options_.has(Isolator::kNamespacesPid);
  request.mountNamespace = request.pidNamespace || options_.has(Isolator::kFilesystemLinux) || !request.mounts.empty();
  return request;
}

Result<pid_t> Containerizer::launch(const std::string& container, const ContainerLimits& limits, SpawnOptions spawn,
                                    launch::Request settings) {
  auto request = prepare(container, limits, std::move(settings));
  if (!request) return request.status();
  if (!request->cgroupProcsFiles.empty() || !request->rlimits.empty() || request->mountNamespace || request->user) {
    request->executable = std::move(spawn.path);
    request->argv = std::move(spawn.argv);
    spawn.path = options_.launchHelperPath;
    spawn.argv = launch::toArguments(*request);
    spawn.argv.insert(spawn.argv.begin(), "mezzo-launch");
  }
  auto pid = spawnProcess(spawn);
  if (!pid && cgroups_) (void)cgroups_->destroy(container);
  return pid;
}

Status Containerizer::update(const std::string& container, const ContainerLimits& limits) {
  if (!cgroups_) return Status::ok();  // rlimits cannot be changed from outside
  return cgroups_->applyLimits(container, cgroupLimits(options_, limits));
}

bool Containerizer::memoryLimitReached(const std::string& container) const {
  return cgroups_ && cgroups_->has("memory") && cgroups_->oomKills(container) > 0;
}

Result<int> Containerizer::oomEventFd(const std::string& container) const {
  if (!cgroups_ || !cgroups_->has("memory")) return Status::notFound("No memory cgroup");
  return cgroups_->oomEventFd(container);
}

ResourceStatistics Containerizer::usage(const std::string& container, pid_t sessionLeader,
                                        const ContainerLimits& limits) const {
  ResourceStatistics stats =
      cgroups_ ? cgroups_->statistics(container) : sampleProcesses(sessionProcesses(sessionLeader));
  stats.timestamp = toEpochSeconds(SystemClock().now());
  if (limits.cpus > 0) stats.cpusLimit = limits.cpus;
  if (!stats.memLimitBytes && limits.memoryBytes > 0) stats.memLimitBytes = limits.memoryBytes;
  return stats;
}

Status Containerizer::destroy(const std::string& container, pid_t sessionLeader) {
  // The linux launcher finds every process in the freezer cgroup (even those
  // that left the session); the posix launcher scans /proc for the session.
  const bool byCgroup = cgroups_ && cgroups_->has("freezer") && !container.empty() && cgroups_->exists(container);
  if (!byCgroup && sessionLeader > 1) signalSession(sessionLeader, SIGKILL);
  if (!cgroups_ || container.empty()) return Status::ok();
  return cgroups_->destroy(container);
}

bool Containerizer::killSessions(const std::set<pid_t>& sessionLeaders) {
  if (cgroups_ && cgroups_->has("freezer")) return false;
  signalSessions(sessionLeaders, SIGKILL);
  return true;
}

size_t Containerizer::cleanupOrphans(const std::set<std::string>& live) {
  if (!cgroups_) return 0;
  size_t destroyed = 0;
  for (const std::string& container : cgroups_->containers()) {
    if (live.contains(container)) continue;
    (void)cgroups_->destroy(container);
    ++destroyed;
  }
  return destroyed;
}

bool Containerizer::hasContainer(const std::string& container) const { return cgroups_ && cgroups_->exists(container); }

}  // namespace mezzo::agent
