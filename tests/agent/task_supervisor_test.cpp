// The agent's task supervisor (`mezzo-launch --supervisor`) on its own, a
// real process spoken to over its Unix socket as the agent speaks to it
// (agent/supervisor_protocol.hpp): tasks start in their sandbox with their
// environment, their ends come back and land in status files, signals go to
// the task's group, what a task leaves in its group and session dies with
// it, a task that cannot be set up is flagged, bad requests are survived,
// and the supervisor outlives its agent while tasks run (a new connection
// lists them) and leaves when none is left.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "agent/launch_helper.hpp"
#include "agent/supervisor_protocol.hpp"
#include "harness/process.hpp"

extern char** environ;

namespace mezzo::testing {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;
namespace protocol = agent::supervisor;

std::string readText(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// One connection to the supervisor, as the agent holds it.
class SupervisorConnection {
 public:
  explicit SupervisorConnection(const std::string& socketPath) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    int directoryFd = -1;
    if (!protocol::socketAddress(socketPath, &address, &directoryFd) ||
        ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
    if (directoryFd >= 0) ::close(directoryFd);
  }
  ~SupervisorConnection() { close(); }
  SupervisorConnection(const SupervisorConnection&) = delete;
  SupervisorConnection& operator=(const SupervisorConnection&) = delete;

  bool connected() const { return fd_ >= 0; }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  void send(const protocol::Fields& fields) { sendRaw(protocol::encodeFrame(fields)); }
  void sendRaw(const std::string& bytes) {
    ASSERT_EQ(::write(fd_, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  }
  // The next frame, or an empty vector after `timeout` or at the end.
  protocol::Fields next(std::chrono::milliseconds timeout = 10s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    bool error = false;
    for (;;) {
      if (auto fields = reader_.next(&error)) return *fields;
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      pollfd entry{fd_, POLLIN, 0};
      if (error || left.count() <= 0 || ::poll(&entry, 1, static_cast<int>(left.count())) != 1) return {};
      char buffer[4096];
      const ssize_t n = ::read(fd_, buffer, sizeof(buffer));
      if (n <= 0) return {};
      reader_.append(buffer, static_cast<size_t>(n));
    }
  }

 private:
  int fd_ = -1;
  protocol::FrameReader reader_;
};

class TaskSupervisorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = makeTempDir("mezzo-task-supervisor");
    socketPath_ = (dir_ / "supervisor.sock").string();
    supervisor_ = startSupervisor();
    ASSERT_GT(supervisor_, 0);
  }
  void TearDown() override {
    if (supervisor_ > 0) {
      ::kill(supervisor_, SIGKILL);
      waitpid(supervisor_, nullptr, 0);
    }
    fs::remove_all(dir_);
  }

  // Binds the socket and starts the supervisor with it as descriptor 3.
  pid_t startSupervisor() {
    const int listener = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    int directoryFd = -1;
    EXPECT_TRUE(protocol::socketAddress(socketPath_, &address, &directoryFd));
    EXPECT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
    EXPECT_EQ(::listen(listener, 8), 0);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, listener, 3);
    posix_spawnattr_t attributes;
    posix_spawnattr_init(&attributes);
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSID);
    std::string helper = binDir() + "/mezzo-launch";
    std::string option = std::string(agent::launch::kSupervisorOption) + socketPath_;
    char* argv[] = {helper.data(), option.data(), nullptr};
    pid_t pid = -1;
    if (posix_spawn(&pid, helper.c_str(), &actions, &attributes, argv, environ) != 0) pid = -1;
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    ::close(listener);
    if (directoryFd >= 0) ::close(directoryFd);
    return pid;
  }

  protocol::LaunchMessage shellTask(const std::string& containerId, const std::string& script) {
    const fs::path sandbox = dir_ / containerId;
    fs::create_directories(sandbox);
    agent::launch::Request request;
    request.executable = "/bin/sh";
    request.argv = {"sh", "-c", script};
    return {.containerId = containerId,
            .statusFile = (dir_ / (containerId + ".status")).string(),
            .workingDirectory = sandbox.string(),
            .stdoutPath = (sandbox / "stdout").string(),
            .stderrPath = (sandbox / "stderr").string(),
            .launchArguments = agent::launch::toArguments(request),
            .environment = {"PATH=/usr/bin:/bin", "GREETING=hello from the agent"}};
  }

  // The `exited` frame of `containerId`: one read earlier, or the next
  // (others are kept for later calls); empty after a timeout.
  protocol::Fields exitOf(SupervisorConnection& connection, const std::string& containerId) {
    for (;;) {
      if (auto it = exits_.find(containerId); it != exits_.end()) return exits_.extract(it).mapped();
      protocol::Fields fields = connection.next();
      if (fields.empty()) return fields;
      if (fields[0] == protocol::kExited && fields.size() == 4) exits_[fields[1]] = fields;
    }
  }

