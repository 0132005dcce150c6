// Three masters elect a leader through a real ZooKeeper: standbys redirect
// API calls to the leader (307, Location //host:port/path), /master/redirect
// points at it, and when the leader is killed a standby takes over.
#include <gtest/gtest.h>

#include <csignal>
#include <map>
#include <set>

#include "harness/ha_masters.hpp"
#include "harness/process.hpp"
#include "harness/scheduler_session.hpp"
#include "mezzo/client/scheduler.hpp"

namespace mezzo::testing {
namespace {

net::ClientResponse post(const net::Endpoint& endpoint, const std::string& target, const std::string& body) {
  net::ClientRequest request;
  request.target = target;
  request.headers = {{"Content-Type", "application/json"}};
  request.body = body;
  auto response = net::httpRequestSync(endpoint, request);
  return response ? *response : net::ClientResponse{};
}

net::ClientResponse get(const net::Endpoint& endpoint, const std::string& target) {
  net::ClientRequest request;
  request.method = boost::beast::http::verb::get;
  request.target = target;
  auto response = net::httpRequestSync(endpoint, request);
  return response ? *response : net::ClientResponse{};
}

class HighAvailabilityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!masters_.available()) GTEST_SKIP() << "ZooKeeper server could not be started";
  }
  std::optional<size_t> waitForLeader(std::chrono::seconds timeout) { return masters_.waitForLeader(timeout); }

  HaMasters masters_{{"--registry=in_memory"}};
  const std::filesystem::path& dir_ = masters_.dir();
};

TEST_F(HighAvailabilityTest, StandbysRedirectToTheLeaderAndOneTakesOverAfterAKill) {
  const std::string subscribe = R"({"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"u","name":"n"}}})";
  for (int round = 0; round < 2; ++round) {
    auto leader = waitForLeader(std::chrono::seconds(20));
    ASSERT_TRUE(leader) << "round " << round << ": no single leader";
    std::string leaderAddress = "//127.0.0.1:" + std::to_string(masters_.endpoint(*leader).port);
    for (size_t i = 0; i < masters_.size(); ++i) {
      if (i == *leader || !masters_.process(i).running()) continue;
      auto redirect = get(masters_.endpoint(i), "/master/redirect");
      EXPECT_EQ(redirect.status, 307u);
      EXPECT_EQ(redirect.header("Location"), leaderAddress);
      auto call = post(masters_.endpoint(i), "/api/v1/scheduler", subscribe);
      EXPECT_EQ(call.status, 307u);
      EXPECT_EQ(call.header("Location"), leaderAddress + "/api/v1/scheduler");
      auto metrics = getJson(masters_.endpoint(i), "/metrics/snapshot");
      EXPECT_EQ(metrics["master/elected"], 0);
    }
    EXPECT_EQ(getJson(masters_.endpoint(*leader), "/metrics/snapshot")["master/elected"], 1);

    auto killed = std::chrono::steady_clock::now();
    masters_.process(*leader).kill9();
    auto next = waitForLeader(std::chrono::seconds(20));
    ASSERT_TRUE(next) << "no standby took over";
    EXPECT_NE(*next, *leader);
    auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - killed);
    std::cout << "failover round " << round << ": new leader serving after " << elapsed.count() << " ms\n";
  }
}

TEST_F(HighAvailabilityTest, SchedulerLibraryFollowsTheLeaderThroughZooKeeper) {
  auto leader = waitForLeader(std::chrono::seconds(20));
  ASSERT_TRUE(leader);
  boost::asio::io_context io;
  v1::FrameworkInfo framework;
  framework.set_user("root");
  framework.set_name("ha-follower");
  framework.set_failover_timeout(300);
  std::vector<std::string> subscriptions;  // "<framework id>@<master port>"
  client::SchedulerOptions options;
  options.master = masters_.zkUrl();
  options.framework = framework;
  options.initialBackoff = std::chrono::milliseconds(100);
  options.maxBackoff = std::chrono::milliseconds(500);
  client::SchedulerCallbacks callbacks;
  std::unique_ptr<client::Scheduler> scheduler;
  callbacks.onSubscribed = [&](const v1::FrameworkID& id, Duration) {
    subscriptions.push_back(id.value() + "@" + std::to_string(scheduler->masterEndpoint().port));
  };
  scheduler = std::make_unique<client::Scheduler>(io, options, callbacks);
  scheduler->start();
  auto runUntil = [&](const std::function<bool()>& done) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      io.restart();
      io.run_for(std::chrono::milliseconds(20));
    }
    return done();
  };
  ASSERT_TRUE(runUntil([&] { return subscriptions.size() == 1; }));
  EXPECT_EQ(subscriptions[0].substr(subscriptions[0].find('@') + 1), std::to_string(masters_.endpoint(*leader).port));

  masters_.process(*leader).kill9();
  auto next = waitForLeader(std::chrono::seconds(20));
  ASSERT_TRUE(next);
  ASSERT_TRUE(runUntil([&] { return subscriptions.size() == 2; }));
  std::string frameworkId = subscriptions[0].substr(0, subscriptions[0].find('@'));
  EXPECT_EQ(subscriptions[1], frameworkId + "@" + std::to_string(masters_.endpoint(*next).port))
      << "re-subscribed to the new leader with the same framework id";
  scheduler->stop();
  scheduler.reset();
}

