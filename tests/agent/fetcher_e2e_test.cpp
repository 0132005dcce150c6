// CommandInfo.URIs end to end: a real master and agent run command tasks
// whose URIs come from an HTTP server in this test; the task commands read
// what the agent fetched into their sandbox. Also: a cached URI downloaded
// once for two tasks, a missing URI failing its task before any executor
// starts, a kill while fetching, the URIs of a task group (a local file
// and a download) in its default executor's sandbox, those of later groups
// for the running executor (fetched before the group reaches it; a kill
// while fetching ends the group without a launch), and the agent's fetcher
// metrics.
#include <gtest/gtest.h>

#include <fstream>

#include "harness/process.hpp"
#include "harness/scheduler_session.hpp"
#include "harness/task_updates.hpp"
#include "http_file_server.hpp"
#include "mezzo/common/task_states.hpp"
#include "test_archive.hpp"

namespace mezzo::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using testhelpers::ArchiveFormat;
using testhelpers::HttpFileServer;
using testhelpers::makeArchive;

v1::CommandInfo::URI* addUri(v1::TaskInfo& task, const std::string& value) {
  v1::CommandInfo::URI* uri = task.mutable_command()->add_uris();
  uri->set_value(value);
  return uri;
}

class FetcherE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server.serve("/tool", "#!/bin/sh\necho tool-ran\n");
    server.serve("/bundle.tar.gz", makeArchive(ArchiveFormat::kTarGz, {{"data/file.txt", "fetched-content\n"}}));
    server.serve("/cached.zip", makeArchive(ArchiveFormat::kZip, {{"cached/file.txt", "from-the-cache\n"}}));
    server.stall("/never-ends.bin");
    cluster = std::make_unique<LocalCluster>();
    session = std::make_unique<SchedulerSession>(cluster->master());
    ASSERT_EQ(
        session->subscribe(subscribeCall("fetcher-tests", 0, {v1::FrameworkInfo::Capability::TASK_KILLING_STATE})),
        200u);
    ASSERT_TRUE(session->waitForType(Event::SUBSCRIBED));
  }

  v1::Offer offer() {
    auto offered = waitForOffer(*session);
    EXPECT_TRUE(offered) << "no offer";
    return offered ? *offered : v1::Offer();
  }

  // Launches `task` (built for `offer`) and follows it to a terminal state
  // (acknowledging every update); all its updates, in order.
  std::vector<v1::TaskStatus> run(const v1::Offer& offer, const v1::TaskInfo& task) {
    auto accepted = session->call(launchCall(offer, {task}));
    EXPECT_TRUE(accepted && accepted->status == 202u);
    std::vector<v1::TaskStatus> statuses;
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (std::chrono::steady_clock::now() < deadline) {
      auto status = session->waitForUpdate(task.task_id().value(), 1s);
      if (!status) continue;
      session->acknowledge(*status);
      statuses.push_back(*status);
      if (isTerminalState(status->state())) return statuses;
    }
    ADD_FAILURE() << "task " << task.task_id().value() << " did not end";
    return statuses;
  }

  std::string sandboxFile(const std::string& taskId, const std::string& file) {
    json read = getJson(net::Endpoint{"127.0.0.1", cluster->agentPort(0)},
                        "/files/read?path=/frameworks/" + session->frameworkId() + "/executors/" + taskId +
                            "/runs/latest/" + file + "&offset=0");
    return read.is_object() ? read["data"].get<std::string>() : std::string();
  }

  json agentMetrics() { return getJson(net::Endpoint{"127.0.0.1", cluster->agentPort(0)}, "/metrics/snapshot"); }

  HttpFileServer server;
  std::unique_ptr<LocalCluster> cluster;
  std::unique_ptr<SchedulerSession> session;
};

TEST_F(FetcherE2eTest, ATaskReadsWhatWasFetchedIntoItsSandbox) {
  v1::Offer offered = offer();
  v1::TaskInfo task = commandTask("fetched", offered, "test -x ./tool && ./tool && cat data/file.txt");
  addUri(task, server.url("/tool"))->set_executable(true);
  addUri(task, server.url("/bundle.tar.gz"));
  auto statuses = run(offered, task);
  ASSERT_FALSE(statuses.empty());
  EXPECT_EQ(statuses.back().state(), v1::TASK_FINISHED) << statuses.back().message();
  EXPECT_NE(sandboxFile("fetched", "stdout").find("tool-ran\nfetched-content\n"), std::string::npos)
      << sandboxFile("fetched", "stdout");
  EXPECT_NE(sandboxFile("fetched", "stderr").find("Fetched '" + server.url("/tool") + "'"), std::string::npos)
      << "the fetch is logged in the sandbox";
  EXPECT_EQ(server.requests("/tool"), 1);
}