  fs::path dir_;
  std::string socketPath_;
  pid_t supervisor_ = -1;
  std::map<std::string, protocol::Fields> exits_;
};

TEST_F(TaskSupervisorTest, StartsTasksInTheirSandboxesAndReportsHowTheyEnded) {
  SupervisorConnection agent(socketPath_);
  ASSERT_TRUE(agent.connected());
  EXPECT_EQ(agent.next(), protocol::Fields{std::string(protocol::kLive)});
  // Long-lived, it keeps no directory of the agent's busy.
  EXPECT_EQ(fs::read_symlink("/proc/" + std::to_string(supervisor_) + "/cwd"), fs::path("/"));
  agent.send(protocol::encodeLaunch(shellTask("first", "echo \"$GREETING in $(pwd)\"; echo oops >&2; exit 3")));
  agent.send(protocol::encodeLaunch(shellTask("second", "kill -TERM $$")));

  protocol::Fields started = agent.next();
  ASSERT_EQ(started.size(), 3u);
  EXPECT_EQ(started[0], protocol::kStarted);
  EXPECT_EQ(started[1], "first");
  EXPECT_GT(std::atoi(started[2].c_str()), 1);
  protocol::Fields first = exitOf(agent, "first");
  ASSERT_EQ(first.size(), 4u);
  EXPECT_EQ(first[2], std::to_string(3 << 8));
  EXPECT_EQ(first[3], "0");
  EXPECT_EQ(readText(dir_ / "first.status"), std::to_string(3 << 8) + "\n");
  EXPECT_EQ(readText(dir_ / "first" / "stdout"), "hello from the agent in " + (dir_ / "first").string() + "\n");
  EXPECT_EQ(readText(dir_ / "first" / "stderr"), "oops\n");

  protocol::Fields second = exitOf(agent, "second");
  ASSERT_EQ(second.size(), 4u);
  EXPECT_EQ(second[2], std::to_string(SIGTERM));
  auto end = protocol::parseStatusFileText(readText(dir_ / "second.status"));
  ASSERT_TRUE(end.has_value());
  EXPECT_TRUE(WIFSIGNALED(end->waitStatus) && WTERMSIG(end->waitStatus) == SIGTERM);
  EXPECT_FALSE(end->launchFailed);
}

// A process in the task's group and one that moved to a group of its own
// (same session; re-parented to the supervisor once the task is gone) both
// die when the task ends.
TEST_F(TaskSupervisorTest, WhatTheTaskLeftInItsGroupAndSessionIsKilled) {
  SupervisorConnection agent(socketPath_);
  ASSERT_FALSE(agent.next().empty());
  const std::string pids = (dir_ / "pids").string();
  agent.send(protocol::encodeLaunch(shellTask("leaver", "sleep 300 & echo $! >> " + pids +
                                                            "; perl -e 'setpgrp; exec qw(sleep 301)' & echo $! >> " +
                                                            pids + "; sleep 0.2; exit 0")));
  protocol::Fields exited = exitOf(agent, "leaver");
  ASSERT_EQ(exited.size(), 4u);
  EXPECT_EQ(exited[2], "0");
  std::istringstream list(readText(pids));
  int count = 0;
  for (pid_t pid = 0; list >> pid; ++count) {
    EXPECT_TRUE(waitUntil([&] { return ::kill(pid, 0) != 0; }, 5s)) << "process " << pid << " outlived its task";
  }
  EXPECT_EQ(count, 2);
}

// SIGTERM reaches the task (which traps it); SIGKILL ends one that ignores
// SIGTERM; a signal for an unknown container is ignored.
TEST_F(TaskSupervisorTest, SignalsGoToTheTasksProcessGroup) {
  SupervisorConnection agent(socketPath_);
  ASSERT_FALSE(agent.next().empty());
  const fs::path ready = dir_ / "ready";
  agent.send(protocol::encodeLaunch(
      shellTask("trapper", "trap 'exit 7' TERM; touch " + ready.string() + "; while true; do sleep 0.05; done")));
  ASSERT_TRUE(waitUntil([&] { return fs::exists(ready); }, 10s));
  agent.send({std::string(protocol::kSignal), "nobody", std::to_string(SIGTERM)});
  agent.send({std::string(protocol::kSignal), "trapper", std::to_string(SIGTERM)});
  EXPECT_EQ(exitOf(agent, "trapper").at(2), std::to_string(7 << 8));

  fs::remove(ready);
  agent.send(protocol::encodeLaunch(
      shellTask("stubborn", "trap '' TERM; touch " + ready.string() + "; while true; do sleep 0.05; done")));
  ASSERT_TRUE(waitUntil([&] { return fs::exists(ready); }, 10s));
  agent.send({std::string(protocol::kSignal), "stubborn", std::to_string(SIGTERM)});
  EXPECT_TRUE(agent.next(300ms).size() <= 3) << "a task that ignores SIGTERM ended on it";
  agent.send({std::string(protocol::kSignal), "stubborn", std::to_string(SIGKILL)});
  EXPECT_EQ(exitOf(agent, "stubborn").at(2), std::to_string(SIGKILL));
}

