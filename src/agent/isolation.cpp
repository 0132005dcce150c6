#include "agent/isolation.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "mezzo/common/strings.hpp"

namespace mezzo::agent {

namespace {

constexpr std::pair<std::string_view, Isolator> kIsolatorNames[] = {
    {"cgroups/cpu", Isolator::kCgroupsCpu},       {"cgroups/mem", Isolator::kCgroupsMem},
    {"cgroups/pids", Isolator::kCgroupsPids},     {"posix/rlimits", Isolator::kPosixRlimits},
    {"posix/cpu", Isolator::kPosixCpu},           {"posix/mem", Isolator::kPosixMem},
    {"namespaces/pid", Isolator::kNamespacesPid}, {"filesystem/linux", Isolator::kFilesystemLinux},
};

}  // namespace

Result<std::set<Isolator>> parseIsolation(std::string_view text) {
  std::set<Isolator> isolators;
  std::istringstream parts{std::string(text)};
  std::string part;
  while (std::getline(parts, part, ',')) {
    std::string_view name = trim(part);
    if (name.empty()) continue;
    if (name == "cgroups/all") {
      isolators.insert({Isolator::kCgroupsCpu, Isolator::kCgroupsMem, Isolator::kCgroupsPids});
      continue;
    }
    bool known = false;
    for (auto [candidate, isolator] : kIsolatorNames) {
      if (candidate == name) {
        isolators.insert(isolator);
        known = true;
      }
    }
    if (!known) {
      return Status::invalidArgument("Unknown isolator '" + std::string(name) +
                                     "' (known: cgroups/cpu, cgroups/mem, cgroups/pids, cgroups/all, "
                                     "posix/rlimits, posix/cpu, posix/mem, namespaces/pid, filesystem/linux)");
    }
  }
  return isolators;
}

Result<LauncherKind> parseLauncher(std::string_view text, const std::set<Isolator>& isolators) {
  IsolationOptions probe;
  probe.isolators = isolators;
  if (text.empty()) return probe.needsLinuxLauncher() ? LauncherKind::kLinux : LauncherKind::kPosix;
  if (text == "linux") return LauncherKind::kLinux;
  if (text == "posix") {
    if (probe.usesCgroups()) return Status::invalidArgument("cgroups isolators need --launcher=linux");
    if (probe.usesNamespaces()) {
      return Status::invalidArgument("namespaces/pid and filesystem/linux need --launcher=linux");
    }
    return LauncherKind::kPosix;
  }
  return Status::invalidArgument("Unknown launcher '" + std::string(text) + "' (linux or posix)");
}

std::string isolatorName(Isolator isolator) {
  for (auto [name, candidate] : kIsolatorNames) {
    if (candidate == isolator) return std::string(name);
  }
  return "unknown";
}

ContainerLimits containerLimits(const Resources& resources, bool commandExecutor, const BurstLimits& burst) {
  ContainerLimits limits;
  limits.cpus = resources.cpus();
  if (burst.cpus && *burst.cpus > limits.cpus) limits.cpuQuota = *burst.cpus;
  const double mebibytes = burst.mem ? std::max(*burst.mem, resources.mem()) : resources.mem();
  if (std::isinf(mebibytes)) return limits;
  if (mebibytes > 0) {
    limits.memoryBytes = static_cast<uint64_t>(std::llround(mebibytes * 1024 * 1024));
    if (commandExecutor) limits.memoryBytes += kCommandExecutorMemoryBytes;
  }
  return limits;
}

}  // namespace mezzo::agent
