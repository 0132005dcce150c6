#include "agent/container_cgroups.hpp"

#include "agent/cgroup_detection.hpp"
#include "agent/cgroup_files.hpp"
#include "agent/cgroups.hpp"
#include "agent/cgroups2.hpp"

namespace mezzo::agent {

Result<std::unique_ptr<ContainerCgroups>> discoverCgroups(const std::string& root,
                                                          const std::vector<std::string>& needed) {
  auto mounts = readControl("/proc/mounts");
  if (!mounts) return Status::ioError("Cannot read /proc/mounts");
  auto layout = detectCgroupLayout(*mounts, needed,
                                   [](const std::string& mount) { return readControl(mount + "/cgroup.controllers"); });
  if (!layout) return layout.status();
  if (layout->version == 1) {
    auto v1 = Cgroups::open(std::move(layout->v1Mounts), root);
    if (!v1) return v1.status();
    return std::unique_ptr<ContainerCgroups>(std::make_unique<Cgroups>(std::move(*v1)));
  }
  auto v2 = Cgroups2::open(std::move(layout->v2Mount), root, std::move(layout->v2Controllers));
  if (!v2) return v2.status();
  return std::unique_ptr<ContainerCgroups>(std::make_unique<Cgroups2>(std::move(*v2)));
}

}  // namespace mezzo::agent
