// Agent isolation with real processes and real cgroups (issue 4): a task
// over its memory limit is OOM-killed and reported TASK_FAILED /
// REASON_CONTAINER_LIMITATION_MEMORY while its neighbour keeps running; a
// task limited to half a cpu uses about half a cpu (and more without the
// CFS cap), measured through /monitor/statistics; cgroups are re-found after
// an agent restart and orphans are removed; posix/rlimits caps memory where
// cgroups are not used.
//
// The agent and these tests pick the cgroup version the same way
// (discoverCgroups: v1 where every subsystem is a v1 hierarchy, else v2);
// cgroup tests skip (with the reason) where neither offers what the
// isolators need or our root is not writable. Each test uses its own
// --cgroups_root.
#include <gtest/gtest.h>
#include <pwd.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <thread>

#include "agent/container_cgroups.hpp"
#include "harness/process.hpp"
#include "harness/scheduler_session.hpp"
#include "harness/task_updates.hpp"
#include "mezzo/common/task_states.hpp"

namespace mezzo::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
namespace fs = std::filesystem;

const std::vector<std::string> kSubsystems = {"cpu", "cpuacct", "memory", "pids", "freezer"};

std::string hog() { return binDir() + "/mezzo-test-hog"; }

class AgentIsolationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    root = "mezzo-test-" + std::to_string(getpid()) + "-" + std::to_string(counter++);
  }

  void TearDown() override {
    session.reset();
    cluster.reset();  // agents stop and destroy the containers of non-checkpointing frameworks
    if (!cgroups) return;
    for (const std::string& container : cgroups->containers()) (void)cgroups->destroy(container);
    EXPECT_TRUE(cgroups->removeRoot());
  }

  // Whether the cgroups the agent will use (v1 or v2) can be used here.
  bool cgroupsUsable() {
    auto discovered = agent::discoverCgroups(root, kSubsystems);
    if (!discovered) {
      skipReason = discovered.error();
      return false;
    }
    cgroups = std::move(*discovered);
    return true;
  }

  void start(ClusterOptions options, bool checkpoint = false) {
    options.withAgentFlag("--cgroups_root=" + root).withAgentFlag("--status_update_retry_interval=1secs");
    cluster = std::make_unique<LocalCluster>(std::move(options));
    session = std::make_unique<SchedulerSession>(cluster->master());
    Call subscribe = subscribeCall("isolation-tests", checkpoint ? 3600 : 0);
    subscribe.mutable_subscribe()->mutable_framework_info()->set_checkpoint(checkpoint);
    ASSERT_EQ(session->subscribe(subscribe), 200u);
    ASSERT_TRUE(session->waitForType(Event::SUBSCRIBED));
    auto offers = session->waitForType(Event::OFFERS);
    ASSERT_TRUE(offers);
    offer = offers->offers().offers(0);
  }

  net::Endpoint agent() const { return net::Endpoint{"127.0.0.1", cluster->agentPort(0)}; }

  // The state of `task` in the agent's /state ("" if not listed as live).
  std::string agentTaskState(const std::string& task) {
    json state = getJson(agent(), "/state");
    if (!state.is_object()) return "";
    for (const json& framework : state["frameworks"]) {
      for (const json& executor : framework["executors"]) {
        for (const json& entry : executor["tasks"]) {
          if (entry["id"] == task) return entry["state"];
        }
      }
    }
    return "";
  }

  json statisticsOf(const std::string& executor) {
    json all = getJson(agent(), "/monitor/statistics");
    for (const json& entry : all) {
      if (entry["executor_id"] == executor) return entry;
    }
    return json();
  }

  // Cpu seconds (user + system) the executor's container has used so far.
  double cpuSeconds(const std::string& executor) {
    json entry = statisticsOf(executor);
    if (!entry.is_object()) return -1;
    return entry["statistics"].value("cpus_user_time_secs", 0.0) +
           entry["statistics"].value("cpus_system_time_secs", 0.0);
  }

  struct CpuUse {
    double container = 0;  // cores used by the executor's container
    double host = 0;       // cores used by the whole host (/proc/stat)
  };

  // Cpu seconds the whole host has been busy (all cpus).
  static double hostBusySeconds() {
    std::ifstream stat("/proc/stat");
    std::string cpu;
    double user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
    stat >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal;
    return (user + nice + system + irq + softirq + steal) / static_cast<double>(sysconf(_SC_CLK_TCK));
  }

  CpuUse coresUsed(const std::string& executor, std::chrono::milliseconds window) {
    double before = cpuSeconds(executor);
    double hostBefore = hostBusySeconds();
    auto start = std::chrono::steady_clock::now();
    std::this_thread::sleep_for(window);
    double after = cpuSeconds(executor);
    double hostAfter = hostBusySeconds();
    std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
    return {(after - before) / elapsed.count(), (hostAfter - hostBefore) / elapsed.count()};
  }

  Call killCall(const std::string& task) {
    Call call;
    call.set_type(Call::KILL);
    call.mutable_kill()->mutable_task_id()->set_value(task);
    *call.mutable_kill()->mutable_agent_id() = offer.agent_id();
    return call;
  }

  std::string root;
  std::string skipReason;
  std::unique_ptr<agent::ContainerCgroups> cgroups;
  std::unique_ptr<LocalCluster> cluster;
  std::unique_ptr<SchedulerSession> session;
  v1::Offer offer;
};