TEST_F(FetcherE2eTest, ACachedUriIsDownloadedOnceForTwoTasks) {
  for (const char* id : {"cached-1", "cached-2"}) {
    v1::Offer offered = offer();
    v1::TaskInfo task = commandTask(id, offered, "cat cached/file.txt");
    addUri(task, server.url("/cached.zip"))->set_cache(true);
    auto statuses = run(offered, task);
    ASSERT_FALSE(statuses.empty());
    EXPECT_EQ(statuses.back().state(), v1::TASK_FINISHED) << id << ": " << statuses.back().message();
    EXPECT_EQ(sandboxFile(id, "stdout"), "from-the-cache\n") << id;
  }
  EXPECT_EQ(server.requests("/cached.zip"), 1) << "the second task's copy came from the agent's cache";
  json metrics = agentMetrics();
  EXPECT_EQ(metrics["containerizer/fetcher/task_fetches_succeeded"], 2) << metrics.dump();
  EXPECT_GT(metrics["containerizer/fetcher/cache_size_used_bytes"].get<int64_t>(), 0) << metrics.dump();
  EXPECT_EQ(metrics["containerizer/fetcher/cache_size_total_bytes"], int64_t{2} << 30) << metrics.dump();
}

TEST_F(FetcherE2eTest, AMissingUriFailsTheTaskWithoutStartingAnExecutor) {
  v1::Offer offered = offer();
  v1::TaskInfo task = commandTask("missing", offered, "true");
  addUri(task, server.url("/no-such-file.tar.gz"));
  auto statuses = run(offered, task);
  ASSERT_FALSE(statuses.empty());
  ASSERT_EQ(statuses.size(), 1u) << "no STARTING or RUNNING: nothing was launched";
  const v1::TaskStatus& failed = statuses.back();
  EXPECT_EQ(failed.state(), v1::TASK_FAILED);
  EXPECT_EQ(failed.source(), v1::TaskStatus::SOURCE_AGENT);
  EXPECT_EQ(failed.reason(), v1::TaskStatus::REASON_CONTAINER_LAUNCH_FAILED);
  EXPECT_NE(failed.message().find("Failed to launch container: Failed to fetch URI '" +
                                  server.url("/no-such-file.tar.gz") + "': HTTP 404"),
            std::string::npos)
      << failed.message();
  EXPECT_EQ(sandboxFile("missing", "stdout"), "") << "no executor wrote anything";
  json metrics = agentMetrics();
  EXPECT_EQ(metrics["containerizer/fetcher/task_fetches_failed"], 1) << metrics.dump();
}

TEST_F(FetcherE2eTest, AKillWhileFetchingEndsTheTaskWithoutALaunch) {
  v1::Offer offered = offer();
  v1::TaskInfo task = commandTask("slow", offered, "true");
  addUri(task, server.url("/never-ends.bin"));
  auto accepted = session->call(launchCall(offered, {task}));
  ASSERT_TRUE(accepted && accepted->status == 202u);
  ASSERT_TRUE(waitUntil([&] { return server.requests("/never-ends.bin") > 0; }, 15s)) << "the fetch never began";
  ASSERT_EQ(session->call(killCall("slow", offered))->status, 202u);
  auto statuses = session->followTask("slow", v1::TASK_KILLED, 20s);
  ASSERT_FALSE(statuses.empty());
  EXPECT_EQ(statuses.size(), 1u) << "nothing was launched";
  EXPECT_EQ(statuses.back().state(), v1::TASK_KILLED);
  EXPECT_EQ(statuses.back().source(), v1::TaskStatus::SOURCE_AGENT);
  EXPECT_EQ(statuses.back().reason(), v1::TaskStatus::REASON_TASK_KILLED_DURING_LAUNCH);
  json metrics = agentMetrics();
  EXPECT_EQ(metrics["containerizer/fetcher/task_fetches_failed"], 0) << "a cancelled fetch is not a failure";
}

