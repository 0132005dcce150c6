#include "agent/cgroup_detection.hpp"

#include <gtest/gtest.h>

namespace mezzo::agent {
namespace {

const std::vector<std::string> kAllIsolators = {"cpu", "cpuacct", "memory", "pids", "freezer"};

// This CI host: every controller on v1, cgroup2 (unified) without them.
constexpr const char* kHybridMounts =
    "tmpfs /sys/fs/cgroup tmpfs rw,relatime,mode=755 0 0\n"
    "cgroup /sys/fs/cgroup/cpu cgroup rw,relatime,cpu 0 0\n"
    "cgroup /sys/fs/cgroup/cpuacct cgroup rw,relatime,cpuacct 0 0\n"
    "cgroup /sys/fs/cgroup/memory cgroup rw,relatime,memory 0 0\n"
    "cgroup /sys/fs/cgroup/freezer cgroup rw,relatime,freezer 0 0\n"
    "cgroup /sys/fs/cgroup/pids cgroup rw,relatime,pids 0 0\n"
    "cgroup /sys/fs/cgroup/systemd cgroup rw,relatime,name=systemd 0 0\n"
    "cgroup2 /sys/fs/cgroup/unified cgroup2 rw,relatime 0 0\n";

// Modern Debian/Ubuntu/Fedora: only the unified hierarchy.
constexpr const char* kPureV2Mounts =
    "sysfs /sys sysfs rw,nosuid,nodev,noexec,relatime 0 0\n"
    "cgroup2 /sys/fs/cgroup cgroup2 rw,nosuid,nodev,noexec,relatime,nsdelegate 0 0\n";

// Older distributions: v1 only, cpu and cpuacct co-mounted.
constexpr const char* kPureV1Mounts =
    "cgroup /sys/fs/cgroup/cpu,cpuacct cgroup rw,nosuid,nodev,noexec,relatime,cpu,cpuacct 0 0\n"
    "cgroup /sys/fs/cgroup/memory cgroup rw,nosuid,nodev,noexec,relatime,memory 0 0\n"
    "cgroup /sys/fs/cgroup/pids cgroup rw,nosuid,nodev,noexec,relatime,pids 0 0\n"
    "cgroup /sys/fs/cgroup/freezer cgroup rw,nosuid,nodev,noexec,relatime,freezer 0 0\n";

// A readControllers that answers `text` for `mount` only.
auto controllersAt(std::string mount, std::optional<std::string> text) {
  return [mount = std::move(mount), text = std::move(text)](const std::string& asked) -> std::optional<std::string> {
    return asked == mount ? text : std::nullopt;
  };
}

TEST(CgroupMountsTest, SeparateAndCoMountedHierarchies) {
  auto separate = parseCgroupMounts(
      "tmpfs /sys/fs/cgroup tmpfs rw,relatime,mode=755 0 0\n"
      "cgroup /sys/fs/cgroup/cpu cgroup rw,relatime,cpu 0 0\n"
      "cgroup /sys/fs/cgroup/cpuacct cgroup rw,relatime,cpuacct 0 0\n"
      "cgroup /sys/fs/cgroup/systemd cgroup rw,relatime,name=systemd 0 0\n"
      "cgroup2 /sys/fs/cgroup/unified cgroup2 rw,relatime 0 0\n");
  EXPECT_EQ(separate.size(), 2u);
  EXPECT_EQ(separate["cpu"], "/sys/fs/cgroup/cpu");
  EXPECT_EQ(separate["cpuacct"], "/sys/fs/cgroup/cpuacct");
  auto together = parseCgroupMounts(kPureV1Mounts);
  EXPECT_EQ(together["cpu"], "/sys/fs/cgroup/cpu,cpuacct");
  EXPECT_EQ(together["cpuacct"], "/sys/fs/cgroup/cpu,cpuacct");
  EXPECT_EQ(together.size(), 5u);
}

TEST(CgroupMountsTest, FindsTheCgroup2Mount) {
  EXPECT_EQ(parseCgroup2Mount(kHybridMounts), "/sys/fs/cgroup/unified");
  EXPECT_EQ(parseCgroup2Mount(kPureV2Mounts), "/sys/fs/cgroup");
  EXPECT_EQ(parseCgroup2Mount(kPureV1Mounts), std::nullopt);
}

TEST(CgroupMountsTest, ControllerListsAndWhatV1SubsystemsNeedOnV2) {
  EXPECT_EQ(parseControllerList("cpuset cpu io memory hugetlb pids rdma misc\n"),
            (std::set<std::string>{"cpuset", "cpu", "io", "memory", "hugetlb", "pids", "rdma", "misc"}));
  EXPECT_TRUE(parseControllerList("\n").empty());
  EXPECT_EQ(cgroup2ControllersFor(kAllIsolators), (std::set<std::string>{"cpu", "memory", "pids"}));
  EXPECT_TRUE(cgroup2ControllersFor({"cpuacct", "freezer"}).empty());
}

TEST(CgroupDetectionTest, HybridHostWithControllersOnV1UsesV1) {
  auto layout = detectCgroupLayout(kHybridMounts, kAllIsolators, controllersAt("/sys/fs/cgroup/unified", "hugetlb\n"));
  ASSERT_TRUE(layout) << layout.error();
  EXPECT_EQ(layout->version, 1);
  EXPECT_EQ(layout->v1Mounts.size(), 5u);
  EXPECT_EQ(layout->v1Mounts.at("memory"), "/sys/fs/cgroup/memory");
  EXPECT_TRUE(layout->v2Mount.empty());
}

TEST(CgroupDetectionTest, V1KeepsOnlyTheNeededSubsystems) {
  auto layout = detectCgroupLayout(kPureV1Mounts, {"freezer"}, controllersAt("", std::nullopt));
  ASSERT_TRUE(layout) << layout.error();
  EXPECT_EQ(layout->version, 1);
  EXPECT_EQ(layout->v1Mounts, (std::map<std::string, std::string>{{"freezer", "/sys/fs/cgroup/freezer"}}));
}

TEST(CgroupDetectionTest, PureV2HostUsesV2WithTheNeededControllers) {
  auto layout = detectCgroupLayout(kPureV2Mounts, kAllIsolators,
                                   controllersAt("/sys/fs/cgroup", "cpuset cpu io memory hugetlb pids rdma misc\n"));
  ASSERT_TRUE(layout) << layout.error();
  EXPECT_EQ(layout->version, 2);
  EXPECT_EQ(layout->v2Mount, "/sys/fs/cgroup");
  EXPECT_EQ(layout->v2Controllers, (std::set<std::string>{"cpu", "memory", "pids"}));
  EXPECT_TRUE(layout->v1Mounts.empty());
}

TEST(CgroupDetectionTest, LinuxLauncherAloneNeedsNoV2Controller) {
  auto layout = detectCgroupLayout(kPureV2Mounts, {"freezer"}, controllersAt("/sys/fs/cgroup", "\n"));
  ASSERT_TRUE(layout) << layout.error();
  EXPECT_EQ(layout->version, 2);
  EXPECT_TRUE(layout->v2Controllers.empty());
}

TEST(CgroupDetectionTest, MissingControllersAreNamed) {
  // Memory is on neither version (this host's cgroup2 has only hugetlb).
  auto hybrid = detectCgroupLayout(
      "cgroup /sys/fs/cgroup/cpu cgroup rw,cpu 0 0\n"
      "cgroup2 /sys/fs/cgroup/unified cgroup2 rw,relatime 0 0\n",
      {"cpu", "memory"}, controllersAt("/sys/fs/cgroup/unified", "hugetlb\n"));
  ASSERT_FALSE(hybrid);
  EXPECT_EQ(hybrid.status().code(), StatusCode::kNotFound);
  EXPECT_NE(hybrid.error().find("subsystem(s) 'memory' not mounted"), std::string::npos) << hybrid.error();
  EXPECT_NE(hybrid.error().find("/sys/fs/cgroup/unified lacks controller(s) 'cpu', 'memory'"), std::string::npos)
      << hybrid.error();
  EXPECT_NE(hybrid.error().find("'hugetlb'"), std::string::npos) << hybrid.error();

  auto v2 = detectCgroupLayout(kPureV2Mounts, kAllIsolators, controllersAt("/sys/fs/cgroup", "cpu io memory\n"));
  ASSERT_FALSE(v2);
  EXPECT_NE(v2.error().find("lacks controller(s) 'pids'"), std::string::npos) << v2.error();

  auto none = detectCgroupLayout("proc /proc proc rw 0 0\n", {"cpu"}, controllersAt("", std::nullopt));
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().find("no cgroup2 (unified) hierarchy is mounted"), std::string::npos) << none.error();

  auto unreadable = detectCgroupLayout(kPureV2Mounts, {"cpu"}, controllersAt("", std::nullopt));
  ASSERT_FALSE(unreadable);
  EXPECT_NE(unreadable.error().find("/sys/fs/cgroup/cgroup.controllers cannot be read"), std::string::npos)
      << unreadable.error();
}

}  // namespace
}  // namespace mezzo::agent
