// What a task's or executor's ContainerInfo asks of its container, checked
// and turned into mezzo-launch settings (launch_helper.hpp). The agent
// honours a MESOS container without an image:
//   - rlimit_info: each RLimit becomes the POSIX limit of the same name
//     (RLMT_NOFILE -> RLIMIT_NOFILE); `soft` and `hard` are both set or
//     both unset (unset = unlimited), soft <= hard, as in Mesos;
//   - volumes: a host path (`host_path`, or source HOST_PATH) or a sandbox
//     path (source SANDBOX_PATH, SELF = this container's sandbox, PARENT =
//     the executor's sandbox for a task of a group) bind-mounted on
//     `container_path` (absolute, or relative to the sandbox), read-only for
//     mode RO. Volumes need the filesystem/linux isolator (a mount
//     namespace); without it the launch fails rather than run without them.
// Whatever else is asked for (DOCKER, other volume sources) is refused
// with a message naming it; the master refuses most of it earlier.
//
// Thread-safety: stateless functions, no I/O.
#pragma once

#include <string>
#include <vector>

#include "agent/launch_helper.hpp"
#include "mezzo/common/status.hpp"
#include "mezzo/v1/mesos.pb.h"

namespace mezzo::agent {

struct ContainerSandboxes {
  std::string self;    // the container's sandbox (absolute)
  std::string parent;  // the executor's sandbox for a task of a group; empty otherwise
};

struct ContainerSettings {
  std::vector<launch::Rlimit> rlimits;
  std::vector<launch::BindMount> mounts;
};

Result<std::vector<launch::Rlimit>> rlimitsOf(const v1::RLimitInfo& info);

// `mountNamespaces`: whether the agent gives containers a mount namespace
// (filesystem/linux); volumes are refused without one.
Result<ContainerSettings> containerSettings(const v1::ContainerInfo& info, const ContainerSandboxes& sandboxes,
                                            bool mountNamespaces);

}  // namespace mezzo::agent