constexpr const char* kCgroupIsolation = "--isolation=cgroups/cpu,cgroups/mem,cgroups/pids";

TEST_F(AgentIsolationTest, MemoryHogFailsWithLimitationWhileNeighbourKeepsRunning) {
  if (!cgroupsUsable()) GTEST_SKIP() << "cgroups not usable here: " << skipReason;
  start(ClusterOptions().withAgentFlag(kCgroupIsolation));
  ASSERT_EQ(session->call(launchCall(offer, {commandTask("neighbour", offer, "sleep 60", "cpus:0.1;mem:32"),
                                             commandTask("hog", offer, hog() + " mem 512", "cpus:0.1;mem:64")}))
                ->status,
            202u);
  auto statuses = session->followTask("hog", v1::TASK_FAILED, 30s);
  ASSERT_FALSE(statuses.empty()) << cluster->agentProcess(0).log();
  const v1::TaskStatus& failed = statuses.back();
  ASSERT_EQ(failed.state(), v1::TASK_FAILED) << cluster->agentProcess(0).log();
  EXPECT_EQ(failed.reason(), v1::TaskStatus::REASON_CONTAINER_LIMITATION_MEMORY) << failed.message();
  EXPECT_EQ(failed.source(), v1::TaskStatus::SOURCE_AGENT);
  EXPECT_NE(failed.message().find("Memory limit exceeded"), std::string::npos) << failed.message();
  // The limitation names the memory limit (64 MB asked + the command executor's 32 MB), as Mesos's.
  ASSERT_EQ(failed.limitation().resources_size(), 1) << failed.DebugString();
  EXPECT_EQ(failed.limitation().resources(0).name(), "mem");
  EXPECT_GE(failed.limitation().resources(0).scalar().value(), 64.0);
  const std::string container = failed.container_status().container_id().value();
  ASSERT_FALSE(container.empty());

  // Exactly one terminal update for the hog: the executor's own is dropped.
  auto extra = session->waitForUpdate("hog", 2s);
  EXPECT_FALSE(extra) << extra->DebugString();

  // Its cgroups are gone; the neighbour still runs, in its own container.
  EXPECT_TRUE(waitUntil([&] { return !cgroups->exists(container); }, 5s)) << container;
  EXPECT_EQ(agentTaskState("neighbour"), "TASK_RUNNING");
  json neighbour = statisticsOf("neighbour");
  ASSERT_TRUE(neighbour.is_object()) << getJson(agent(), "/monitor/statistics").dump();
  EXPECT_EQ(neighbour["statistics"]["mem_limit_bytes"], (32 + 32) << 20);
  EXPECT_GE(neighbour["statistics"].value("processes", 0), 2);  // executor + sleep
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(agentTaskState("neighbour"), "TASK_RUNNING");
  EXPECT_TRUE(session->followTask("neighbour", v1::TASK_RUNNING, 5s).size() > 0);
}

