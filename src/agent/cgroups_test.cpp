#include "agent/cgroups.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "agent/process.hpp"

namespace mezzo::agent {
namespace {

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
  auto together = parseCgroupMounts("cgroup /sys/fs/cgroup/cpu,cpuacct cgroup rw,nosuid,nodev,noexec,cpu,cpuacct 0 0\n");
  EXPECT_EQ(together["cpu"], "/sys/fs/cgroup/cpu,cpuacct");
  EXPECT_EQ(together["cpuacct"], "/sys/fs/cgroup/cpu,cpuacct");
}

TEST(CgroupsTest, CreateLimitAssignAndDestroy) {
  const std::string root = "mezzo-test-" + std::to_string(getpid());
  auto cgroups = Cgroups::discover(root, {"cpu", "cpuacct", "memory", "pids", "freezer"});
  if (!cgroups) GTEST_SKIP() << "cgroups v1 not writable here: " << cgroups.error();
  ASSERT_TRUE(cgroups->create("c1"));
  ASSERT_TRUE(cgroups->applyLimits("c1", CgroupLimits{0.5, 64ull << 20, 10}));
  std::ifstream limit(cgroups->path("memory", "c1") + "/memory.limit_in_bytes");
  uint64_t bytes = 0;
  limit >> bytes;
  EXPECT_EQ(bytes, 64ull << 20);
  std::ifstream quota(cgroups->path("cpu", "c1") + "/cpu.cfs_quota_us");
  uint64_t micros = 0;
  quota >> micros;
  EXPECT_EQ(micros, 50000u);

  SpawnOptions spawn;
  spawn.path = "/bin/sleep";
  spawn.argv = {"sleep", "30"};
  auto pid = spawnProcess(spawn);
  ASSERT_TRUE(pid);
  ASSERT_TRUE(cgroups->assign("c1", *pid));
  EXPECT_EQ(cgroups->processes("c1"), std::vector<pid_t>{*pid});
  EXPECT_EQ(cgroups->oomKills("c1"), 0u);
  EXPECT_TRUE(cgroups->cpuUsageNanos("c1"));
  EXPECT_TRUE(cgroups->destroy("c1"));
  int status = 0;
  ASSERT_EQ(waitpid(*pid, &status, 0), *pid);
  EXPECT_TRUE(WIFSIGNALED(status));
  EXPECT_FALSE(std::filesystem::exists(cgroups->path("memory", "c1")));
  for (const char* subsystem : {"cpu", "cpuacct", "memory", "pids", "freezer"}) {
    std::filesystem::path dir = std::filesystem::path(cgroups->path(subsystem, "c1")).parent_path();
    ::rmdir(dir.c_str());
  }
}

}  // namespace
}  // namespace mezzo::agent
