// The `mezzo` binary end to end: `mezzo local` (with and without
// --run-sample), `mezzo run` against it, and the list commands. Needs
// mezzo, mezzo-master, mezzo-agent and mezzo-executor in $MEZZO_BIN_DIR.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "cli/process.hpp"
#include "cli/process_tree.hpp"
#include "ha/zookeeper_server_setup.hpp"
#include "harness/process.hpp"
#include "mezzo/net/http_client.hpp"

namespace mezzo::cli {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

std::string binDir() {
  const char* dir = std::getenv("MEZZO_BIN_DIR");
  return dir != nullptr ? dir : selfExecutableDir();
}

bool haveDaemons() {
  for (const char* binary : {"mezzo", "mezzo-master", "mezzo-agent", "mezzo-executor"}) {
    if (::access((binDir() + "/" + binary).c_str(), X_OK) != 0) return false;
  }
  return true;
}

struct CommandResult {
  int exitCode = -1;
  std::string out;
  std::string err;
};

std::string readFile(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Runs `mezzo ARGS` through the shell, with a hard time limit, after the
// shell assignments `environment` if any.
CommandResult mezzo(const std::string& args, int limitSeconds = 60, const std::string& environment = "") {
  static int counter = 0;
  fs::path errFile = fs::temp_directory_path() /
                     ("mezzo-cli-test-" + std::to_string(::getpid()) + "-" + std::to_string(++counter) + ".err");
  std::string command = environment + " timeout -s KILL " + std::to_string(limitSeconds) + " " + binDir() +
                        "/mezzo " + args + " 2>" + errFile.string();
  CommandResult result;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[4096];
  size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) result.out.append(buffer, n);
  int status = ::pclose(pipe);
  result.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.err = readFile(errFile);
  fs::remove(errFile);
  return result;
}

nlohmann::json getJson(uint16_t port, const std::string& path) {
  net::ClientRequest request;
  request.method = boost::beast::http::verb::get;
  request.target = path;
  request.timeout = milliseconds(2000);
  auto response = net::httpRequestSync(net::Endpoint{"127.0.0.1", port}, request);
  if (!response || response->status != 200) return nullptr;
  return nlohmann::json::parse(response->body, nullptr, false);
}

using mezzo::testing::waitUntil;

// A process that is gone or a zombie runs nothing.
bool processGone(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  if (!std::getline(in, stat)) return true;
  size_t end = stat.rfind(')');
  return end != std::string::npos && end + 2 < stat.size() && stat[end + 2] == 'Z';
}

std::string commandLine(pid_t pid) {
  std::string text = readFile("/proc/" + std::to_string(pid) + "/cmdline");
  std::replace(text.begin(), text.end(), '\0', ' ');
  return text;
}

// The processes below `root` whose command line contains `needle`.
std::vector<pid_t> descendantsRunning(pid_t root, const std::string& needle) {
  std::vector<pid_t> found;
  for (pid_t pid : descendantsOf(root, readProcessParents())) {
    if (commandLine(pid).find(needle) != std::string::npos) found.push_back(pid);
  }
  return found;
}

// `mezzo ARGS` in the background, its stdout and stderr in `log`.
std::unique_ptr<ChildProcess> spawnMezzo(const std::vector<std::string>& args, const fs::path& log) {
  auto process = ChildProcess::spawn(binDir() + "/mezzo", args, log.string());
  EXPECT_TRUE(process.isOk()) << process.error();
  return process ? std::move(*process) : nullptr;
}

// `mezzo local` in the background for the tests that need a cluster.
class CliIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!haveDaemons()) GTEST_SKIP() << "mezzo-agent/mezzo-executor not built in " << binDir();
  }

  void startCluster(int agents) {
    port_ = *freePort();
    static int clusters = 0;
    workDir_ =
        fs::temp_directory_path() / ("mezzo-cli-test-" + std::to_string(::getpid()) + "-" + std::to_string(++clusters));
    fs::create_directories(workDir_);
    auto local = ChildProcess::spawn(
        binDir() + "/mezzo",
        {"local", "--port", std::to_string(port_), "--agents", std::to_string(agents), "--work_dir", workDir_.string()},
        (workDir_ / "local.log").string());
    ASSERT_TRUE(local.isOk()) << local.error();
    local_ = std::move(*local);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      ASSERT_TRUE(local_->running()) << readFile(workDir_ / "local.log");
      if (readFile(workDir_ / "local.log").find("Press Ctrl-C") != std::string::npos) return;
      std::this_thread::sleep_for(milliseconds(100));
    }
    FAIL() << "mezzo local did not come up:\n" << readFile(workDir_ / "local.log");
  }

  void TearDown() override {
    if (local_) local_->stop(milliseconds(15000));
    if (!workDir_.empty() && !HasFailure()) fs::remove_all(workDir_);
  }

  std::string master() const { return "127.0.0.1:" + std::to_string(port_); }

  // `mezzo run ARGS -- sleep 313` (a command line the tests can find) in the
  // background, once its task runs.
  std::unique_ptr<ChildProcess> startSleepTask(const std::string& name, std::vector<std::string> args = {}) {
    fs::path log = workDir_ / (name + ".log");
    args.insert(args.begin(), {"run", "--master", master(), "--name", name});
    args.insert(args.end(), {"--", "sleep 313"});
    auto run = spawnMezzo(args, log);
    EXPECT_TRUE(waitUntil([&] { return readFile(log).find("TASK_RUNNING") != std::string::npos; },
                          std::chrono::seconds(30)))
        << readFile(log);
    return run;
  }

  uint16_t port_ = 0;
  fs::path workDir_;
  std::unique_ptr<ChildProcess> local_;
};