TEST_F(FetcherE2eTest, TheUrisOfATaskGroupAreFetchedIntoItsExecutorsSandbox) {
  const std::filesystem::path local = cluster->workDir() / "local-input.txt";
  std::ofstream(local) << "from-a-local-file\n";
  v1::Offer offered = offer();
  v1::TaskInfo first = commandTask("group-local", offered, "cat local-input.txt");
  addUri(first, "file://" + local.string());
  v1::TaskInfo second = commandTask("group-http", offered, "cat data/file.txt");
  addUri(second, server.url("/bundle.tar.gz"));
  ASSERT_EQ(
      session->call(launchGroupCall(offered, defaultExecutor("fetching-group", offered), {first, second}))->status,
      202u);
  const std::vector<std::string> ids{"group-local", "group-http"};
  Seen seen = collectUpdates(*session, [&](const Seen& s) { return allIn(s, ids, isTerminalState); });
  for (const std::string& id : ids) {
    ASSERT_FALSE(seen[id].empty()) << id;
    EXPECT_EQ(seen[id].back().state(), v1::TASK_FINISHED) << id << ": " << seen[id].back().message();
  }
  EXPECT_EQ(sandboxFile("fetching-group", "tasks/group-local/stdout"), "from-a-local-file\n");
  EXPECT_EQ(sandboxFile("fetching-group", "tasks/group-http/stdout"), "fetched-content\n");
}

// Groups launched on a default executor that already runs: each has its
// URIs fetched into the executor's sandbox before the executor gets it; a
// task killed while its group fetches ends (with its group) without a
// launch, and the executor goes on.
TEST_F(FetcherE2eTest, TheUrisOfALaterGroupAreFetchedBeforeItReachesTheRunningExecutor) {
  v1::Offer offered = offer();
  v1::TaskInfo resident = commandTask("resident", offered, "sleep 60", "cpus:0.1;mem:16");
  Call first = launchGroupCall(offered, defaultExecutor("growing", offered), {resident});
  first.mutable_accept()->mutable_filters()->set_refuse_seconds(0);  // the rest comes back at once
  ASSERT_EQ(session->call(first)->status, 202u);
  // The next offer, noting on the way whether the executor runs its task.
  bool residentRunning = false;
  auto next = session->waitFor(
      [&](const Event& event) {
        if (event.type() == Event::UPDATE && event.update().status().task_id().value() == "resident" &&
            event.update().status().state() == v1::TASK_RUNNING) {
          residentRunning = true;
        }
        return event.type() == Event::OFFERS && event.offers().offers_size() > 0;
      },
      15s);
  ASSERT_TRUE(next) << "no second offer";
  if (!residentRunning) {
    ASSERT_FALSE(session->followTask("resident", v1::TASK_RUNNING).empty());
  }

  offered = next->offers().offers(0);
  v1::TaskInfo late = commandTask("late", offered, "cat data/file.txt", "cpus:0.1;mem:16");
  addUri(late, server.url("/bundle.tar.gz"));
  v1::TaskInfo stuck = commandTask("stuck", offered, "true", "cpus:0.1;mem:16");
  addUri(stuck, server.url("/never-ends.bin"));
  v1::TaskInfo sibling = commandTask("sibling", offered, "true", "cpus:0.1;mem:16");
  Call launch = launchGroupCall(offered, defaultExecutor("growing", offered), {late});
  *launch.mutable_accept()->add_operations() =
      launchGroupCall(offered, defaultExecutor("growing", offered), {stuck, sibling}).accept().operations(0);
  ASSERT_EQ(session->call(launch)->status, 202u);

  ASSERT_TRUE(waitUntil([&] { return server.requests("/never-ends.bin") > 0; }, 15s)) << "the fetch never began";
  ASSERT_EQ(session->call(killCall("stuck", offered))->status, 202u);
  const std::vector<std::string> ids{"late", "stuck", "sibling"};
  Seen seen = collectUpdates(*session, [&](const Seen& s) { return allIn(s, ids, isTerminalState); });
  ASSERT_FALSE(seen["late"].empty());
  EXPECT_EQ(seen["late"].back().state(), v1::TASK_FINISHED) << seen["late"].back().message();
  EXPECT_EQ(sandboxFile("growing", "tasks/late/stdout"), "fetched-content\n");
  for (const char* id : {"stuck", "sibling"}) {
    ASSERT_EQ(seen[id].size(), 1u) << id << " was launched";
    EXPECT_EQ(seen[id].back().state(), v1::TASK_KILLED) << id;
    EXPECT_EQ(seen[id].back().reason(), v1::TaskStatus::REASON_TASK_KILLED_DURING_LAUNCH) << id;
  }
  auto residentUpdate = session->waitForUpdate("resident", 300ms);
  EXPECT_FALSE(residentUpdate && isTerminalState(residentUpdate->state())) << "the executor did not go on";
}

}  // namespace
}  // namespace mezzo::testing