TEST_F(AgentIsolationTest, HalfACpuTaskUsesAboutHalfACore) {
  if (!cgroupsUsable()) GTEST_SKIP() << "cgroups not usable here: " << skipReason;
  start(ClusterOptions().withAgentFlag(kCgroupIsolation));
  ASSERT_EQ(session->call(launchCall(offer, {commandTask("burn", offer, hog() + " cpu 2 30", "cpus:0.5;mem:64")}))
                ->status,
            202u);
  auto statuses = session->followTask("burn", v1::TASK_RUNNING);
  ASSERT_FALSE(statuses.empty());
  ASSERT_EQ(statuses.back().state(), v1::TASK_RUNNING);
  std::this_thread::sleep_for(500ms);  // the threads are up
  const double cores = coresUsed("burn", 2000ms).container;
  EXPECT_GT(cores, 0.35);
  EXPECT_LT(cores, 0.65);
  json stats = statisticsOf("burn")["statistics"];
  EXPECT_EQ(stats["cpus_limit"], 0.5);
  EXPECT_GT(stats.value("cpus_nr_throttled", 0), 0) << stats.dump();
  EXPECT_GT(stats.value("cpus_nr_periods", 0), 0) << stats.dump();
  EXPECT_GT(stats.value("mem_rss_bytes", 0), 0) << stats.dump();
  std::printf("0.5 cpus, 2 busy threads: %.2f cores\n", cores);
  ASSERT_EQ(session->call(killCall("burn"))->status, 202u);
  EXPECT_FALSE(session->followTask("burn", v1::TASK_KILLED).empty());
}

TEST_F(AgentIsolationTest, WithoutTheCfsCapTheSameTaskUsesMore) {
  if (!cgroupsUsable()) GTEST_SKIP() << "cgroups not usable here: " << skipReason;
  start(ClusterOptions().withAgentFlag(kCgroupIsolation).withAgentFlag("--cgroups_enable_cfs=false"));
  ASSERT_EQ(session->call(launchCall(offer, {commandTask("burn", offer, hog() + " cpu 2 30", "cpus:0.5;mem:64")}))
                ->status,
            202u);
  auto statuses = session->followTask("burn", v1::TASK_RUNNING);
  ASSERT_FALSE(statuses.empty());
  std::this_thread::sleep_for(500ms);
  const CpuUse use = coresUsed("burn", 2000ms);
  const double others = use.host - use.container;
  std::printf("0.5 cpus without CFS quota, 2 busy threads: %.2f cores (rest of the host: %.2f)\n", use.container,
              others);
  EXPECT_EQ(statisticsOf("burn")["statistics"].value("cpus_nr_throttled", -1), 0);
  // cpu.shares only weigh it against other busy cgroups: on a host whose
  // other work leaves it room (2 cores here), it takes more than its 0.5.
  const double room = std::thread::hardware_concurrency() - others;
  if (room >= 1.0) {
    EXPECT_GT(use.container, 0.65);
  } else {
    std::printf("the rest of the host used %.2f cores: no room to show uncapped use\n", others);
  }
  ASSERT_EQ(session->call(killCall("burn"))->status, 202u);
  EXPECT_FALSE(session->followTask("burn", v1::TASK_KILLED).empty());
}

