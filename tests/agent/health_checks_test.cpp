// Task health checks end to end: a real master, agent and executors, tasks
// that serve HTTP/TCP on loopback (tests/agent/helpers/health_server.cpp)
// or toggle a file, and a wire-level scheduler that watches the `healthy`
// updates and the kill that follows consecutive failures. Also the master's
// validation of health checks.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "harness/process.hpp"
#include "harness/scheduler_session.hpp"
#include "harness/task_updates.hpp"
#include "mezzo/common/task_states.hpp"

namespace mezzo::testing {
namespace {

using namespace std::chrono_literals;

// Updates of every task until all of `ids` are terminal, or the timeout.
Seen collectUntilTerminal(SchedulerSession& session, const std::vector<std::string>& ids) {
  return collectUpdates(
      session, [&](const Seen& seen) { return allIn(seen, ids, isTerminalState); }, 20s);
}

bool isHealthUpdate(const v1::TaskStatus& status) {
  return status.state() == v1::TASK_RUNNING && status.has_healthy() &&
         status.reason() == v1::TaskStatus::REASON_TASK_HEALTH_CHECK_STATUS_UPDATED;
}

// What Mesos's executors send for a task whose check passes, then fails
// `failures` times in a row: TASK_RUNNING, TASK_RUNNING healthy=true, one
// TASK_RUNNING healthy=false per failure, then TASK_KILLED healthy=false.
void expectHealthyThenKilled(const std::vector<v1::TaskStatus>& updates, uint32_t failures) {
  ASSERT_FALSE(updates.empty());
  std::vector<bool> health;
  bool plainRunning = false;
  for (const v1::TaskStatus& status : updates) {
    if (isHealthUpdate(status)) {
      EXPECT_TRUE(plainRunning) << "a health update came before TASK_RUNNING";
      health.push_back(status.healthy());
    } else if (status.state() == v1::TASK_RUNNING) {
      plainRunning = true;
      EXPECT_FALSE(status.has_healthy());
    }
  }
  const std::vector<bool> expected = [&] {
    std::vector<bool> out = {true};
    out.insert(out.end(), failures, false);
    return out;
  }();
  EXPECT_EQ(health, expected);
  const v1::TaskStatus& last = updates.back();
  EXPECT_EQ(last.state(), v1::TASK_KILLED) << last.message();
  ASSERT_TRUE(last.has_healthy()) << "the end of a task killed by its health check says it was unhealthy";
  EXPECT_FALSE(last.healthy());
  EXPECT_EQ(last.source(), v1::TaskStatus::SOURCE_EXECUTOR);
}

v1::HealthCheck fastCheck(v1::HealthCheck::Type type, uint32_t consecutiveFailures = 3) {
  v1::HealthCheck check;
  check.set_type(type);
  check.set_delay_seconds(0);
  check.set_interval_seconds(0.25);
  check.set_timeout_seconds(2);
  check.set_consecutive_failures(consecutiveFailures);
  // Covers the helper's start-up: failures before the first success are ignored.
  check.set_grace_period_seconds(10);
  return check;
}

std::string healthServer(uint16_t port, double healthySeconds, const std::string& after) {
  return binDir() + "/mezzo-test-health-server " + std::to_string(port) + " " + std::to_string(healthySeconds) + " " +
         after;
}

class HealthChecksTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster = std::make_unique<LocalCluster>();
    session = std::make_unique<SchedulerSession>(cluster->master());
    ASSERT_EQ(session->subscribe(subscribeCall("health-check-tests")), 200u);
    ASSERT_TRUE(session->waitForType(Event::SUBSCRIBED));
  }

  std::unique_ptr<LocalCluster> cluster;
  std::unique_ptr<SchedulerSession> session;
};