TEST_F(TaskSupervisorTest, ATaskThatCannotBeSetUpIsReportedAsSuch) {
  SupervisorConnection agent(socketPath_);
  ASSERT_FALSE(agent.next().empty());
  protocol::LaunchMessage launch = shellTask("homeless", "exit 0");
  launch.workingDirectory = (dir_ / "no such directory").string();
  agent.send(protocol::encodeLaunch(launch));
  protocol::Fields exited = exitOf(agent, "homeless");
  ASSERT_EQ(exited.size(), 4u);
  EXPECT_EQ(exited[3], "1");
  auto end = protocol::parseStatusFileText(readText(dir_ / "homeless.status"));
  ASSERT_TRUE(end.has_value());
  EXPECT_TRUE(end->launchFailed);
  EXPECT_NE(readText(dir_ / "homeless" / "stderr").find("no such directory"), std::string::npos);

  // A task exiting 125 by itself is no launch failure.
  agent.send(protocol::encodeLaunch(shellTask("exit125", "exit 125")));
  EXPECT_EQ(exitOf(agent, "exit125").at(3), "0");
}

// Malformed requests are ignored; an oversized frame drops the connection
// but not the supervisor, which still runs its task for the next agent.
TEST_F(TaskSupervisorTest, BadRequestsNeitherCrashItNorLoseTasks) {
  const fs::path ready = dir_ / "ready";
  pid_t taskPid = 0;
  {
    SupervisorConnection agent(socketPath_);
    ASSERT_FALSE(agent.next().empty());
    agent.send({std::string(protocol::kLaunch), "too-few-fields"});
    agent.send({std::string(protocol::kSignal), "nobody"});
    agent.send({"no-such-message"});
    agent.send(protocol::encodeLaunch(shellTask("steady", "touch " + ready.string() + "; sleep 60")));
    protocol::Fields started = agent.next();
    ASSERT_EQ(started.size(), 3u) << "the supervisor stopped answering";
    EXPECT_EQ(started[1], "steady");
    taskPid = std::atoi(started[2].c_str());
    const uint32_t huge = protocol::kMaxFrameBytes + 1;
    std::string frame(sizeof(huge), '\0');
    std::memcpy(frame.data(), &huge, sizeof(huge));
    agent.sendRaw(frame);
    EXPECT_TRUE(agent.next(5s).empty()) << "the connection stayed open";
  }
  SupervisorConnection again(socketPath_);
  ASSERT_TRUE(again.connected());
  EXPECT_EQ(again.next(), (protocol::Fields{std::string(protocol::kLive), "steady", std::to_string(taskPid)}));
  again.send({std::string(protocol::kSignal), "steady", std::to_string(SIGKILL)});
  EXPECT_EQ(exitOf(again, "steady").at(2), std::to_string(SIGKILL));
}

// The agent goes away while a task runs: the supervisor stays, a new
// connection hears of the live task and of its end; with no agent and no
// task left it exits and removes its socket.
TEST_F(TaskSupervisorTest, OutlivesItsAgentWhileTasksRunThenLeaves) {
  const fs::path ready = dir_ / "ready";
  pid_t taskPid = 0;
  {
    SupervisorConnection agent(socketPath_);
    ASSERT_FALSE(agent.next().empty());
    agent.send(protocol::encodeLaunch(shellTask(
        "survivor", "touch " + ready.string() + "; while [ -e " + ready.string() + " ]; do sleep 0.05; done")));
    protocol::Fields started = agent.next();
    ASSERT_EQ(started.size(), 3u);
    taskPid = std::atoi(started[2].c_str());
  }
  ASSERT_TRUE(waitUntil([&] { return fs::exists(ready); }, 10s));
  EXPECT_EQ(::kill(supervisor_, 0), 0) << "the supervisor left with its agent";

  SupervisorConnection again(socketPath_);
  ASSERT_TRUE(again.connected());
  EXPECT_EQ(again.next(), (protocol::Fields{std::string(protocol::kLive), "survivor", std::to_string(taskPid)}));
  fs::remove(ready);
  EXPECT_EQ(exitOf(again, "survivor").at(2), "0");
  again.close();
  int status = -1;
  ASSERT_TRUE(waitUntil([&] { return waitpid(supervisor_, &status, WNOHANG) == supervisor_; }, 10s));
  supervisor_ = -1;
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_FALSE(fs::exists(socketPath_));
}

}  // namespace
}  // namespace mezzo::testing