TEST_F(CliIntegrationTest, RunReportsOutputAndExitCode) {
  startCluster(1);
  CommandResult failed = mezzo("run --master " + master() + " -- sh -c 'echo hi; echo oops >&2; exit 3'");
  EXPECT_EQ(failed.exitCode, 3) << failed.err;
  EXPECT_EQ(failed.out, "hi\n") << failed.err;
  EXPECT_NE(failed.err.find("TASK_RUNNING"), std::string::npos) << failed.err;
  EXPECT_NE(failed.err.find("TASK_FAILED"), std::string::npos) << failed.err;
  EXPECT_NE(failed.err.find("oops"), std::string::npos) << failed.err;

  CommandResult finished = mezzo("run --master " + master() + " --name greeter -- 'echo one; echo two'");
  EXPECT_EQ(finished.exitCode, 0) << finished.err;
  EXPECT_EQ(finished.out, "one\ntwo\n");
  EXPECT_NE(finished.err.find("TASK_FINISHED"), std::string::npos) << finished.err;

  CommandResult timedOut = mezzo("run --master " + master() + " --timeout 2 -- sleep 60");
  EXPECT_EQ(timedOut.exitCode, 124) << timedOut.err;
  EXPECT_NE(timedOut.err.find("TASK_KILLED"), std::string::npos) << timedOut.err;

  CommandResult tooBig = mezzo("run --master " + master() + " --cpus 64 --timeout 3 -- true");
  EXPECT_EQ(tooBig.exitCode, 124) << tooBig.err;

  // The frameworks were torn down; their tasks are listed as completed.
  CommandResult tasks = mezzo("task list --master " + master());
  EXPECT_EQ(tasks.exitCode, 0);
  EXPECT_NE(tasks.out.find("TASK_FAILED"), std::string::npos) << tasks.out;
  EXPECT_NE(tasks.out.find("greeter"), std::string::npos) << tasks.out;
  auto frameworks = getJson(port_, "/frameworks");
  EXPECT_EQ(frameworks["frameworks"].size(), 0u) << frameworks.dump();
}