// The scenario of issue 5: two agents and a framework's 20 running tasks
// survive three kills of the leading master; a plain v1 JSON client asks a
// standby, follows its redirect to the new leader, re-subscribes with its
// framework id and reconciles every task as TASK_RUNNING; new tasks launch.
TEST_F(HighAvailabilityTest, RunningTasksSurviveThreeLeaderKills) {
  auto leader = waitForLeader(std::chrono::seconds(20));
  ASSERT_TRUE(leader);
  std::vector<std::unique_ptr<DaemonProcess>> agents;
  for (int a = 0; a < 2; ++a) {
    std::string name = "agent" + std::to_string(a);
    agents.push_back(std::make_unique<DaemonProcess>(
        "mezzo-agent",
        std::vector<std::string>{"--master=" + masters_.zkUrl(), "--ip=127.0.0.1", "--port=0",
                                 "--work_dir=" + (dir_ / name).string(), "--resources=cpus:4;mem:2048",
                                 "--registration_backoff_factor=100ms"},
        dir_ / (name + ".log")));
  }
  auto agentsRegistered = [&](size_t master) {
    return waitUntil([&] { return getJson(masters_.endpoint(master), "/state")["activated_slaves"] == 2; },
                     std::chrono::seconds(20));
  };
  ASSERT_TRUE(agentsRegistered(*leader)) << agents[0]->log();

  // 20 long tasks, 10 on each agent.
  const int kTasks = 20;
  std::string frameworkId;
  {
    SchedulerSession session(masters_.endpoint(*leader));
    ASSERT_EQ(session.subscribe(subscribeCall("ha-tasks", /*failoverTimeout=*/600)), 200u);
    std::map<std::string, v1::Offer> offerByAgent;
    while (offerByAgent.size() < 2) {
      auto offers = session.waitForType(Event::OFFERS);
      ASSERT_TRUE(offers) << "offers from both agents";
      for (const v1::Offer& offer : offers->offers().offers()) offerByAgent[offer.agent_id().value()] = offer;
    }
    int next = 0;
    for (const auto& [agentId, offer] : offerByAgent) {
      std::vector<v1::TaskInfo> tasks;
      for (int i = 0; i < kTasks / 2; ++i) {
        tasks.push_back(commandTask("long-" + std::to_string(next++), offer, "sleep 600"));
      }
      ASSERT_EQ(session.call(launchCall(offer, tasks))->status, 202u);
    }
    std::set<std::string> running;
    while (running.size() < kTasks) {
      auto event = session.waitForType(Event::UPDATE);
      ASSERT_TRUE(event) << running.size() << " of " << kTasks << " tasks running";
      const v1::TaskStatus& status = event->update().status();
      if (status.has_uuid()) session.acknowledge(status);
      if (status.state() == v1::TASK_RUNNING) running.insert(status.task_id().value());
    }
    frameworkId = session.frameworkId();
  }

  for (int round = 0; round < 3; ++round) {
    size_t killed = *leader;
    masters_.process(killed).kill9();
    leader = waitForLeader(std::chrono::seconds(30));
    ASSERT_TRUE(leader) << "round " << round;
    ASSERT_TRUE(agentsRegistered(*leader)) << "round " << round << ": agents did not follow the leader";
    // The plain client asks a standby first and follows its 307 to the leader.
    size_t standby = (*leader + 1) % masters_.size();
    if (standby == killed) standby = (standby + 1) % masters_.size();
    auto redirect = post(masters_.endpoint(standby), "/api/v1/scheduler", "{}");
    ASSERT_EQ(redirect.status, 307u) << "round " << round;
    std::string location = redirect.header("Location");  // //host:port/api/v1/scheduler
    auto target = net::parseEndpoint(location.substr(2, location.find('/', 2) - 2));
    ASSERT_TRUE(target.isOk()) << location;
    ASSERT_EQ(target->port, masters_.endpoint(*leader).port);
    SchedulerSession session(*target);
    ASSERT_EQ(session.subscribe(subscribeCall("ha-tasks", 600, {}, frameworkId)), 200u);
    ASSERT_TRUE(session.waitForType(Event::SUBSCRIBED));
    EXPECT_EQ(session.frameworkId(), frameworkId);
    // The agent's spare resources are offered right after SUBSCRIBED; take
    // the offer before the reconciliation answers (waiting skips other events).
    auto offers = session.waitFor([](const Event& e) { return e.type() == Event::OFFERS && e.offers().offers_size(); });
    ASSERT_TRUE(offers) << "round " << round << ": no offer from the new leader";
    Call reconcile;
    reconcile.set_type(Call::RECONCILE);
    for (int i = 0; i < kTasks; ++i) {
      reconcile.mutable_reconcile()->add_tasks()->mutable_task_id()->set_value("long-" + std::to_string(i));
    }
    ASSERT_EQ(session.call(reconcile)->status, 202u);
    for (int i = 0; i < kTasks; ++i) {
      auto status = session.waitForUpdate("long-" + std::to_string(i));
      ASSERT_TRUE(status) << "round " << round << " task " << i;
      EXPECT_EQ(status->state(), v1::TASK_RUNNING) << "round " << round << " task " << i;
    }
    if (round == 2) {
      // New tasks still launch on the latest leader.
      v1::Offer offer = offers->offers().offers(0);
      ASSERT_EQ(session.call(launchCall(offer, {commandTask("after-failover", offer, "true")}))->status, 202u);
      auto statuses = session.followTask("after-failover", v1::TASK_FINISHED);
      ASSERT_FALSE(statuses.empty());
      EXPECT_EQ(statuses.back().state(), v1::TASK_FINISHED);
    }
    masters_.start(killed);  // back as a standby for the next round
  }
}

}  // namespace
}  // namespace mezzo::testing
