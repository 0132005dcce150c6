// End to end over the wire: a real master and agents on loopback, driven by
// a bare v1 scheduler client (harness/scheduler_session). Covers the task
// lifecycle, exit codes, kills, two frameworks at once and framework failover.
#include <gtest/gtest.h>

#include "harness/process.hpp"
#include "harness/scheduler_session.hpp"

namespace mezzo::testing {
namespace {

using Capability = v1::FrameworkInfo::Capability;

v1::Offer takeOffer(SchedulerSession& session) {
  auto event = session.waitFor([](const Event& e) { return e.type() == Event::OFFERS && e.offers().offers_size() > 0; });
  if (!event) {
    ADD_FAILURE() << "no offer arrived";
    return {};
  }
  return event->offers().offers(0);
}

std::vector<v1::TaskState> states(const std::vector<v1::TaskStatus>& statuses) {
  std::vector<v1::TaskState> out;
  for (const auto& status : statuses) out.push_back(status.state());
  return out;
}

class SchedulerApiTest : public ::testing::TestWithParam<MediaType> {};

TEST_P(SchedulerApiTest, TaskRunsToFinishedWithAcknowledgedUpdates) {
  LocalCluster cluster;
  SchedulerSession session(cluster.master(), GetParam());
  ASSERT_EQ(session.subscribe(subscribeCall("e2e")), 200u);
  auto subscribed = session.waitForType(Event::SUBSCRIBED);
  ASSERT_TRUE(subscribed);
  EXPECT_FALSE(session.streamId().empty());
  v1::Offer offer = takeOffer(session);
  auto response = session.call(launchCall(offer, {commandTask("t1", offer, "echo hello; sleep 0.5")}));
  ASSERT_TRUE(response.isOk()) << response.error();
  EXPECT_EQ(response->status, 202u);
  EXPECT_TRUE(response->header("Content-Type").empty());

  auto statuses = session.followTask("t1", v1::TASK_FINISHED);
  ASSERT_EQ(states(statuses), (std::vector<v1::TaskState>{v1::TASK_STARTING, v1::TASK_RUNNING, v1::TASK_FINISHED}));
  for (const auto& status : statuses) {
    EXPECT_EQ(status.uuid().size(), 16u);
    EXPECT_EQ(status.source(), v1::TaskStatus::SOURCE_EXECUTOR);
  }
  // Acknowledged updates are not retried: nothing more for t1 arrives.
  EXPECT_FALSE(session.waitForUpdate("t1", std::chrono::seconds(3)));
  auto tasks = getJson(cluster.master(), "/tasks");
  ASSERT_EQ(tasks["tasks"].size(), 1u);
  EXPECT_EQ(tasks["tasks"][0]["state"], "TASK_FINISHED");
}

INSTANTIATE_TEST_SUITE_P(JsonAndProtobuf, SchedulerApiTest,
                         ::testing::Values(MediaType::kJson, MediaType::kProtobuf));

class TaskLifecycleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster_ = std::make_unique<LocalCluster>();
    session_ = std::make_unique<SchedulerSession>(cluster_->master());
    ASSERT_EQ(session_->subscribe(subscribeCall("lifecycle", 0, {Capability::TASK_KILLING_STATE})), 200u);
    ASSERT_TRUE(session_->waitForType(Event::SUBSCRIBED));
  }

  std::unique_ptr<LocalCluster> cluster_;
  std::unique_ptr<SchedulerSession> session_;
};

TEST_F(TaskLifecycleTest, NonZeroExitIsTaskFailedWithTheStatus) {
  v1::Offer offer = takeOffer(*session_);
  ASSERT_EQ(session_->call(launchCall(offer, {commandTask("fails", offer, "exit 3")}))->status, 202u);
  auto statuses = session_->followTask("fails", v1::TASK_FAILED);
  ASSERT_FALSE(statuses.empty());
  EXPECT_EQ(statuses.back().state(), v1::TASK_FAILED);
  EXPECT_NE(statuses.back().message().find("3"), std::string::npos) << statuses.back().message();
}