TEST_F(CliIntegrationTest, ListCommandsAndCleanShutdown) {
  startCluster(2);
  CommandResult agents = mezzo("agent list --master " + master());
  EXPECT_EQ(agents.exitCode, 0) << agents.err;
  EXPECT_EQ(std::count(agents.out.begin(), agents.out.end(), '\n'), 3) << agents.out;
  EXPECT_TRUE(agents.out.starts_with("ID ")) << agents.out;
  EXPECT_NE(agents.out.find("true"), std::string::npos);

  CommandResult json = mezzo("agent list --json --master " + master());
  EXPECT_EQ(json.exitCode, 0);
  EXPECT_EQ(nlohmann::json::parse(json.out)["slaves"].size(), 2u);

  CommandResult frameworks = mezzo("framework list --master " + master());
  EXPECT_EQ(frameworks.exitCode, 0);
  EXPECT_EQ(frameworks.out, "ID  NAME  ACTIVE  TASKS\n");

  CommandResult unreachable = mezzo("task list --master 127.0.0.1:1");
  EXPECT_EQ(unreachable.exitCode, 1);
  EXPECT_NE(unreachable.err.find("cannot reach the master"), std::string::npos) << unreachable.err;

  // SIGTERM stops the cluster cleanly: exit 0 and the master's port is free.
  ::kill(local_->pid(), SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (local_->running() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(50));
  }
  EXPECT_EQ(local_->describeExit(), "exited with status 0") << readFile(workDir_ / "local.log");
  EXPECT_TRUE(portAvailable(port_));
}

TEST_F(CliIntegrationTest, LocalRunsTheSampleWorkload) {
  auto started = std::chrono::steady_clock::now();
  CommandResult result = mezzo("local --port 0 --run-sample", 90);
  auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  EXPECT_EQ(result.exitCode, 0) << result.out << result.err;
  EXPECT_NE(result.out.find("6/6 tasks finished"), std::string::npos) << result.out;
  for (int i = 1; i <= 6; ++i) {
    EXPECT_NE(result.out.find("hello from task " + std::to_string(i)), std::string::npos) << result.out;
  }
  EXPECT_LT(seconds, 20) << result.out;
}

// `mezzo local --ha`: ZooKeeper and three masters; killing the leader leaves
// a working cluster (a standby leads, the agent follows, `mezzo run` through
// the ZooKeeper URL succeeds).
TEST(CliHaTest, LocalHaSurvivesKillingTheLeader) {
  if (!haveDaemons()) GTEST_SKIP() << "daemons not built";
  if (auto command = ha::zooKeeperServerCommand("/dev/null"); !command) GTEST_SKIP() << command.error();
  fs::path workDir = fs::temp_directory_path() / ("mezzo-cli-ha-" + std::to_string(::getpid()));
  fs::remove_all(workDir);
  fs::create_directories(workDir);
  fs::path log = workDir.string() + ".log";
  auto local = ChildProcess::spawn(binDir() + "/mezzo",
                                   {"local", "--ha", "--port", "0", "--agents", "1", "--work_dir", workDir.string()},
                                   log.string());
  ASSERT_TRUE(local.isOk()) << local.error();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (readFile(log).find("Press Ctrl-C") == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    ASSERT_TRUE((*local)->running()) << readFile(log);
    std::this_thread::sleep_for(milliseconds(100));
  }
  std::string out = readFile(log);
  ASSERT_NE(out.find("Press Ctrl-C"), std::string::npos) << out;

  // "  master  http://127.0.0.1:PORT  pid PID  (leading|standby)"
  std::vector<std::pair<uint16_t, pid_t>> masters;
  std::optional<size_t> leader;
  std::istringstream lines(out);
  std::string line;
  std::string zkUrl;
  while (std::getline(lines, line)) {
    unsigned port = 0;
    int pid = 0;
    char role[16] = {};
    if (std::sscanf(line.c_str(), "  master  http://127.0.0.1:%u  pid %d  (%15[a-z])", &port, &pid, role) == 3) {
      if (std::string(role) == "leading") leader = masters.size();
      masters.emplace_back(static_cast<uint16_t>(port), static_cast<pid_t>(pid));
    }
    if (line.starts_with("  zookeeper ")) zkUrl = line.substr(12);
  }
  ASSERT_EQ(masters.size(), 3u) << out;
  ASSERT_TRUE(leader) << out;
  ASSERT_FALSE(zkUrl.empty()) << out;

  ::kill(masters[*leader].second, SIGKILL);
  std::optional<size_t> next;
  deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!next && std::chrono::steady_clock::now() < deadline) {
    for (size_t i = 0; i < masters.size(); ++i) {
      if (i != *leader && getJson(masters[i].first, "/state").value("elected", false)) next = i;
    }
    std::this_thread::sleep_for(milliseconds(100));
  }
  ASSERT_TRUE(next) << "no standby took over";
  EXPECT_TRUE((*local)->running()) << readFile(log);
  CommandResult run = mezzo("run --master " + zkUrl + " -- true", 60);
  EXPECT_EQ(run.exitCode, 0) << run.out << run.err;
  // List commands find the new leader through ZooKeeper too.
  CommandResult agents = mezzo("agent list --json --master " + zkUrl, 30);
  EXPECT_EQ(agents.exitCode, 0) << agents.err;
  auto agentList = nlohmann::json::parse(agents.out, nullptr, false);
  ASSERT_TRUE(agentList.is_object()) << agents.out;
  EXPECT_EQ(agentList["slaves"].size(), 1u) << agents.out;
  EXPECT_NE(readFile(log).find("a standby takes over"), std::string::npos) << readFile(log);

  (*local)->stop(milliseconds(15000));
  EXPECT_EQ((*local)->describeExit(), "exited with status 0") << readFile(log);
  fs::remove_all(workDir);
  fs::remove(log);
}