TEST_F(AgentIsolationTest, RestartedAgentKeepsLiveContainersAndRemovesOrphans) {
  if (!cgroupsUsable()) GTEST_SKIP() << "cgroups not usable here: " << skipReason;
  start(ClusterOptions().withAgentFlag(kCgroupIsolation).withAgentFlag("--executor_reregistration_timeout=3secs"),
        /*checkpoint=*/true);
  ASSERT_EQ(session->call(launchCall(offer, {commandTask("survivor", offer, "sleep 600", "cpus:0.1;mem:32")}))
                ->status,
            202u);
  auto statuses = session->followTask("survivor", v1::TASK_RUNNING);
  ASSERT_FALSE(statuses.empty());
  const std::string container = statuses.back().container_status().container_id().value();
  ASSERT_TRUE(cgroups->exists(container));

  cluster->agentProcess(0).kill9();
  ASSERT_TRUE(cgroups->create("orphan"));  // as if left by a crash mid-launch
  cluster->startAgent(0);
  EXPECT_TRUE(waitUntil([&] { return !cgroups->exists("orphan"); }, 10s));
  std::this_thread::sleep_for(4s);  // past the re-registration timeout
  EXPECT_EQ(agentTaskState("survivor"), "TASK_RUNNING") << cluster->agentProcess(0).log();
  EXPECT_TRUE(cgroups->exists(container));
  EXPECT_EQ(statisticsOf("survivor")["container_id"], container);

  ASSERT_EQ(session->call(killCall("survivor"))->status, 202u);
  auto killed = session->followTask("survivor", v1::TASK_KILLED);
  ASSERT_FALSE(killed.empty());
  EXPECT_EQ(killed.back().state(), v1::TASK_KILLED);
  EXPECT_TRUE(waitUntil([&] { return !cgroups->exists(container); }, 10s));
}

// posix/rlimits needs no cgroups: RLIMIT_DATA = the container's memory
// (task mem + 32 MB for the command executor) on each of its processes.
TEST_F(AgentIsolationTest, PosixRlimitsCapTheMemoryOfATask) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer build: an ASan-instrumented executor reserves terabytes of shadow address "
                  "space and cannot start under RLIMIT_DATA; the release build runs this test";
#endif
  start(ClusterOptions().withAgentFlag("--isolation=posix/rlimits"));
  ASSERT_EQ(session->call(launchCall(offer, {commandTask("big", offer, hog() + " mem 512", "cpus:0.1;mem:64"),
                                             commandTask("small", offer, hog() + " mem 16 0", "cpus:0.1;mem:64")}))
                ->status,
            202u);
  auto big = session->followTask("big", v1::TASK_FAILED, 30s);
  ASSERT_FALSE(big.empty());
  EXPECT_EQ(big.back().state(), v1::TASK_FAILED) << cluster->agentProcess(0).log();
  EXPECT_NE(big.back().message().find("status 3"), std::string::npos) << big.back().message();
  auto small = session->followTask("small", v1::TASK_FINISHED, 30s);
  ASSERT_FALSE(small.empty());
  EXPECT_EQ(small.back().state(), v1::TASK_FINISHED) << small.back().message();
}

TEST_F(AgentIsolationTest, UnknownIsolatorStopsTheAgentWithAReason) {
  fs::path dir = makeTempDir("mezzo-isolation");
  DaemonProcess agent("mezzo-agent",
                      {"--master=127.0.0.1:1", "--port=0", "--work_dir=" + (dir / "work").string(),
                       "--isolation=cgroups/cpu,gpu/nvidia"},
                      dir / "agent.log");
  EXPECT_TRUE(waitUntil([&] { return !agent.running(); }, 10s));
  EXPECT_NE(agent.log().find("Unknown isolator 'gpu/nvidia'"), std::string::npos) << agent.log();
  fs::remove_all(dir);
}

// ------------------------------------------------ users, rlimits, volumes
// (--switch_user, ContainerInfo.rlimit_info and volumes, TaskInfo.limits)

// Why tasks cannot be run as another user here, or empty.
std::string cannotSwitchUsers() {
  if (geteuid() != 0) return "the tests do not run as root";
  if (getpwnam("nobody") == nullptr) return "there is no user 'nobody'";
  return {};
}

class ContainerSettingsTest : public AgentIsolationTest {
 protected:
  // The data of `file` in the latest run of `executor`'s sandbox.
  std::string sandboxFile(const std::string& executor, const std::string& file) {
    json read = getJson(agent(), "/files/read?path=/frameworks/" + session->frameworkId() + "/executors/" + executor +
                                     "/runs/latest/" + file + "&offset=0");
    return read.is_object() ? read["data"].get<std::string>() : std::string();
  }

