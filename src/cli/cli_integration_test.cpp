// The `mezzo` binary end to end: `mezzo local` (with and without
// --run-sample), `mezzo run` against it, and the list commands. Needs
// mezzo, mezzo-master, mezzo-agent and mezzo-executor in $MEZZO_BIN_DIR.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "cli/process.hpp"
#include "ha/zookeeper_server_setup.hpp"
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

// Runs `mezzo ARGS` through the shell, with a hard time limit.
CommandResult mezzo(const std::string& args, int limitSeconds = 60) {
  static int counter = 0;
  fs::path errFile = fs::temp_directory_path() /
                     ("mezzo-cli-test-" + std::to_string(::getpid()) + "-" + std::to_string(++counter) + ".err");
  std::string command =
      "timeout -s KILL " + std::to_string(limitSeconds) + " " + binDir() + "/mezzo " + args + " 2>" + errFile.string();
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

}  // namespace
}  // namespace mezzo::cli