TEST(CliTest, MissingCommandIsAUsageError) {
  CommandResult result = mezzo("run --master 127.0.0.1:1");
  EXPECT_NE(result.exitCode, 0);
}

TEST(CliTest, RunFailsFastWithoutAMaster) {
  uint16_t port = *freePort();
  CommandResult result = mezzo("run --master 127.0.0.1:" + std::to_string(port) + " -- true", 40);
  EXPECT_EQ(result.exitCode, 1);
  EXPECT_NE(result.err.find("Could not subscribe"), std::string::npos) << result.err;
}

// kill -9 of `mezzo local` leaves nothing running, tasks included; each
// `mezzo run` then gives up on the lost master: by itself after
// --reconnect_timeout, or at the first Ctrl-C.
TEST_F(CliIntegrationTest, Kill9OfLocalLeavesNothingRunning) {
  startCluster(1);
  auto patient = startSleepTask("patient");
  auto bounded = startSleepTask("bounded", {"--reconnect_timeout", "2"});
  std::vector<pid_t> tree = descendantsOf(local_->pid(), readProcessParents());
  EXPECT_GE(descendantsRunning(local_->pid(), "sleep 313").size(), 2u);
  EXPECT_EQ(descendantsRunning(local_->pid(), "mezzo-launch").size(), 1u);  // the task supervisor
  ASSERT_GE(tree.size(), 5u);

  ::kill(local_->pid(), SIGKILL);
  auto killed = std::chrono::steady_clock::now();
  EXPECT_TRUE(waitUntil([&] { return std::all_of(tree.begin(), tree.end(), processGone); }, milliseconds(1000)));
  for (pid_t pid : tree) EXPECT_TRUE(processGone(pid)) << pid << " " << commandLine(pid);

  EXPECT_TRUE(waitUntil([&] { return !bounded->running(); }, std::chrono::seconds(20)));
  EXPECT_LT(std::chrono::steady_clock::now() - killed, std::chrono::seconds(20));
  EXPECT_EQ(bounded->describeExit(), "exited with status 1");
  EXPECT_NE(readFile(workDir_ / "bounded.log").find("unreachable for 2 s; giving up"), std::string::npos)
      << readFile(workDir_ / "bounded.log");

  ASSERT_TRUE(waitUntil([&] { return readFile(workDir_ / "patient.log").find("Lost the master") != std::string::npos; },
                        std::chrono::seconds(20)));
  ::kill(patient->pid(), SIGINT);
  EXPECT_TRUE(waitUntil([&] { return !patient->running(); }, std::chrono::seconds(2)))
      << readFile(workDir_ / "patient.log");
  EXPECT_EQ(patient->describeExit(), "exited with status 130") << readFile(workDir_ / "patient.log");
}

// A closed terminal (SIGHUP) stops the cluster in order, tasks included.
TEST_F(CliIntegrationTest, HangupOfLocalStopsTheClusterAndItsTasks) {
  startCluster(1);
  auto run = startSleepTask("sleeper");
  std::vector<pid_t> tree = descendantsOf(local_->pid(), readProcessParents());
  ASSERT_GE(descendantsRunning(local_->pid(), "sleep 313").size(), 1u);
  ::kill(local_->pid(), SIGHUP);
  EXPECT_TRUE(waitUntil([&] { return !local_->running(); }, std::chrono::seconds(20)));
  EXPECT_EQ(local_->describeExit(), "exited with status 0") << readFile(workDir_ / "local.log");
  for (pid_t pid : tree) EXPECT_TRUE(processGone(pid)) << pid << " " << commandLine(pid);
  run->stop(milliseconds(100));
}