  // Runs `tasks` (out of one offer) to their ends; the last update of each, by task id.
  std::map<std::string, v1::TaskStatus> runToEnd(const std::vector<v1::TaskInfo>& tasks) {
    EXPECT_EQ(session->call(launchCall(offer, tasks))->status, 202u);
    std::vector<std::string> ids;
    for (const v1::TaskInfo& task : tasks) ids.push_back(task.task_id().value());
    Seen seen = collectUpdates(*session, [&](const Seen& s) { return allIn(s, ids, isTerminalState); });
    EXPECT_TRUE(allIn(seen, ids, isTerminalState)) << cluster->agentProcess(0).log();
    std::map<std::string, v1::TaskStatus> last;
    for (const auto& [id, statuses] : seen) last[id] = statuses.back();
    return last;
  }
  v1::TaskStatus runToEnd(const v1::TaskInfo& task) { return runToEnd(std::vector{task})[task.task_id().value()]; }

  // A task printing its user and its sandbox's owner, as `user`.
  v1::TaskInfo whoAmI(const std::string& id, const std::string& user) {
    v1::TaskInfo task = commandTask(id, offer, "id -un; stat -c %U \"$MESOS_SANDBOX\"");
    task.mutable_command()->set_user(user);
    return task;
  }

  void runsAsNobody(const std::string& commandTasks) {
    if (std::string reason = cannotSwitchUsers(); !reason.empty()) GTEST_SKIP() << reason;
    start(ClusterOptions().withAgentFlag("--command_tasks=" + commandTasks));
    // A fetched file is the user's too.
    const fs::path fetched = cluster->workDir() / "fetched.txt";
    std::ofstream(fetched) << "data\n";
    v1::TaskInfo who = whoAmI("who", "nobody");
    who.mutable_command()->set_value(who.command().value() + "; stat -c %U fetched.txt");
    who.mutable_command()->add_uris()->set_value(fetched.string());
    auto ended = runToEnd({who, whoAmI("ghost", "no-such-user-here")});
    const v1::TaskStatus& status = ended["who"];
    EXPECT_EQ(status.state(), v1::TASK_FINISHED) << status.message() << sandboxFile("who", "stderr");
    EXPECT_EQ(sandboxFile("who", "stdout"), "nobody\nnobody\nnobody\n") << sandboxFile("who", "stderr");

    const v1::TaskStatus& unknown = ended["ghost"];
    EXPECT_EQ(unknown.state(), v1::TASK_FAILED);
    EXPECT_EQ(unknown.reason(), v1::TaskStatus::REASON_CONTAINER_LAUNCH_FAILED);
    EXPECT_NE(unknown.message().find("No such user 'no-such-user-here'"), std::string::npos) << unknown.message();
  }
};

TEST_F(ContainerSettingsTest, SupervisedCommandTaskRunsAsItsUser) { runsAsNobody("supervised"); }

TEST_F(ContainerSettingsTest, CommandExecutorTaskRunsAsItsUser) { runsAsNobody("executor"); }

TEST_F(ContainerSettingsTest, TaskOfAGroupRunsAsItsUser) {
  if (std::string reason = cannotSwitchUsers(); !reason.empty()) GTEST_SKIP() << reason;
  start(ClusterOptions());
  ASSERT_EQ(session->call(launchGroupCall(offer, defaultExecutor("group", offer), {whoAmI("member", "nobody")}))->status,
            202u);
  auto statuses = session->followTask("member", v1::TASK_FINISHED, 30s);
  ASSERT_FALSE(statuses.empty());
  EXPECT_EQ(statuses.back().state(), v1::TASK_FINISHED) << statuses.back().message();
  // The executor (the framework's user, root) shares its sandbox; the task's own output is nobody's.
  EXPECT_EQ(sandboxFile("group", "tasks/member/stdout"), "nobody\nroot\n") << sandboxFile("group", "stderr");
}

