// cgroups v2: the pure helpers (file parsers, cpu.weight and cpu.max), then
// the Cgroups2 class on the host's real cgroup2 mount under a test root of
// our own (`mezzo-test-<pid>-<n>`, removed on every exit path):
//   - without controllers (placement, listing, freeze/thaw, cgroup.kill and
//     the freeze+SIGKILL fallback, nested cgroups, orphans, the inotify
//     watch): runs wherever a cgroup2 mount is writable, including hybrid
//     hosts whose controllers are all on v1 (/sys/fs/cgroup/unified);
//   - with the cpu, memory and pids controllers (limits, OOM kill, CFS
//     throttling, pids.max): skipped, with the reason, where the cgroup2 root
//     does not offer and delegate them.
#include "agent/cgroups2.hpp"

#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "agent/cgroup_detection.hpp"
#include "agent/cgroup_files.hpp"
#include "agent/process.hpp"
#include "mezzo/common/strings.hpp"

namespace mezzo::agent {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// --- pure helpers ---------------------------------------------------------

TEST(Cgroup2ValuesTest, CpuWeightFollowsTheKernelsSharesMapping) {
  EXPECT_EQ(cpuWeightFromShares(2), 1u);
  EXPECT_EQ(cpuWeightFromShares(0), 1u);  // below the v1 minimum: clamped
  EXPECT_EQ(cpuWeightFromShares(512), 20u);
  EXPECT_EQ(cpuWeightFromShares(1024), 39u);
  EXPECT_EQ(cpuWeightFromShares(262144), 10000u);
  EXPECT_EQ(cpuWeightFromShares(1u << 30), 10000u);  // above the v1 maximum: clamped
  EXPECT_EQ(cpuWeightFromShares(cpuShares(0.5)), 20u);
  EXPECT_EQ(cpuWeightFromShares(cpuShares(4)), 1 + (4094u * 9999u) / 262142u);
  // Monotonic: more cpus never give less weight.
  for (uint64_t shares = 2; shares < 262144; shares += 997) {
    EXPECT_LE(cpuWeightFromShares(shares), cpuWeightFromShares(shares + 997));
  }
}

TEST(Cgroup2ValuesTest, CpuMaxIsQuotaOverTheHundredMillisecondPeriod) {
  EXPECT_EQ(cpuMaxValue(0.5), "50000 100000");
  EXPECT_EQ(cpuMaxValue(2), "200000 100000");
  EXPECT_EQ(cpuMaxValue(0.001), "1000 100000");  // at least 1 ms
}

TEST(Cgroup2ValuesTest, FlatKeyedFilesAndPidLists) {
  auto cpu = parseFlatKeyed(
      "usage_usec 2071950\nuser_usec 1410203\nsystem_usec 661747\nnr_periods 31\nnr_throttled 12\n"
      "throttled_usec 702345\nnr_bursts 0\nburst_usec 0\n");
  EXPECT_EQ(cpu.size(), 8u);
  EXPECT_EQ(cpu["usage_usec"], 2071950u);
  EXPECT_EQ(cpu["throttled_usec"], 702345u);
  auto events = parseFlatKeyed("low 0\nhigh 0\nmax 17\noom 1\noom_kill 1\noom_group_kill 0\n");
  EXPECT_EQ(lookup(events, "oom_kill"), 1u);
  EXPECT_EQ(lookup(events, "absent"), std::nullopt);
  auto odd = parseFlatKeyed("good 1\nnovalue\nbad x\n\n  spaced 7  \n");
  EXPECT_EQ(odd, (std::map<std::string, uint64_t>{{"good", 1}, {"spaced", 7}}));
  EXPECT_EQ(parsePids("12\n345\n\n"), (std::vector<pid_t>{12, 345}));
  EXPECT_TRUE(parsePids("").empty());
}

TEST(Cgroup2ValuesTest, ReadNumberTreatsMaxAsNoValue) {
  fs::path dir = fs::temp_directory_path() / ("mezzo-cg2-values-" + std::to_string(getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "limited") << "67108864\n";
  std::ofstream(dir / "unlimited") << "max\n";
  EXPECT_EQ(readNumber((dir / "limited").string()), 67108864u);
  EXPECT_EQ(readNumber((dir / "unlimited").string()), std::nullopt);
  EXPECT_EQ(readNumber((dir / "absent").string()), std::nullopt);
  fs::remove_all(dir);
}

TEST(Cgroup2ValuesTest, StatisticsFromTheV2Files) {
  Cgroup2Readings readings;
  readings.cpuStat = parseFlatKeyed(
      "usage_usec 3500000\nuser_usec 2500000\nsystem_usec 1000000\nnr_periods 40\n"
      "nr_throttled 10\nthrottled_usec 1500000\n");
  readings.memoryStat = parseFlatKeyed("anon 8388608\nfile 4194304\nkernel 65536\nfile_mapped 1048576\n");
  readings.memoryCurrent = 13000000;
  readings.memoryMax = 67108864;
  readings.swapCurrent = 0;
  ResourceStatistics stats = statisticsFromCgroup2(readings);
  EXPECT_DOUBLE_EQ(stats.cpusUserTimeSecs.value_or(-1), 2.5);
  EXPECT_DOUBLE_EQ(stats.cpusSystemTimeSecs.value_or(-1), 1.0);
  EXPECT_EQ(stats.cpusNrPeriods, 40u);
  EXPECT_EQ(stats.cpusNrThrottled, 10u);
  EXPECT_DOUBLE_EQ(stats.cpusThrottledTimeSecs.value_or(-1), 1.5);
  EXPECT_EQ(stats.memRssBytes, 8388608u);
  EXPECT_EQ(stats.memCacheBytes, 4194304u);
  EXPECT_EQ(stats.memMappedFileBytes, 1048576u);
  EXPECT_EQ(stats.memTotalBytes, 13000000u);
  EXPECT_EQ(stats.memLimitBytes, 67108864u);
  EXPECT_EQ(stats.memSwapBytes, 0u);

  // Without the cpu and memory controllers only the core cpu.stat exists.
  Cgroup2Readings core;
  core.cpuStat = parseFlatKeyed("usage_usec 10\nuser_usec 6\nsystem_usec 4\n");
  ResourceStatistics bare = statisticsFromCgroup2(core);
  EXPECT_TRUE(bare.cpusUserTimeSecs);
  EXPECT_FALSE(bare.cpusNrPeriods);
  EXPECT_FALSE(bare.memTotalBytes);
  EXPECT_FALSE(bare.memRssBytes);
}

// --- on the host's cgroup2 mount -----------------------------------------

std::optional<std::string> cgroup2Mount() { return parseCgroup2Mount(readControl("/proc/mounts").value_or("")); }

pid_t spawnShell(const std::string& script) {
  SpawnOptions spawn;
  spawn.path = "/bin/sh";
  spawn.argv = {"sh", "-c", script};
  auto pid = spawnProcess(spawn);
  return pid ? *pid : -1;
}

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout = 5s) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

bool readable(int fd, std::chrono::milliseconds timeout) {
  pollfd entry{fd, POLLIN, 0};
  return ::poll(&entry, 1, static_cast<int>(timeout.count())) == 1;
}

void drain(int fd) {
  std::array<char, 4096> buffer{};
  while (::read(fd, buffer.data(), buffer.size()) > 0) {
  }
}

// A Cgroups2 under a fresh test root of the host's cgroup2 mount; the test
// is skipped (with the reason) where there is none or it is not writable,
// or (`controllers`) where the root does not offer and delegate them.
class Cgroups2HostTest : public ::testing::Test {
 protected:
  void open(std::set<std::string> controllers = {}, Cgroup2KillMethod kill = Cgroup2KillMethod::kAuto) {
    auto mount = cgroup2Mount();
    if (!mount) GTEST_SKIP() << "no cgroup2 hierarchy is mounted here";
    mount_ = *mount;
    const std::set<std::string> offered = parseControllerList(readControl(mount_ + "/cgroup.controllers").value_or(""));
    std::string missing;
    for (const std::string& controller : controllers) {
      if (!offered.contains(controller)) missing += (missing.empty() ? "" : ", ") + controller;
    }
    if (!missing.empty()) {
      GTEST_SKIP() << "cgroup2 at " << mount_ << " has no " << missing
                   << " controller (this host runs controllers on cgroups v1)";
    }
    static std::atomic<int> counter{0};
    root_ = "mezzo-test-" + std::to_string(getpid()) + "-" + std::to_string(counter++);
    auto opened = Cgroups2::open(mount_, root_, std::move(controllers), kill);
    if (!opened) GTEST_SKIP() << "cgroup2 at " << mount_ << " is not usable here: " << opened.error();
    cgroups_ = std::move(*opened);
  }

