#include "agent/cgroup_detection.hpp"

#include <algorithm>
#include <sstream>

#include "mezzo/common/strings.hpp"

namespace mezzo::agent {

namespace {

// Mount options of a v1 cgroup line that are not subsystem names.
bool isMountOption(const std::string& option) {
  static const std::set<std::string> kOptions = {"rw",    "ro",     "relatime",       "noatime", "nosuid",
                                                 "nodev", "noexec", "clone_children", "xattr"};
  return kOptions.contains(option) || option.find('=') != std::string::npos;
}

// Calls `visit(mountPoint, type, options)` for each line of /proc/mounts.
template <typename Visit>
void forEachMount(std::string_view procMounts, Visit visit) {
  std::istringstream lines{std::string(procMounts)};
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    std::string device, mountPoint, type, options;
    if (fields >> device >> mountPoint >> type >> options) visit(mountPoint, type, options);
  }
}

std::string quotedList(const std::vector<std::string>& names) {
  std::string text;
  for (const std::string& name : names) text += (text.empty() ? "'" : ", '") + name + "'";
  return text;
}

}  // namespace

std::map<std::string, std::string> parseCgroupMounts(std::string_view procMounts) {
  std::map<std::string, std::string> mounts;
  forEachMount(procMounts, [&](const std::string& mountPoint, const std::string& type, const std::string& options) {
    if (type != "cgroup") return;
    for (std::string_view option : split(options, ',')) {
      if (!isMountOption(std::string(option))) mounts.emplace(option, mountPoint);
    }
  });
  return mounts;
}

std::optional<std::string> parseCgroup2Mount(std::string_view procMounts) {
  std::optional<std::string> mount;
  forEachMount(procMounts, [&](const std::string& mountPoint, const std::string& type, const std::string&) {
    if (type == "cgroup2" && !mount) mount = mountPoint;
  });
  return mount;
}

std::set<std::string> parseControllerList(std::string_view text) {
  std::set<std::string> controllers;
  std::istringstream words{std::string(text)};
  std::string word;
  while (words >> word) controllers.insert(word);
  return controllers;
}

std::set<std::string> cgroup2ControllersFor(const std::vector<std::string>& subsystems) {
  std::set<std::string> controllers;
  for (const std::string& subsystem : subsystems) {
    if (subsystem == "cpuacct" || subsystem == "freezer") continue;  // built into every v2 cgroup
    controllers.insert(subsystem);
  }
  return controllers;
}

Result<CgroupLayout> detectCgroupLayout(
    std::string_view procMounts, const std::vector<std::string>& needed,
    const std::function<std::optional<std::string>(const std::string&)>& readControllers) {
  CgroupLayout layout;
  std::map<std::string, std::string> v1 = parseCgroupMounts(procMounts);
  std::vector<std::string> missingV1;
  for (const std::string& subsystem : needed) {
    if (auto it = v1.find(subsystem); it != v1.end()) {
      layout.v1Mounts.insert(*it);
    } else {
      missingV1.push_back(subsystem);
    }
  }
  if (missingV1.empty()) return layout;

  std::string message = "cgroup v1 subsystem(s) " + quotedList(missingV1) + " not mounted";
  auto unified = parseCgroup2Mount(procMounts);
  if (!unified) return Status::notFound(message + ", and no cgroup2 (unified) hierarchy is mounted");
  const std::set<std::string> wanted = cgroup2ControllersFor(needed);
  auto text = readControllers(*unified);
  if (!text) return Status::notFound(message + ", and " + *unified + "/cgroup.controllers cannot be read");
  const std::set<std::string> available = parseControllerList(*text);
  std::vector<std::string> missingV2;
  std::ranges::set_difference(wanted, available, std::back_inserter(missingV2));
  if (!missingV2.empty()) {
    return Status::notFound(message + ", and the cgroup2 hierarchy at " + *unified + " lacks controller(s) " +
                            quotedList(missingV2) + " (its cgroup.controllers: '" + std::string(trim(*text)) + "')");
  }
  layout.version = 2;
  layout.v1Mounts.clear();
  layout.v2Mount = *unified;
  layout.v2Controllers = wanted;
  return layout;
}

}  // namespace mezzo::agent