TEST_F(ContainerSettingsTest, TaskOfAGroupWithAnUnknownUserFails) {
  start(ClusterOptions());
  ASSERT_EQ(session->call(launchGroupCall(offer, defaultExecutor("group2", offer),
                                          {whoAmI("stranger", "no-such-user-here")}))
                ->status,
            202u);
  auto failed = session->followTask("stranger", v1::TASK_FAILED, 30s);
  ASSERT_FALSE(failed.empty());
  EXPECT_EQ(failed.back().state(), v1::TASK_FAILED);
  EXPECT_NE(failed.back().message().find("No such user"), std::string::npos) << failed.back().message();
}

TEST_F(ContainerSettingsTest, SwitchUserFalseRunsAsTheAgentsUser) {
  if (std::string reason = cannotSwitchUsers(); !reason.empty()) GTEST_SKIP() << reason;
  start(ClusterOptions().withAgentFlag("--switch_user=false"));
  v1::TaskStatus status = runToEnd(whoAmI("who", "no-such-user-here"));
  EXPECT_EQ(status.state(), v1::TASK_FINISHED) << status.message();
  EXPECT_EQ(sandboxFile("who", "stdout"), "root\nroot\n");
}

TEST_F(ContainerSettingsTest, RlimitInfoSetsTheTasksLimits) {
  start(ClusterOptions());
  v1::TaskInfo task = commandTask("limited", offer, "ulimit -n; ulimit -Hn; ulimit -c");
  v1::ContainerInfo* container = task.mutable_container();
  container->set_type(v1::ContainerInfo::MESOS);
  auto* nofile = container->mutable_rlimit_info()->add_rlimits();
  nofile->set_type(v1::RLimitInfo::RLimit::RLMT_NOFILE);
  nofile->set_soft(123);
  nofile->set_hard(456);
  container->mutable_rlimit_info()->add_rlimits()->set_type(v1::RLimitInfo::RLimit::RLMT_CORE);  // unlimited

  // Only one of soft and hard: refused with the reason, nothing runs.
  v1::TaskInfo bad = commandTask("half", offer, "true");
  bad.mutable_container()->set_type(v1::ContainerInfo::MESOS);
  auto* half = bad.mutable_container()->mutable_rlimit_info()->add_rlimits();
  half->set_type(v1::RLimitInfo::RLimit::RLMT_NOFILE);
  half->set_soft(10);
  auto ended = runToEnd({task, bad});
  const v1::TaskStatus& status = ended["limited"];
  EXPECT_EQ(status.state(), v1::TASK_FINISHED) << status.message();
  EXPECT_EQ(sandboxFile("limited", "stdout"), "123\n456\nunlimited\n") << sandboxFile("limited", "stderr");
  const v1::TaskStatus& refused = ended["half"];
  EXPECT_EQ(refused.state(), v1::TASK_FAILED);
  EXPECT_NE(refused.message().find("RLMT_NOFILE must set both"), std::string::npos) << refused.message();
}

TEST_F(ContainerSettingsTest, MemoryLimitAboveTheRequestIsTheCgroupLimit) {
  if (!cgroupsUsable()) GTEST_SKIP() << "cgroups not usable here: " << skipReason;
  start(ClusterOptions().withAgentFlag(kCgroupIsolation));
  v1::TaskInfo task = commandTask("bursty", offer, "sleep 60", "cpus:0.1;mem:64");
  (*task.mutable_limits())["mem"].set_value(128);
  (*task.mutable_limits())["cpus"].set_value(std::numeric_limits<double>::infinity());
  ASSERT_EQ(session->call(launchCall(offer, {task}))->status, 202u);
  auto statuses = session->followTask("bursty", v1::TASK_RUNNING);
  ASSERT_FALSE(statuses.empty());
  ASSERT_EQ(statuses.back().state(), v1::TASK_RUNNING) << statuses.back().message();
  json stats = statisticsOf("bursty")["statistics"];
  // The limit plus the 32 MB the agent adds to every command task's container.
  EXPECT_EQ(stats["mem_limit_bytes"], (128 + 32) << 20) << stats.dump();
  // An infinite cpu limit: no CFS quota (v1: -1; v2: "max"), though --cgroups_enable_cfs caps other tasks.
  const std::string container = statuses.back().container_status().container_id().value();
  std::string quota;
  for (const std::string& procs : cgroups->procsFiles(container)) {
    const fs::path dir = fs::path(procs).parent_path();
    for (const char* name : {"cpu.cfs_quota_us", "cpu.max"}) {
      if (fs::exists(dir / name)) std::ifstream(dir / name) >> quota;
    }
  }
  EXPECT_TRUE(quota == "-1" || quota == "max") << quota;
}

