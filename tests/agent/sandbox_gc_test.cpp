// Sandbox garbage collection with a real master and agent: the sandbox of a
// finished task stays readable, then goes after --gc_delay scaled by the
// disk's free fraction (with its emptied executor and framework directories); a full disk (--gc_disk_headroom)
// removes it at the next disk check; a restarted agent removes leftover
// sandboxes older than --gc_delay (dated by mtime) and keeps newer ones.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "harness/process.hpp"
#include "harness/scheduler_session.hpp"

namespace mezzo::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
namespace fs = std::filesystem;

class SandboxGcTest : public ::testing::Test {
 protected:
  // Runs `echo` to completion; returns its sandbox directory.
  std::string runToCompletion(ClusterOptions options) {
    cluster = std::make_unique<LocalCluster>(std::move(options));
    session = std::make_unique<SchedulerSession>(cluster->master());
    EXPECT_EQ(session->subscribe(subscribeCall("gc-tests", 0)), 200u);
    EXPECT_TRUE(session->waitForType(Event::SUBSCRIBED));
    auto offer = waitForOffer(*session);
    EXPECT_TRUE(offer);
    if (!offer) return "";
    EXPECT_EQ(session->call(launchCall(*offer, {commandTask("gc-task", *offer, "echo kept-for-a-while")}))->status,
              202u);
    auto statuses = session->followTask("gc-task", v1::TASK_FINISHED);
    EXPECT_TRUE(!statuses.empty() && statuses.back().state() == v1::TASK_FINISHED);
    std::string directory;
    waitUntil(
        [&] {
          json state = getJson(agent(), "/state");
          for (const json& framework : state["frameworks"]) {
            for (const json& executor : framework["completed_executors"]) directory = executor["directory"];
          }
          for (const json& framework : state["completed_frameworks"]) {
            for (const json& executor : framework["completed_executors"]) directory = executor["directory"];
          }
          return !directory.empty();
        },
        10s);
    return directory;
  }

  net::Endpoint agent() const { return net::Endpoint{"127.0.0.1", cluster->agentPort(0)}; }

  std::unique_ptr<LocalCluster> cluster;
  std::unique_ptr<SchedulerSession> session;
};

TEST_F(SandboxGcTest, SandboxIsReadableThenRemovedAfterTheDelay) {
  std::string directory = runToCompletion(
      ClusterOptions()
          .withAgentFlag("--gc_delay=3secs")
          .withAgentFlag("--gc_disk_headroom=0")
          .withAgentFlag("--disk_watch_interval=1secs"));
  ASSERT_FALSE(directory.empty());
  ASSERT_TRUE(fs::exists(directory));
  json read = getJson(agent(), "/files/read?path=" + directory + "/stdout&offset=0");
  EXPECT_EQ(read["data"], "kept-for-a-while\n") << "still there right after the task";
  const fs::path frameworkDir = fs::path(directory).parent_path().parent_path().parent_path().parent_path();
  ASSERT_EQ(frameworkDir.parent_path().filename(), "frameworks");

  EXPECT_TRUE(waitUntil([&] { return !fs::exists(directory); }, 15s)) << cluster->agentProcess(0).log();
  // Right after the sandbox (the agent may still be at it when we look).
  EXPECT_TRUE(waitUntil([&] { return !fs::exists(frameworkDir); }, 2s))
      << "emptied executor and framework directories go too";
  EXPECT_TRUE(waitUntil(
      [&] { return cluster->agentProcess(0).log().find("Removed sandbox") != std::string::npos; }, 2s));
}

TEST_F(SandboxGcTest, AFullDiskRemovesSandboxesAtTheNextCheck) {
  // Headroom 1.0: gc_delay x max(0, 1 - 1 - usage) = 0, whatever the usage.
  std::string directory = runToCompletion(ClusterOptions()
                                              .withAgentFlag("--gc_delay=1hrs")
                                              .withAgentFlag("--gc_disk_headroom=1.0")
                                              .withAgentFlag("--disk_watch_interval=1secs"));
  ASSERT_FALSE(directory.empty());
  EXPECT_TRUE(waitUntil([&] { return !fs::exists(directory); }, 15s)) << cluster->agentProcess(0).log();
}

TEST_F(SandboxGcTest, RestartedAgentRemovesOldLeftoversAndKeepsNewOnes) {
  std::string directory = runToCompletion(
      ClusterOptions()
          .withAgentFlag("--gc_delay=1days")
          .withAgentFlag("--gc_disk_headroom=0")
          .withAgentFlag("--disk_watch_interval=1secs"));
  ASSERT_FALSE(directory.empty());
  cluster->agentProcess(0).kill9();
  // A leftover of an old agent id, two days old, and the fresh sandbox.
  const fs::path workDir = cluster->workDir() / "agent0";
  const fs::path old = workDir / "slaves/OLD-S0/frameworks/F-old/executors/e1/runs/c1";
  fs::create_directories(old);
  std::ofstream(old / "stdout") << "old";
  fs::last_write_time(old, fs::file_time_type::clock::now() - std::chrono::hours(48));
  cluster->startAgent(0);
  ASSERT_TRUE(cluster->waitForAgents(1, 20s)) << cluster->agentProcess(0).log();
  EXPECT_TRUE(waitUntil([&] { return !fs::exists(old); }, 10s)) << cluster->agentProcess(0).log();
  EXPECT_FALSE(fs::exists(workDir / "slaves/OLD-S0/frameworks/F-old"));
  EXPECT_TRUE(fs::exists(directory)) << "a day has not passed for the recent one";
}

}  // namespace
}  // namespace mezzo::testing