// The output is shown as the task writes it: the task prints a line, waits
// for the test to have seen it, then prints another.
TEST_F(CliIntegrationTest, RunStreamsOutputWhileTheTaskRuns) {
  startCluster(1);
  fs::path marker = workDir_ / "seen-first";
  fs::path log = workDir_ / "stream.log";
  auto run = spawnMezzo({"run", "--master", master(), "--",
                         "echo first; while [ ! -e " + marker.string() + " ]; do sleep 0.1; done; echo second"},
                        log);
  ASSERT_TRUE(waitUntil([&] { return readFile(log).find("first\n") != std::string::npos; }, std::chrono::seconds(30)))
      << readFile(log);
  EXPECT_EQ(readFile(log).find("second"), std::string::npos);
  std::ofstream(marker).put('\n');
  ASSERT_TRUE(waitUntil([&] { return !run->running(); }, std::chrono::seconds(30))) << readFile(log);
  EXPECT_EQ(run->describeExit(), "exited with status 0") << readFile(log);
  std::string out = readFile(log);
  EXPECT_EQ(out.find("first\n"), out.rfind("first\n")) << out;  // each byte once
  EXPECT_NE(out.find("second\n"), std::string::npos) << out;
}

// The agent advertises a hostname nobody can resolve: the output is read
// through its IP.
TEST(CliTest, RunReadsTheOutputThroughTheAgentsIp) {
  if (!haveDaemons()) GTEST_SKIP() << "daemons not built";
  mezzo::testing::LocalCluster cluster(
      mezzo::testing::ClusterOptions().withAgentFlag("--hostname=mezzo-no-such-host.invalid"));
  CommandResult run = mezzo("run --master " + cluster.masterAddress() + " -- echo through-the-ip");
  EXPECT_EQ(run.exitCode, 0) << run.err;
  EXPECT_EQ(run.out, "through-the-ip\n") << run.err;
}

TEST(CliTest, RunRefusesBadResourcesAndNamesUnknownFlags) {
  CommandResult negative = mezzo("run --master 127.0.0.1:1 --cpus -1 -- true");
  EXPECT_EQ(negative.exitCode, 2);
  EXPECT_NE(negative.err.find("--cpus must be a non-negative number, not -1"), std::string::npos) << negative.err;
  CommandResult negativeMem = mezzo("run --master 127.0.0.1:1 --mem=-64 -- true");
  EXPECT_EQ(negativeMem.exitCode, 2);
  EXPECT_NE(negativeMem.err.find("--mem must be a non-negative number"), std::string::npos) << negativeMem.err;
  CommandResult notANumber = mezzo("run --master 127.0.0.1:1 --mem lots -- true");
  EXPECT_NE(notANumber.exitCode, 0);
  EXPECT_NE(notANumber.err.find("--mem"), std::string::npos) << notANumber.err;
  CommandResult unknown = mezzo("run --master 127.0.0.1:1 --cpu 1 -- true");
  EXPECT_NE(unknown.exitCode, 0);
  EXPECT_NE(unknown.err.find("--cpu"), std::string::npos) << unknown.err;
}

// A start that fails early (the port is taken) leaves no work directory.
TEST(CliTest, LocalLeavesNoWorkDirWhenThePortIsTaken) {
  int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  ASSERT_EQ(::listen(listener, 1), 0);
  socklen_t length = sizeof(address);
  ::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length);
  fs::path tmp = mezzo::testing::makeTempDir("mezzo-cli-tmpdir");
  CommandResult result = mezzo("local --port " + std::to_string(ntohs(address.sin_port)),
                               30, "TMPDIR=" + tmp.string());
  ::close(listener);
  EXPECT_EQ(result.exitCode, 1) << result.out << result.err;
  EXPECT_NE((result.out + result.err).find("is in use"), std::string::npos) << result.out << result.err;
  EXPECT_TRUE(fs::is_empty(tmp)) << fs::directory_iterator(tmp)->path();
  fs::remove_all(tmp);
}

}  // namespace
}  // namespace mezzo::cli
