#include "agent/process.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace mezzo::agent {
namespace {

namespace fs = std::filesystem;

std::string readFile(const std::string& path) {
  std::ifstream file(path);
  std::stringstream out;
  out << file.rdbuf();
  return out.str();
}

int waitFor(pid_t pid) {
  int status = 0;
  EXPECT_EQ(waitpid(pid, &status, 0), pid);
  return status;
}

TEST(ProcessTest, CommandLines) {
  v1::CommandInfo shell;
  shell.set_value("echo hi");
  auto line = commandLine(shell);
  ASSERT_TRUE(line);
  EXPECT_EQ(line->first, "/bin/sh");
  EXPECT_EQ(line->second, (std::vector<std::string>{"sh", "-c", "echo hi"}));

  v1::CommandInfo plain;
  plain.set_shell(false);
  plain.set_value("/bin/echo");
  plain.add_arguments("echo");
  plain.add_arguments("a b");
  line = commandLine(plain);
  ASSERT_TRUE(line);
  EXPECT_EQ(line->first, "/bin/echo");
  EXPECT_EQ(line->second, (std::vector<std::string>{"echo", "a b"}));

  plain.clear_arguments();
  line = commandLine(plain);
  ASSERT_TRUE(line);
  EXPECT_EQ(line->second, std::vector<std::string>{"/bin/echo"});

  v1::CommandInfo empty;
  empty.set_shell(false);
  EXPECT_FALSE(commandLine(empty));
}

TEST(ProcessTest, SpawnRedirectsOutputSetsCwdAndEnvironment) {
  char pattern[] = "/tmp/mezzo-process-test-XXXXXX";
  ASSERT_NE(mkdtemp(pattern), nullptr);
  std::string dir = pattern;
  SpawnOptions options;
  options.path = "/bin/sh";
  options.argv = {"sh", "-c", "echo $GREETING; pwd; echo oops >&2; exit 3"};
  options.environment = mergedEnvironment({{"GREETING", "hello"}});
  options.workingDirectory = dir;
  options.stdoutPath = dir + "/stdout";
  options.stderrPath = dir + "/stderr";
  options.grouping = SpawnOptions::Grouping::kNewSession;
  auto pid = spawnProcess(options);
  ASSERT_TRUE(pid) << pid.error();
  int status = waitFor(*pid);
  EXPECT_EQ(describeWaitStatus(status), "exited with status 3");
  EXPECT_EQ(readFile(dir + "/stdout"), "hello\n" + fs::canonical(dir).string() + "\n");
  EXPECT_EQ(readFile(dir + "/stderr"), "oops\n");
  fs::remove_all(dir);
}

TEST(ProcessTest, SpawnFailureIsReported) {
  SpawnOptions options;
  options.path = "/nonexistent/binary";
  options.argv = {"binary"};
  auto pid = spawnProcess(options);
  EXPECT_FALSE(pid);
}

TEST(ProcessTest, SignalSessionReachesOtherProcessGroups) {
  // The session leader starts a child in its own process group (as the
  // command executor does with its task); killing the session gets both.
  SpawnOptions options;
  options.path = "/bin/sh";
  options.argv = {"sh", "-c", "perl -e 'setpgrp(0, 0); sleep 60' & sleep 60"};
  options.environment = mergedEnvironment({});
  options.grouping = SpawnOptions::Grouping::kNewSession;
  auto pid = spawnProcess(options);
  ASSERT_TRUE(pid) << pid.error();
  for (int i = 0; i < 100 && signalSession(*pid, 0) < 3; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_TRUE(sessionAlive(*pid));
  EXPECT_GE(signalSession(*pid, SIGKILL), 2);
  int status = waitFor(*pid);
  EXPECT_EQ(describeWaitStatus(status), "terminated with signal SIGKILL");
  for (int i = 0; i < 100 && sessionAlive(*pid); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_FALSE(sessionAlive(*pid));
}

}  // namespace
}  // namespace mezzo::agent