TEST_F(ContainerSettingsTest, HostPathVolumeIsMountedReadOnly) {
  if (geteuid() != 0) GTEST_SKIP() << "mounts need root";
  const fs::path data = "/data";
  const bool created = !fs::exists(data);
  // As in Mesos, an absolute mount point must exist when the container shares the host's file system.
  if (created) fs::create_directory(data);
  fs::path host = makeTempDir("mezzo-volume");
  std::ofstream(host / "file") << "from-the-host\n";
  start(ClusterOptions().withAgentFlag("--isolation=filesystem/linux"));
  v1::TaskInfo task = commandTask("reader", offer,
                                  "cat /data/file && if touch /data/new; then echo writable; else echo read-only; fi"
                                  " && echo through-the-alias > alias/file && cat kept/file");
  // A sandbox path (SELF, created) seen at a relative container path (created in the sandbox), read-write.
  v1::Volume* sandboxVolume = task.mutable_container()->add_volumes();
  sandboxVolume->set_container_path("alias");
  sandboxVolume->set_mode(v1::Volume::RW);
  sandboxVolume->mutable_source()->set_type(v1::Volume::Source::SANDBOX_PATH);
  sandboxVolume->mutable_source()->mutable_sandbox_path()->set_type(v1::Volume::Source::SandboxPath::SELF);
  sandboxVolume->mutable_source()->mutable_sandbox_path()->set_path("kept");
  v1::Volume* volume = task.mutable_container()->add_volumes();
  task.mutable_container()->set_type(v1::ContainerInfo::MESOS);
  volume->set_container_path("/data");
  volume->set_mode(v1::Volume::RO);
  volume->mutable_source()->set_type(v1::Volume::Source::HOST_PATH);
  volume->mutable_source()->mutable_host_path()->set_path(host.string());
  v1::TaskStatus status = runToEnd(task);
  EXPECT_EQ(status.state(), v1::TASK_FINISHED) << status.message() << sandboxFile("reader", "stderr");
  EXPECT_EQ(sandboxFile("reader", "stdout"), "from-the-host\nread-only\nthrough-the-alias\n")
      << sandboxFile("reader", "stderr");
  EXPECT_FALSE(fs::exists(host / "new"));
  EXPECT_FALSE(fs::exists(data / "file")) << "the mount stayed in the container";
  fs::remove_all(host);
  if (created) fs::remove(data);
}

TEST_F(ContainerSettingsTest, VolumeWithoutFilesystemIsolationFailsTheTask) {
  start(ClusterOptions());
  v1::TaskInfo task = commandTask("unmounted", offer, "true");
  task.mutable_container()->set_type(v1::ContainerInfo::MESOS);
  v1::Volume* volume = task.mutable_container()->add_volumes();
  volume->set_container_path("data");
  volume->set_mode(v1::Volume::RW);
  volume->set_host_path("/tmp");
  v1::TaskStatus status = runToEnd(task);
  EXPECT_EQ(status.state(), v1::TASK_FAILED);
  EXPECT_EQ(status.reason(), v1::TaskStatus::REASON_CONTAINER_LAUNCH_FAILED);
  EXPECT_NE(status.message().find("filesystem/linux"), std::string::npos) << status.message();
}

}  // namespace
}  // namespace mezzo::testing