TEST_F(TaskLifecycleTest, KillSendsSigtermAndReportsKilled) {
  v1::Offer offer = takeOffer(*session_);
  ASSERT_EQ(session_->call(launchCall(offer, {commandTask("sleeper", offer, "sleep 600")}))->status, 202u);
  session_->followTask("sleeper", v1::TASK_RUNNING);
  Call kill;
  kill.set_type(Call::KILL);
  kill.mutable_kill()->mutable_task_id()->set_value("sleeper");
  auto start = std::chrono::steady_clock::now();
  ASSERT_EQ(session_->call(kill)->status, 202u);
  auto statuses = session_->followTask("sleeper", v1::TASK_KILLED);
  ASSERT_FALSE(statuses.empty());
  EXPECT_EQ(statuses.back().state(), v1::TASK_KILLED);
  EXPECT_EQ(statuses.front().state(), v1::TASK_KILLING);  // the framework has TASK_KILLING_STATE
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

TEST_F(TaskLifecycleTest, TaskIgnoringSigtermIsKilledAfterTheGracePeriod) {
  v1::Offer offer = takeOffer(*session_);
  v1::TaskInfo task = commandTask("stubborn", offer, "trap '' TERM; while true; do sleep 0.1; done");
  task.mutable_kill_policy()->mutable_grace_period()->set_nanoseconds(1'500'000'000);
  ASSERT_EQ(session_->call(launchCall(offer, {task}))->status, 202u);
  session_->followTask("stubborn", v1::TASK_RUNNING);
  Call kill;
  kill.set_type(Call::KILL);
  kill.mutable_kill()->mutable_task_id()->set_value("stubborn");
  auto start = std::chrono::steady_clock::now();
  ASSERT_EQ(session_->call(kill)->status, 202u);
  auto statuses = session_->followTask("stubborn", v1::TASK_KILLED);
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(statuses.empty());
  EXPECT_EQ(statuses.back().state(), v1::TASK_KILLED);
  EXPECT_GE(elapsed, std::chrono::milliseconds(1400));  // SIGTERM was ignored...
  EXPECT_LT(elapsed, std::chrono::seconds(6));          // ...and SIGKILL came after the grace period
}

// Uses the first offer of the next OFFERS event for one task and declines
// the others for a minute, so that other frameworks get those agents.
v1::Offer takeOneDeclineRest(SchedulerSession& session) {
  auto event = session.waitFor([](const Event& e) { return e.type() == Event::OFFERS && e.offers().offers_size() > 0; });
  if (!event) {
    ADD_FAILURE() << "no offer arrived";
    return {};
  }
  if (event->offers().offers_size() > 1) {
    Call decline;
    decline.set_type(Call::DECLINE);
    for (int i = 1; i < event->offers().offers_size(); ++i) {
      *decline.mutable_decline()->add_offer_ids() = event->offers().offers(i).id();
    }
    decline.mutable_decline()->mutable_filters()->set_refuse_seconds(60);
    EXPECT_EQ(session.call(decline)->status, 202u);
  }
  return event->offers().offers(0);
}

TEST(TwoFrameworks, BothGetOffersAndRunTasks) {
  LocalCluster cluster(ClusterOptions().withAgents(2));
  SchedulerSession first(cluster.master());
  SchedulerSession second(cluster.master());
  ASSERT_EQ(first.subscribe(subscribeCall("first")), 200u);
  ASSERT_EQ(second.subscribe(subscribeCall("second")), 200u);
  v1::Offer offerA = takeOneDeclineRest(first);
  v1::Offer offerB = takeOneDeclineRest(second);
  EXPECT_NE(first.frameworkId(), second.frameworkId());
  EXPECT_NE(offerA.agent_id().value(), offerB.agent_id().value());
  ASSERT_EQ(first.call(launchCall(offerA, {commandTask("a", offerA, "sleep 1")}))->status, 202u);
  ASSERT_EQ(second.call(launchCall(offerB, {commandTask("b", offerB, "sleep 1")}))->status, 202u);
  EXPECT_EQ(first.followTask("a", v1::TASK_FINISHED).back().state(), v1::TASK_FINISHED);
  EXPECT_EQ(second.followTask("b", v1::TASK_FINISHED).back().state(), v1::TASK_FINISHED);
  auto state = getJson(cluster.master(), "/state");
  ASSERT_EQ(state["frameworks"].size(), 2u);
  for (const auto& framework : state["frameworks"]) EXPECT_EQ(framework["completed_tasks"].size(), 1u);
}

TEST(FrameworkFailover, ResubscribingWithinTimeoutKeepsRunningTasks) {
  LocalCluster cluster;
  std::string frameworkId;
  {
    SchedulerSession session(cluster.master());
    ASSERT_EQ(session.subscribe(subscribeCall("failover", /*failoverTimeout=*/60)), 200u);
    v1::Offer offer = takeOffer(session);
    frameworkId = session.frameworkId();
    ASSERT_EQ(session.call(launchCall(offer, {commandTask("long", offer, "sleep 600")}))->status, 202u);
    session.followTask("long", v1::TASK_RUNNING);
  }  // connection dropped
  ASSERT_TRUE(waitUntil([&] { return getJson(cluster.master(), "/state")["frameworks"][0]["connected"] == false; },
                        std::chrono::seconds(5)));
  SchedulerSession again(cluster.master());
  ASSERT_EQ(again.subscribe(subscribeCall("failover", 60, {}, frameworkId)), 200u);
  auto subscribed = again.waitForType(Event::SUBSCRIBED);
  ASSERT_TRUE(subscribed);
  EXPECT_EQ(subscribed->subscribed().framework_id().value(), frameworkId);
  Call reconcile;
  reconcile.set_type(Call::RECONCILE);
  reconcile.mutable_reconcile()->add_tasks()->mutable_task_id()->set_value("long");
  ASSERT_EQ(again.call(reconcile)->status, 202u);
  auto status = again.waitForUpdate("long");
  ASSERT_TRUE(status);
  EXPECT_EQ(status->state(), v1::TASK_RUNNING);
  EXPECT_EQ(status->reason(), v1::TaskStatus::REASON_RECONCILIATION);
}

TEST(FrameworkFailover, FrameworkNotBackInTimeIsTornDownAndItsTasksKilled) {
  LocalCluster cluster;
  {
    SchedulerSession session(cluster.master());
    ASSERT_EQ(session.subscribe(subscribeCall("gone", /*failoverTimeout=*/1)), 200u);
    v1::Offer offer = takeOffer(session);
    ASSERT_EQ(session.call(launchCall(offer, {commandTask("orphan", offer, "sleep 600")}))->status, 202u);
    session.followTask("orphan", v1::TASK_RUNNING);
  }
  ASSERT_TRUE(waitUntil(
      [&] {
        auto state = getJson(cluster.master(), "/state");
        return state["frameworks"].empty() && state["completed_frameworks"].size() == 1;
      },
      std::chrono::seconds(10)));
  // The agent killed the task's process: no `sleep 600` survives under the agent's work dir.
  EXPECT_TRUE(waitUntil(
      [&] {
        auto agentState = getJson(net::Endpoint{"127.0.0.1", cluster.agentPort(0)}, "/state");
        if (!agentState.is_object()) return false;
        for (const auto& framework : agentState["frameworks"]) {
          if (!framework["executors"].empty()) return false;
        }
        return true;
      },
      std::chrono::seconds(10)));
}

}  // namespace
}  // namespace mezzo::testing
