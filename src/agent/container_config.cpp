#include "agent/container_config.hpp"

#include <cctype>
#include <filesystem>

namespace mezzo::agent {

namespace {

using RLimit = v1::RLimitInfo::RLimit;

// A relative path that stays below its base ("a/b", not "../a" or "/a").
bool staysBelow(const std::string& path) {
  if (path.empty() || path.front() == '/') return false;
  for (const auto& part : std::filesystem::path(path)) {
    if (part == "..") return false;
  }
  return true;
}

Result<std::string> volumeSource(const v1::Volume& volume, const ContainerSandboxes& sandboxes) {
  const std::string where = "volume '" + volume.container_path() + "'";
  if (!volume.has_source()) {
    if (!volume.has_host_path()) return Status::invalidArgument("The " + where + " has neither host_path nor source");
    return volume.host_path();
  }
  const v1::Volume::Source& source = volume.source();
  switch (source.type()) {
    case v1::Volume::Source::HOST_PATH:
      if (!source.has_host_path()) return Status::invalidArgument("The HOST_PATH " + where + " has no host_path");
      return source.host_path().path();
    case v1::Volume::Source::SANDBOX_PATH: {
      const auto& sandbox = source.sandbox_path();
      if (!staysBelow(sandbox.path())) {
        return Status::invalidArgument("The sandbox path '" + sandbox.path() + "' of the " + where +
                                       " must be relative and stay inside the sandbox");
      }
      if (sandbox.type() == v1::Volume::Source::SandboxPath::PARENT) {
        if (sandboxes.parent.empty()) {
          return Status::invalidArgument("The " + where + " names a PARENT sandbox path, but the container has no parent");
        }
        return sandboxes.parent + "/" + sandbox.path();
      }
      if (sandbox.type() != v1::Volume::Source::SandboxPath::SELF) {
        return Status::invalidArgument("The SANDBOX_PATH " + where + " needs type SELF or PARENT");
      }
      return sandboxes.self + "/" + sandbox.path();
    }
    default:
      return Status::invalidArgument("The " + where + " has source type " +
                                     v1::Volume::Source::Type_Name(source.type()) +
                                     ", which this agent cannot mount (HOST_PATH and SANDBOX_PATH only)");
  }
}

Result<launch::BindMount> bindMountOf(const v1::Volume& volume, const ContainerSandboxes& sandboxes) {
  auto source = volumeSource(volume, sandboxes);
  if (!source) return source.status();
  if (source->empty() || source->front() != '/') {
    return Status::invalidArgument("The host path '" + *source + "' of volume '" + volume.container_path() +
                                   "' must be absolute");
  }
  launch::BindMount mount{*source, volume.container_path(), volume.mode() == v1::Volume::RO};
  if (mount.target.empty() || mount.target.front() != '/') {
    if (!staysBelow(mount.target)) {
      return Status::invalidArgument("The container path '" + mount.target +
                                     "' must be absolute or relative inside the sandbox");
    }
    mount.target = sandboxes.self + "/" + mount.target;
  }
  return mount;
}

}  // namespace

Result<std::vector<launch::Rlimit>> rlimitsOf(const v1::RLimitInfo& info) {
  std::vector<launch::Rlimit> out;
  for (const RLimit& limit : info.rlimits()) {
    const std::string type = RLimit::Type_Name(limit.type());
    if (limit.type() == RLimit::UNKNOWN || !type.starts_with("RLMT_")) {
      return Status::invalidArgument("An rlimit has no known type");
    }
    launch::Rlimit rlimit;
    for (char c : type.substr(5)) rlimit.name.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    if (limit.has_soft() != limit.has_hard()) {
      return Status::invalidArgument("Rlimit " + type + " must set both 'soft' and 'hard' or neither (unlimited)");
    }
    if (limit.has_soft()) {
      if (limit.soft() > limit.hard()) {
        return Status::invalidArgument("Rlimit " + type + " has a soft limit above its hard limit");
      }
      rlimit.soft = static_cast<rlim_t>(limit.soft());
      rlimit.hard = static_cast<rlim_t>(limit.hard());
    }
    if (!launch::rlimitResource(rlimit.name)) return Status::invalidArgument("Rlimit " + type + " is not supported");
    out.push_back(std::move(rlimit));
  }
  return out;
}

Result<ContainerSettings> containerSettings(const v1::ContainerInfo& info, const ContainerSandboxes& sandboxes,
                                            bool mountNamespaces) {
  ContainerSettings settings;
  if (info.type() != v1::ContainerInfo::MESOS) {
    return Status::invalidArgument("Container type " + v1::ContainerInfo::Type_Name(info.type()) +
                                   " is not supported (MESOS only)");
  }
  auto rlimits = rlimitsOf(info.rlimit_info());
  if (!rlimits) return rlimits.status();
  settings.rlimits = std::move(*rlimits);
  if (info.volumes_size() > 0 && !mountNamespaces) {
    return Status::invalidArgument(
        "Volumes need the filesystem/linux isolator, which this agent does not run (--isolation)");
  }
  for (const v1::Volume& volume : info.volumes()) {
    auto mount = bindMountOf(volume, sandboxes);
    if (!mount) return mount.status();
    settings.mounts.push_back(std::move(*mount));
  }
  return settings;
}

}  // namespace mezzo::agent
