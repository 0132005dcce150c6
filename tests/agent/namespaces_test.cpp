// The namespaces/pid and filesystem/linux isolators with real namespaces:
// `mezzo-launch` on its own (the container's pid 1 sees only its namespace
// in its own /proc, exit codes and signals come back through the helper,
// mounts made inside stay inside), then through a real master and agent
// (a task of an executor started with --isolation=namespaces/pid sees the
// executor as pid 1 and no host process).
//
// Skips with the reason where this host cannot create the namespaces (not
// root, or a kernel without them), or, for the agent test, where the linux
// launcher's freezer cgroup is unavailable.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "agent/container_cgroups.hpp"
#include "harness/process.hpp"
#include "harness/scheduler_session.hpp"
#include "harness/task_updates.hpp"
#include "mezzo/common/task_states.hpp"

extern char** environ;

namespace mezzo::testing {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

struct Outcome {
  int waitStatus = -1;
  std::string output;  // stdout and stderr
};

// Starts `mezzo-launch <options> -- /bin/sh sh -c <script>` with its
// stdout and stderr in `outputFile`; -1 if it could not be spawned.
pid_t startLaunch(const std::vector<std::string>& options, const std::string& script, const std::string& outputFile) {
  std::vector<std::string> arguments = {"mezzo-launch"};
  arguments.insert(arguments.end(), options.begin(), options.end());
  for (const char* tail : {"--", "/bin/sh", "sh", "-c"}) arguments.emplace_back(tail);
  arguments.push_back(script);
  std::vector<char*> argv;
  for (std::string& argument : arguments) argv.push_back(argument.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, outputFile.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  const std::string helper = binDir() + "/mezzo-launch";
  pid_t pid = -1;
  if (posix_spawn(&pid, helper.c_str(), &actions, nullptr, argv.data(), environ) != 0) pid = -1;
  posix_spawn_file_actions_destroy(&actions);
  return pid;
}

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Runs mezzo-launch to its end.
Outcome launch(const std::vector<std::string>& options, const std::string& script) {
  const fs::path dir = makeTempDir("mezzo-ns-test");
  const std::string outputFile = (dir / "output").string();
  Outcome outcome;
  pid_t pid = startLaunch(options, script, outputFile);
  if (pid > 0) waitpid(pid, &outcome.waitStatus, 0);
  outcome.output = readFile(outputFile);
  fs::remove_all(dir);
  return outcome;
}

// N of the "procs=N" line of the output (-1 without one).
int processCount(const std::string& output) {
  size_t at = output.find("procs=");
  return at == std::string::npos ? -1 : std::atoi(output.c_str() + at + 6);
}

bool exitedWith(const Outcome& outcome, int code) {
  return WIFEXITED(outcome.waitStatus) && WEXITSTATUS(outcome.waitStatus) == code;
}

// Why namespaces cannot be made here, or "" if they can.
std::string namespacesUnavailable() {
  Outcome probe = launch({"--pid-namespace"}, "true");
  if (exitedWith(probe, 0)) return "";
  return "mezzo-launch cannot create pid and mount namespaces here: " + probe.output;
}

TEST(LaunchNamespacesTest, ContainerInitSeesOnlyItsPidNamespace) {
  if (std::string why = namespacesUnavailable(); !why.empty()) GTEST_SKIP() << why;
  // The shell is pid 1 and its /proc lists only itself and the pipeline
  // that counts (a subshell, ls, wc).
  const std::string script = "echo pid=$$; echo procs=$(ls -d /proc/[0-9]* | wc -l)";
  Outcome outcome = launch({"--pid-namespace"}, script);
  ASSERT_TRUE(exitedWith(outcome, 0)) << outcome.output;
  EXPECT_NE(outcome.output.find("pid=1\n"), std::string::npos) << outcome.output;
  EXPECT_LE(processCount(outcome.output), 5) << outcome.output;

  // Without the namespace the same script sees the host, this test included.
  Outcome host = launch({}, script);
  ASSERT_TRUE(exitedWith(host, 0)) << host.output;
  EXPECT_EQ(host.output.find("pid=1\n"), std::string::npos) << host.output;
  EXPECT_GT(processCount(host.output), 5) << host.output;

  // The host's /proc is untouched by the container's.
  EXPECT_TRUE(fs::exists("/proc/" + std::to_string(getpid())));
}

TEST(LaunchNamespacesTest, ExitCodesAndSignalsComeBackThroughTheHelper) {
  if (std::string why = namespacesUnavailable(); !why.empty()) GTEST_SKIP() << why;
  EXPECT_TRUE(exitedWith(launch({"--pid-namespace"}, "exit 7"), 7));

  // SIGKILL of the container's pid 1 from outside: the helper dies of it too.
  const fs::path dir = makeTempDir("mezzo-ns-kill");
  pid_t helper = startLaunch({"--pid-namespace"}, "sleep 30", (dir / "output").string());
  ASSERT_GT(helper, 0);
  pid_t init = -1;
  ASSERT_TRUE(waitUntil(
      [&] {
        std::istringstream children(
            readFile("/proc/" + std::to_string(helper) + "/task/" + std::to_string(helper) + "/children"));
        return static_cast<bool>(children >> init);
      },
      5s));
  ASSERT_EQ(::kill(init, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(waitpid(helper, &status, 0), helper);
  ASSERT_TRUE(WIFSIGNALED(status)) << status << " " << readFile((dir / "output").string());
  EXPECT_EQ(WTERMSIG(status), SIGKILL);
  fs::remove_all(dir);
}

TEST(LaunchNamespacesTest, TerminationSignalsReachTheContainerInit) {
  if (std::string why = namespacesUnavailable(); !why.empty()) GTEST_SKIP() << why;
  const fs::path dir = makeTempDir("mezzo-ns-signal");
  const std::string marker = (dir / "got-term").string();
  // The container's pid 1 traps SIGTERM, which only a forwarded signal can
  // deliver; the helper is signalled from outside while the shell sleeps.
  DaemonProcess helper("mezzo-launch",
                       {"--pid-namespace", "--", "/bin/sh", "sh", "-c",
                        "trap 'touch " + marker + "; exit 3' TERM; while true; do sleep 0.1; done"},
                       dir / "log");
  std::this_thread::sleep_for(300ms);
  ASSERT_TRUE(helper.running()) << helper.log();
  helper.signal(SIGTERM);
  EXPECT_TRUE(waitUntil([&] { return fs::exists(marker); }, 5s)) << helper.log();
  EXPECT_TRUE(waitUntil([&] { return !helper.running(); }, 5s));
  fs::remove_all(dir);
}

// A mount made in the container is invisible to the host.
TEST(LaunchNamespacesTest, MountsStayInTheContainer) {
  if (std::string why = namespacesUnavailable(); !why.empty()) GTEST_SKIP() << why;
  const fs::path dir = makeTempDir("mezzo-ns-mount");
  const std::string target = (dir / "inside").string();
  fs::create_directories(target);
  const std::string script =
      "mount -t tmpfs mezzo-test-tmpfs " + target + " && grep -q mezzo-test-tmpfs /proc/self/mountinfo";
  Outcome outcome = launch({"--mount-namespace"}, script);
  ASSERT_TRUE(exitedWith(outcome, 0)) << outcome.output;
  std::ifstream mounts("/proc/self/mountinfo");
  std::stringstream text;
  text << mounts.rdbuf();
  EXPECT_EQ(text.str().find("mezzo-test-tmpfs"), std::string::npos) << "the container's mount reached the host";
  fs::remove_all(dir);
}

class NamespacesIsolationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    root = "mezzo-test-ns-" + std::to_string(getpid()) + "-" + std::to_string(counter++);
  }
  void TearDown() override {
    session.reset();
    cluster.reset();
    auto cgroups = agent::discoverCgroups(root, {"freezer"});
    if (!cgroups) return;
    for (const std::string& container : (*cgroups)->containers()) (void)(*cgroups)->destroy(container);
    (void)(*cgroups)->removeRoot();
  }

  std::string root;
  std::unique_ptr<LocalCluster> cluster;
  std::unique_ptr<SchedulerSession> session;

  // Runs a command task checking that pid 1 of its namespace is `pidOne`.
  void runAsPidOne(const std::string& commandTasks, const std::string& pidOne);
};

void NamespacesIsolationTest::runAsPidOne(const std::string& commandTasks, const std::string& pidOne) {
  if (std::string why = namespacesUnavailable(); !why.empty()) GTEST_SKIP() << why;
  if (auto freezer = agent::discoverCgroups(root, {"freezer"}); !freezer) {
    GTEST_SKIP() << "the linux launcher needs the freezer cgroup: " << freezer.error();
  }
  cluster = std::make_unique<LocalCluster>(ClusterOptions()
                                               .withAgentFlag("--isolation=namespaces/pid,filesystem/linux")
                                               .withAgentFlag("--cgroups_root=" + root)
                                               .withAgentFlag("--command_tasks=" + commandTasks));
  session = std::make_unique<SchedulerSession>(cluster->master());
  ASSERT_EQ(session->subscribe(subscribeCall("namespaces-tests")), 200u);
  ASSERT_TRUE(session->waitForType(Event::SUBSCRIBED));
  auto offers = session->waitForType(Event::OFFERS);
  ASSERT_TRUE(offers);
  const v1::Offer& offer = offers->offers().offers(0);
  // The namespace holds pid 1 and the few processes of the check itself, none of the host's.
  const std::string check =
      "test \"$(cat /proc/1/comm)\" = " + pidOne + " && test $(ls -d /proc/[0-9]* | wc -l) -le 8";
  ASSERT_EQ(session->call(launchCall(offer, {commandTask("inside", offer, check, "cpus:0.5;mem:64")}))->status, 202u);
  Seen seen = collectUpdates(
      *session, [](const Seen& s) { return allIn(s, {"inside"}, isTerminalState); }, 30s);
  ASSERT_TRUE(allIn(seen, {"inside"}, isTerminalState));
  const v1::TaskStatus& last = seen["inside"].back();
  EXPECT_EQ(last.state(), v1::TASK_FINISHED) << last.message();
}

// Supervised by the agent: the task's own shell is pid 1.
TEST_F(NamespacesIsolationTest, SupervisedTaskIsPidOneOfItsNamespace) { runAsPidOne("supervised", "sh"); }

// Under the command executor: the executor is pid 1.
TEST_F(NamespacesIsolationTest, TasksSeeTheExecutorAsPidOne) { runAsPidOne("executor", "mezzo-executor"); }

}  // namespace
}  // namespace mezzo::testing
