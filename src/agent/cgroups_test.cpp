#include "agent/cgroups.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "agent/cgroup_detection.hpp"
#include "agent/cgroup_files.hpp"
#include "agent/process.hpp"

namespace mezzo::agent {
namespace {

TEST(CgroupsTest, CreateLimitAssignAndDestroy) {
  const std::string root = "mezzo-test-" + std::to_string(getpid());
  const std::vector<std::string> subsystems = {"cpu", "cpuacct", "memory", "pids", "freezer"};
  auto layout = detectCgroupLayout(readControl("/proc/mounts").value_or(""), subsystems,
                                   [](const std::string& mount) { return readControl(mount + "/cgroup.controllers"); });
  if (!layout || layout->version != 1) GTEST_SKIP() << "cgroups v1 not mounted here";
  auto cgroups = Cgroups::open(layout->v1Mounts, root);
  if (!cgroups) GTEST_SKIP() << "cgroups v1 not writable here: " << cgroups.error();
  ASSERT_TRUE(cgroups->create("c1"));
  ASSERT_TRUE(cgroups->applyLimits("c1", CgroupLimits{0.5, 64ull << 20, 10}));
  EXPECT_EQ(readNumber(cgroups->path("memory", "c1") + "/memory.limit_in_bytes"), 64ull << 20);
  EXPECT_EQ(readNumber(cgroups->path("cpu", "c1") + "/cpu.cfs_quota_us"), 50000u);
  EXPECT_EQ(readNumber(cgroups->path("cpu", "c1") + "/cpu.shares"), 512u);

  SpawnOptions spawn;
  spawn.path = "/bin/sleep";
  spawn.argv = {"sleep", "30"};
  auto pid = spawnProcess(spawn);
  ASSERT_TRUE(pid);
  ASSERT_TRUE(cgroups->assign("c1", *pid));
  EXPECT_EQ(cgroups->processes("c1"), std::vector<pid_t>{*pid});
  EXPECT_EQ(cgroups->containers(), std::vector<std::string>{"c1"});
  EXPECT_EQ(cgroups->oomKills("c1"), 0u);
  EXPECT_TRUE(cgroups->cpuUsageNanos("c1"));
  EXPECT_EQ(cgroups->describe(), "cgroups v1 under '" + root + "'");
  EXPECT_TRUE(cgroups->destroy("c1"));
  int status = 0;
  ASSERT_EQ(waitpid(*pid, &status, 0), *pid);
  EXPECT_TRUE(WIFSIGNALED(status));
  EXPECT_FALSE(std::filesystem::exists(cgroups->path("memory", "c1")));
  EXPECT_TRUE(cgroups->removeRoot());
  EXPECT_FALSE(std::filesystem::exists(std::filesystem::path(cgroups->path("memory", "c1")).parent_path()));
}

}  // namespace
}  // namespace mezzo::agent