  void TearDown() override {
    if (cgroups_) {
      for (const std::string& container : cgroups_->containers()) EXPECT_TRUE(cgroups_->destroy(container));
      EXPECT_TRUE(cgroups_->removeRoot());
      EXPECT_FALSE(fs::exists(mount_ + "/" + root_));
    }
    for (pid_t pid : children_) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  }

  // Runs `script` in a shell that first joins `container` itself (as
  // mezzo-launch does), so whatever it forks is inside too.
  pid_t runIn(const std::string& container, const std::string& script) {
    pid_t pid = spawnShell("echo $$ > " + cgroups_->procsFiles(container).front() + " || exit 99; " + script);
    if (pid <= 0) return pid;
    children_.push_back(pid);
    EXPECT_TRUE(eventually([&] { return std::ranges::count(cgroups_->processes(container), pid) == 1; }));
    return pid;
  }

  // How `pid` ended (waits for it); -1 if it was not our child.
  int waitStatus(pid_t pid) {
    int status = 0;
    if (::waitpid(pid, &status, 0) != pid) return -1;
    std::erase(children_, pid);
    return status;
  }

  std::string mount_;
  std::string root_;
  std::optional<Cgroups2> cgroups_;
  std::vector<pid_t> children_;
};

TEST_F(Cgroups2HostTest, PlacesListsFreezesAndKillsAContainer) {
  open();
  if (IsSkipped()) return;
  EXPECT_EQ(cgroups_->describe(), "cgroups v2 at " + mount_ + "/" + root_ + " (controllers: none)");
  EXPECT_TRUE(cgroups_->has("freezer"));
  EXPECT_TRUE(cgroups_->has("cpuacct"));
  EXPECT_FALSE(cgroups_->has("memory"));
  ASSERT_TRUE(cgroups_->create("c1"));
  EXPECT_EQ(cgroups_->procsFiles("c1"), std::vector<std::string>{mount_ + "/" + root_ + "/c1/cgroup.procs"});
  const pid_t pid = spawnShell("exec sleep 30");
  ASSERT_GT(pid, 0);
  children_.push_back(pid);
  ASSERT_TRUE(cgroups_->assign("c1", pid));
  EXPECT_EQ(cgroups_->processes("c1"), std::vector<pid_t>{pid});
  EXPECT_EQ(cgroups_->containers(), std::vector<std::string>{"c1"});
  EXPECT_TRUE(cgroups_->exists("c1"));
  EXPECT_FALSE(cgroups_->exists("c2"));

  ASSERT_TRUE(cgroups_->freeze("c1"));
  EXPECT_TRUE(cgroups_->frozen("c1"));
  ASSERT_TRUE(cgroups_->thaw("c1"));
  EXPECT_FALSE(cgroups_->frozen("c1"));

  EXPECT_TRUE(cgroups_->cpuUsageNanos("c1"));  // cpu.stat needs no controller
  ResourceStatistics stats = cgroups_->statistics("c1");
  EXPECT_EQ(stats.processes, 1u);
  EXPECT_TRUE(stats.cpusUserTimeSecs);
  EXPECT_FALSE(stats.memTotalBytes);
  EXPECT_EQ(cgroups_->oomKills("c1"), 0u);
  EXPECT_FALSE(cgroups_->oomEventFd("c1"));  // no memory controller

  ASSERT_TRUE(cgroups_->destroy("c1"));
  const int status = waitStatus(pid);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
  EXPECT_FALSE(cgroups_->exists("c1"));
  EXPECT_TRUE(cgroups_->containers().empty());
  EXPECT_TRUE(cgroups_->destroy("c1"));  // already gone: nothing to do
}

// mezzo-launch's way: the process writes its own pid to the one
// cgroup.procs file, then execs; all it starts is inside from the start.
TEST_F(Cgroups2HostTest, AProcessJoinsThroughTheProcsFileBeforeExec) {
  open();
  if (IsSkipped()) return;
  ASSERT_TRUE(cgroups_->create("c1"));
  const std::string procs = cgroups_->procsFiles("c1").front();
  pid_t pid = spawnShell("echo $$ > " + procs + " && exec sh -c 'sleep 30 & sleep 30 & wait'");
  ASSERT_GT(pid, 0);
  children_.push_back(pid);
  EXPECT_TRUE(eventually([&] { return cgroups_->processes("c1").size() == 3; })) << cgroups_->processes("c1").size();
  EXPECT_TRUE(cgroups_->destroy("c1"));
  EXPECT_TRUE(WIFSIGNALED(waitStatus(pid)));
  EXPECT_FALSE(cgroups_->exists("c1"));
}

// Without cgroup.kill (kernels before 5.14): freeze, SIGKILL each process
// of the container and of cgroups nested in it, thaw; nested cgroups are
// removed first.
TEST_F(Cgroups2HostTest, FreezeAndSignalKillsForkedAndNestedProcesses) {
  open({}, Cgroup2KillMethod::kFreezeAndSignal);
  if (IsSkipped()) return;
  ASSERT_TRUE(cgroups_->create("c1"));
  const pid_t forker = runIn("c1", "sleep 30 & sleep 30 & wait");
  ASSERT_GT(forker, 0);
  const std::string nested = cgroups_->path("c1") + "/nested";
  ASSERT_TRUE(fs::create_directory(nested));
  const pid_t inner = spawnShell("exec sleep 30");
  ASSERT_GT(inner, 0);
  children_.push_back(inner);
  ASSERT_TRUE(writeControl(nested + "/cgroup.procs", std::to_string(inner)));
  EXPECT_TRUE(eventually([&] { return cgroups_->processes("c1").size() == 3; }));

  ASSERT_TRUE(cgroups_->destroy("c1"));
  EXPECT_TRUE(WIFSIGNALED(waitStatus(forker)));
  EXPECT_TRUE(WIFSIGNALED(waitStatus(inner)));
  EXPECT_FALSE(fs::exists(nested));
  EXPECT_FALSE(cgroups_->exists("c1"));
}

TEST_F(Cgroups2HostTest, CgroupKillReachesNestedCgroups) {
  open();
  if (IsSkipped()) return;
  ASSERT_TRUE(cgroups_->create("c1"));
  if (!fs::exists(cgroups_->path("c1") + "/cgroup.kill")) GTEST_SKIP() << "kernel without cgroup.kill (< 5.14)";
  const std::string nested = cgroups_->path("c1") + "/nested/deeper";
  ASSERT_TRUE(fs::create_directories(nested));
  const pid_t inner = spawnShell("exec sleep 30");
  ASSERT_GT(inner, 0);
  children_.push_back(inner);
  ASSERT_TRUE(writeControl(nested + "/cgroup.procs", std::to_string(inner)));
  ASSERT_TRUE(cgroups_->destroy("c1"));
  EXPECT_TRUE(WIFSIGNALED(waitStatus(inner)));
  EXPECT_FALSE(cgroups_->exists("c1"));
}

// After an agent restart a new Cgroups2 on the same root finds the
// containers left behind; the orphans are destroyed, the live one stays.
TEST_F(Cgroups2HostTest, ARestartedAgentFindsContainersAndRemovesOrphans) {
  open();
  if (IsSkipped()) return;
  ASSERT_TRUE(cgroups_->create("live"));
  ASSERT_TRUE(cgroups_->create("orphan-empty"));
  ASSERT_TRUE(cgroups_->create("orphan-busy"));
  const pid_t live = runIn("live", "exec sleep 30");
  const pid_t busy = runIn("orphan-busy", "exec sleep 30");
  ASSERT_GT(live, 0);
  ASSERT_GT(busy, 0);

  auto again = Cgroups2::open(mount_, root_, {});
  ASSERT_TRUE(again) << again.error();
  EXPECT_EQ(again->containers(), (std::vector<std::string>{"live", "orphan-busy", "orphan-empty"}));
  for (const std::string& container : again->containers()) {
    if (container != "live") {
      EXPECT_TRUE(again->destroy(container)) << container;
    }
  }
  EXPECT_EQ(again->containers(), std::vector<std::string>{"live"});
  EXPECT_TRUE(WIFSIGNALED(waitStatus(busy)));
  EXPECT_TRUE(again->exists("live"));
  EXPECT_EQ(again->processes("live"), std::vector<pid_t>{live});
}

// The watch behind oomEventFd: inotify on a cgroup's event file fires when
// the kernel changes it (here cgroup.events, whose `populated` needs no
// controller; memory.events changes the same way on an OOM kill).
TEST_F(Cgroups2HostTest, InotifyOnAnEventFileFiresWhenTheKernelChangesIt) {
  open();
  if (IsSkipped()) return;
  ASSERT_TRUE(cgroups_->create("c1"));
  auto fd = watchFileModifications(cgroups_->path("c1") + "/cgroup.events");
  ASSERT_TRUE(fd) << fd.error();
  EXPECT_FALSE(readable(*fd, 50ms));
  const pid_t pid = runIn("c1", "exec sleep 30");
  ASSERT_GT(pid, 0);
  EXPECT_TRUE(readable(*fd, 2000ms));  // populated 0 -> 1
  drain(*fd);
  EXPECT_FALSE(readable(*fd, 0ms));
  ::kill(pid, SIGKILL);
  EXPECT_TRUE(readable(*fd, 2000ms));  // populated 1 -> 0
  drain(*fd);
  EXPECT_TRUE(WIFSIGNALED(waitStatus(pid)));
  ::close(*fd);
}

TEST_F(Cgroups2HostTest, OpenFailsClearlyWhenTheRootDoesNotDelegateAController) {
  auto mount = cgroup2Mount();
  if (!mount) GTEST_SKIP() << "no cgroup2 hierarchy is mounted here";
  const std::set<std::string> delegated =
      parseControllerList(readControl(*mount + "/cgroup.subtree_control").value_or(""));
  if (delegated.contains("pids")) GTEST_SKIP() << "cgroup2 at " << *mount << " delegates pids";
  auto opened = Cgroups2::open(*mount, "mezzo-test-undelegated-" + std::to_string(getpid()), {"pids"});
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(opened.error().find("does not delegate the controller(s) 'pids'"), std::string::npos) << opened.error();
  EXPECT_FALSE(fs::exists(*mount + "/mezzo-test-undelegated-" + std::to_string(getpid())));
}

// --- with the cpu, memory and pids controllers (v2 hosts) ----------------

const std::set<std::string> kControllers = {"cpu", "memory", "pids"};

TEST_F(Cgroups2HostTest, LimitsAreWrittenToTheV2Files) {
  open(kControllers);
  if (IsSkipped()) return;
  ASSERT_TRUE(cgroups_->create("c1"));
  ASSERT_TRUE(cgroups_->applyLimits("c1", CgroupLimits{0.5, 64ull << 20, 10, true}));
  const std::string dir = cgroups_->path("c1");
  EXPECT_EQ(readNumber(dir + "/cpu.weight"), 20u);
  EXPECT_EQ(trim(readControl(dir + "/cpu.max").value_or("")), "50000 100000");
  EXPECT_EQ(readNumber(dir + "/memory.max"), 64ull << 20);
  if (fs::exists(dir + "/memory.swap.max")) {
    EXPECT_EQ(readNumber(dir + "/memory.swap.max"), 0u);
  }
  EXPECT_EQ(readNumber(dir + "/pids.max"), 10u);
  // Raising (a task joined the executor) and dropping the CFS cap.
  ASSERT_TRUE(cgroups_->applyLimits("c1", CgroupLimits{2, 128ull << 20, 10, true}));
  EXPECT_EQ(trim(readControl(dir + "/cpu.max").value_or("")), "200000 100000");
  EXPECT_EQ(readNumber(dir + "/memory.max"), 128ull << 20);

  const pid_t pid = runIn("c1", "exec sleep 30");
  ASSERT_GT(pid, 0);
  ResourceStatistics stats = cgroups_->statistics("c1");
  EXPECT_EQ(stats.memLimitBytes, 128ull << 20);
  EXPECT_GT(stats.memTotalBytes.value_or(0), 0u);
  EXPECT_TRUE(stats.memRssBytes);
  EXPECT_TRUE(stats.cpusNrPeriods);
  EXPECT_EQ(stats.processes, 1u);
}

TEST_F(Cgroups2HostTest, AProcessOverMemoryMaxIsOomKilledAndCounted) {
  open(kControllers);
  if (IsSkipped()) return;
  ASSERT_TRUE(cgroups_->create("c1"));
  ASSERT_TRUE(cgroups_->applyLimits("c1", CgroupLimits{0, 32ull << 20, 0, true}));
  auto fd = cgroups_->oomEventFd("c1");
  ASSERT_TRUE(fd) << fd.error();
  EXPECT_EQ(cgroups_->oomKills("c1"), 0u);
  // A shell string that doubles until the kernel kills it at 32 MiB.
  const pid_t hog = runIn("c1", "x=x; while :; do x=$x$x; done");
  ASSERT_GT(hog, 0);
  EXPECT_TRUE(readable(*fd, 10000ms));
  EXPECT_TRUE(eventually([&] { return cgroups_->oomKills("c1") > 0; }, 10s));
  const int status = waitStatus(hog);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
  ::close(*fd);
}

TEST_F(Cgroups2HostTest, CpuMaxThrottlesABusyLoop) {
  open(kControllers);
  if (IsSkipped()) return;
  ASSERT_TRUE(cgroups_->create("c1"));
  ASSERT_TRUE(cgroups_->applyLimits("c1", CgroupLimits{0.2, 0, 0, true}));
  const pid_t burner = runIn("c1", "while :; do :; done");
  ASSERT_GT(burner, 0);
  const uint64_t before = cgroups_->cpuUsageNanos("c1").value_or(0);
  std::this_thread::sleep_for(1500ms);
  const double seconds = static_cast<double>(cgroups_->cpuUsageNanos("c1").value_or(0) - before) / 1e9;
  EXPECT_LT(seconds, 0.2 * 1.5 * 1.5) << seconds;
  ResourceStatistics stats = cgroups_->statistics("c1");
  EXPECT_GT(stats.cpusNrThrottled.value_or(0), 0u);
  EXPECT_GT(stats.cpusThrottledTimeSecs.value_or(0), 0.0);
}

TEST_F(Cgroups2HostTest, PidsMaxStopsForks) {
  open(kControllers);
  if (IsSkipped()) return;
  ASSERT_TRUE(cgroups_->create("c1"));
  ASSERT_TRUE(cgroups_->applyLimits("c1", CgroupLimits{0, 0, 3, true}));
  const pid_t forker = runIn("c1", "sleep 0.1; for i in 1 2 3 4 5 6; do sleep 30 2>/dev/null & done 2>/dev/null; wait");
  ASSERT_GT(forker, 0);
  std::this_thread::sleep_for(500ms);
  EXPECT_LE(cgroups_->processes("c1").size(), 3u);
  EXPECT_LE(readNumber(cgroups_->path("c1") + "/pids.current").value_or(99), 3u);
}

}  // namespace
}  // namespace mezzo::agent