TEST_F(HealthChecksTest, HttpCheckReportsHealthThenKillsTheTaskAfterConsecutiveFailures) {
  auto offer = waitForOffer(*session);
  ASSERT_TRUE(offer);
  const uint16_t port = freePort();
  v1::TaskInfo task = commandTask("web", *offer, healthServer(port, 1.5, "http500"));
  *task.mutable_health_check() = fastCheck(v1::HealthCheck::HTTP);
  task.mutable_health_check()->mutable_http()->set_port(port);
  task.mutable_health_check()->mutable_http()->set_path("/health");
  task.mutable_kill_policy()->mutable_grace_period()->set_nanoseconds(1'000'000'000);
  ASSERT_EQ(session->call(launchCall(*offer, {task}))->status, 202u);

  Seen seen = collectUntilTerminal(*session, {"web"});
  expectHealthyThenKilled(seen["web"], 3);

  // The master's /state shows the check and the task's last health.
  nlohmann::json web;
  std::string state;
  for (int attempt = 0; attempt < 50 && web.is_null(); ++attempt) {
    net::ClientRequest request;
    request.method = boost::beast::http::verb::get;
    request.target = "/state";
    auto response = net::httpRequestSync(cluster->master(), request);
    ASSERT_TRUE(response);
    state = response->body;
    const nlohmann::json parsed = nlohmann::json::parse(state);
    for (const auto& framework : parsed["frameworks"]) {
      for (const char* list : {"tasks", "completed_tasks"}) {
        for (const auto& task : framework[list]) {
          if (task["id"] == "web" && task["state"] == "TASK_KILLED") web = task;
        }
      }
    }
    if (web.is_null()) std::this_thread::sleep_for(100ms);
  }
  ASSERT_FALSE(web.is_null()) << "the master does not show the killed task: " << state;
  EXPECT_EQ(web["health_check"]["type"], "HTTP");
  EXPECT_EQ(web["health_check"]["http"]["port"], port);
  EXPECT_EQ(web["health_check"]["consecutive_failures"], 3);
  ASSERT_FALSE(web["statuses"].empty());
  EXPECT_EQ(web["statuses"].back()["healthy"], false);
}

TEST_F(HealthChecksTest, TcpCheckSeesTheListenerGoAway) {
  auto offer = waitForOffer(*session);
  ASSERT_TRUE(offer);
  const uint16_t port = freePort();
  v1::TaskInfo task = commandTask("tcp", *offer, healthServer(port, 1.5, "close"));
  *task.mutable_health_check() = fastCheck(v1::HealthCheck::TCP, 2);
  task.mutable_health_check()->mutable_tcp()->set_port(port);
  ASSERT_EQ(session->call(launchCall(*offer, {task}))->status, 202u);

  Seen seen = collectUntilTerminal(*session, {"tcp"});
  expectHealthyThenKilled(seen["tcp"], 2);
}

// Under the default executor: a COMMAND check run in the shared sandbox;
// the unhealthy task's group is killed with it.
TEST_F(HealthChecksTest, CommandCheckInATaskGroupKillsTheGroup) {
  auto offer = waitForOffer(*session);
  ASSERT_TRUE(offer);
  v1::TaskInfo checked = commandTask("checked", *offer, "touch healthy && sleep 1.5 && rm healthy && exec sleep 60");
  *checked.mutable_health_check() = fastCheck(v1::HealthCheck::COMMAND);
  checked.mutable_health_check()->mutable_command()->set_value("test -f healthy");
  v1::TaskInfo sibling = commandTask("sibling", *offer, "exec sleep 60");
  ASSERT_EQ(
      session->call(launchGroupCall(*offer, defaultExecutor("checked-group", *offer), {checked, sibling}))->status,
      202u);

  Seen seen = collectUntilTerminal(*session, {"checked", "sibling"});
  expectHealthyThenKilled(seen["checked"], 3);
  ASSERT_FALSE(seen["sibling"].empty());
  EXPECT_EQ(seen["sibling"].back().state(), v1::TASK_KILLED);
  EXPECT_FALSE(seen["sibling"].back().has_healthy()) << "only the checked task was unhealthy";
}

bool isCheckUpdate(const v1::TaskStatus& status) {
  return status.state() == v1::TASK_RUNNING && status.reason() == v1::TaskStatus::REASON_TASK_CHECK_STATUS_UPDATED;
}

// A general check reports each change of its result and never kills: a
// COMMAND check under the command executor sees the file appear.
TEST_F(HealthChecksTest, GeneralCommandCheckReportsEachChange) {
  auto offer = waitForOffer(*session);
  ASSERT_TRUE(offer);
  v1::TaskInfo task = commandTask("ready", *offer, "sleep 1 && touch ready && exec sleep 60");
  v1::CheckInfo* check = task.mutable_check();
  check->set_type(v1::CheckInfo::COMMAND);
  check->mutable_command()->mutable_command()->set_value("test -f ready");
  check->set_delay_seconds(0);
  check->set_interval_seconds(0.2);
  ASSERT_EQ(session->call(launchCall(*offer, {task}))->status, 202u);

  auto sawExitCode = [](int code) {
    return [code](const Seen& seen) {
      auto it = seen.find("ready");
      if (it == seen.end()) return false;
      for (const v1::TaskStatus& status : it->second) {
        if (isCheckUpdate(status) && status.check_status().command().exit_code() == code) return true;
      }
      return false;
    };
  };
  Seen seen = collectUpdates(*session, sawExitCode(0), 20s);
  ASSERT_TRUE(sawExitCode(0)(seen));
  std::vector<int> exitCodes;
  for (const v1::TaskStatus& status : seen["ready"]) {
    ASSERT_TRUE(status.has_check_status()) << "every update of a checked task has a check status";
    EXPECT_EQ(status.check_status().type(), v1::CheckInfo::COMMAND);
    if (isCheckUpdate(status)) exitCodes.push_back(status.check_status().command().exit_code());
  }
  EXPECT_EQ(exitCodes, (std::vector<int>{1, 0})) << "one update per change of the result";
  EXPECT_FALSE(seen["ready"].front().check_status().command().has_exit_code()) << "empty before the first result";

  Call kill;
  kill.set_type(Call::KILL);
  kill.mutable_kill()->mutable_task_id()->set_value("ready");
  *kill.mutable_kill()->mutable_agent_id() = offer->agent_id();
  ASSERT_EQ(session->call(kill)->status, 202u);
  seen = collectUntilTerminal(*session, {"ready"});
  ASSERT_FALSE(seen["ready"].empty());
  EXPECT_EQ(seen["ready"].back().state(), v1::TASK_KILLED);
  EXPECT_FALSE(seen["ready"].back().has_healthy());
}

// Under the default executor: a TCP check's `succeeded` follows the
// listener, and the task keeps running.
TEST_F(HealthChecksTest, GeneralTcpCheckInATaskGroupFollowsTheListener) {
  auto offer = waitForOffer(*session);
  ASSERT_TRUE(offer);
  const uint16_t port = freePort();
  v1::TaskInfo task = commandTask("listener", *offer, healthServer(port, 1.5, "close"));
  v1::CheckInfo* check = task.mutable_check();
  check->set_type(v1::CheckInfo::TCP);
  check->mutable_tcp()->set_port(port);
  check->set_delay_seconds(0);
  check->set_interval_seconds(0.2);
  ASSERT_EQ(session->call(launchGroupCall(*offer, defaultExecutor("tcp-check", *offer), {task}))->status, 202u);

  auto results = [](const Seen& seen) {
    std::vector<bool> out;
    auto it = seen.find("listener");
    if (it == seen.end()) return out;
    for (const v1::TaskStatus& status : it->second) {
      if (isCheckUpdate(status) && status.check_status().tcp().has_succeeded()) {
        out.push_back(status.check_status().tcp().succeeded());
      }
    }
    return out;
  };
  Seen seen = collectUpdates(
      *session, [&](const Seen& s) { return results(s).size() >= 2 && !results(s).back(); }, 20s);
  std::vector<bool> succeeded = results(seen);
  ASSERT_FALSE(succeeded.empty());
  // The helper may not listen yet at the first probe: false, true, false is fine too.
  if (!succeeded.front()) succeeded.erase(succeeded.begin());
  EXPECT_EQ(succeeded, (std::vector<bool>{true, false}));
  EXPECT_EQ(seen["listener"].back().state(), v1::TASK_RUNNING) << "a general check never kills";
}

TEST_F(HealthChecksTest, MasterRefusesInvalidHealthChecks) {
  auto offer = waitForOffer(*session);
  ASSERT_TRUE(offer);

  // HTTPCheckInfo.port is required: a check without it does not even parse,
  // and the call changes nothing (the offer stays usable).
  v1::TaskInfo portless = commandTask("portless", *offer, "sleep 60");
  *portless.mutable_health_check() = fastCheck(v1::HealthCheck::HTTP);
  portless.mutable_health_check()->mutable_http()->set_path("/");
  auto response = session->call(launchCall(*offer, {portless}));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 400u) << response->body;

  std::map<std::string, v1::HealthCheck> checks;
  checks["http-without-http"].set_type(v1::HealthCheck::HTTP);
  checks["tcp-without-tcp"].set_type(v1::HealthCheck::TCP);
  checks["command-without-command"].set_type(v1::HealthCheck::COMMAND);
  checks["no-type"].mutable_tcp()->set_port(80);
  checks["negative-interval"] = fastCheck(v1::HealthCheck::TCP);
  checks["negative-interval"].mutable_tcp()->set_port(80);
  checks["negative-interval"].set_interval_seconds(-1);
  checks["relative-path"] = fastCheck(v1::HealthCheck::HTTP);
  checks["relative-path"].mutable_http()->set_port(80);
  checks["relative-path"].mutable_http()->set_path("health");
  std::vector<v1::TaskInfo> tasks;
  // A general check is validated too.
  tasks.push_back(commandTask("bad-general-check", *offer, "sleep 60", "cpus:0.01;mem:1"));
  tasks.back().mutable_check()->set_type(v1::CheckInfo::HTTP);
  std::vector<std::string> ids;
  for (const auto& [id, check] : checks) {
    tasks.push_back(commandTask(id, *offer, "sleep 60", "cpus:0.01;mem:1"));
    *tasks.back().mutable_health_check() = check;
    ids.push_back(id);
  }
  ASSERT_EQ(session->call(launchCall(*offer, tasks))->status, 202u);
  ids.push_back("bad-general-check");
  Seen seen = collectUntilTerminal(*session, ids);
  ids.pop_back();
  ASSERT_FALSE(seen["bad-general-check"].empty());
  EXPECT_EQ(seen["bad-general-check"].front().state(), v1::TASK_ERROR);
  EXPECT_EQ(seen["bad-general-check"].front().message(),
            "Task uses invalid check: Expecting 'http' to be set for HTTP check");
  for (const std::string& id : ids) {
    ASSERT_EQ(seen[id].size(), 1u) << id;
    const v1::TaskStatus& status = seen[id].front();
    EXPECT_EQ(status.state(), v1::TASK_ERROR) << id;
    EXPECT_EQ(status.reason(), v1::TaskStatus::REASON_TASK_INVALID) << id;
    EXPECT_TRUE(status.message().starts_with("Task uses invalid health check: ")) << id << ": " << status.message();
  }
  EXPECT_EQ(seen["http-without-http"].front().message(),
            "Task uses invalid health check: Expecting 'http' to be set for HTTP health check");
}

}  // namespace
}  // namespace mezzo::testing
