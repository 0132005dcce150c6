// Executors other than the command executor, through a real master, agent
// and wire-level scheduler: task groups under the default executor
// (LAUNCH_GROUP, group kill semantics, master validation), and a custom
// executor (tests/agent/helpers/echo_executor.cpp) exchanging framework
// messages both ways.
#include <gtest/gtest.h>

#include <map>

#include "harness/process.hpp"
#include "harness/scheduler_session.hpp"
#include "harness/task_updates.hpp"
#include "mezzo/common/task_states.hpp"

namespace mezzo::testing {
namespace {

using namespace std::chrono_literals;

class ExecutorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster = std::make_unique<LocalCluster>();
    session = std::make_unique<SchedulerSession>(cluster->master());
    ASSERT_EQ(session->subscribe(subscribeCall("executor-tests")), 200u);
    ASSERT_TRUE(session->waitForType(Event::SUBSCRIBED));
  }

  std::unique_ptr<LocalCluster> cluster;
  std::unique_ptr<SchedulerSession> session;
};

TEST_F(ExecutorsTest, KillingOneTaskOfAGroupKillsTheGroup) {
  auto offer = waitForOffer(*session);
  ASSERT_TRUE(offer);
  const std::vector<std::string> ids = {"g1", "g2", "g3"};
  std::vector<v1::TaskInfo> tasks;
  for (const std::string& id : ids) tasks.push_back(commandTask(id, *offer, "sleep 60"));
  ASSERT_EQ(session->call(launchGroupCall(*offer, defaultExecutor("group-executor", *offer), tasks))->status, 202u);

  Seen seen = collectUpdates(*session, [&](const Seen& s) {
    return allIn(s, ids, [](v1::TaskState state) { return state == v1::TASK_RUNNING; });
  });
  ASSERT_TRUE(allIn(seen, ids, [](v1::TaskState state) { return state == v1::TASK_RUNNING; }));
  for (const std::string& id : ids) {
    EXPECT_EQ(seen[id].front().state(), v1::TASK_STARTING) << id;
    EXPECT_EQ(seen[id].back().executor_id().value(), "group-executor") << id;
  }

  Call kill;
  kill.set_type(Call::KILL);
  kill.mutable_kill()->mutable_task_id()->set_value("g2");
  *kill.mutable_kill()->mutable_agent_id() = offer->agent_id();
  kill.mutable_kill()->mutable_kill_policy()->mutable_grace_period()->set_nanoseconds(500'000'000);
  ASSERT_EQ(session->call(kill)->status, 202u);

  seen = collectUpdates(
      *session, [&](const Seen& s) { return allIn(s, ids, isTerminalState); }, 30s, std::move(seen));
  ASSERT_TRUE(allIn(seen, ids, isTerminalState));
  // Anything after the terminal updates would show up now.
  seen = collectUpdates(
      *session, [](const Seen&) { return false; }, 2s, std::move(seen));
  for (const std::string& id : ids) {
    int terminals = 0;
    for (const v1::TaskStatus& status : seen[id]) terminals += isTerminalState(status.state()) ? 1 : 0;
    EXPECT_EQ(terminals, 1) << id;
    EXPECT_EQ(seen[id].back().state(), v1::TASK_KILLED) << id;
  }
}

// As Mesos's default executor: the task past its max_completion_time fails
// with REASON_MAX_COMPLETION_TIME_REACHED (no TASK_KILLING), and its failure
// kills the rest of the group.
TEST_F(ExecutorsTest, MaxCompletionTimeFailsTheTaskAndEndsItsGroup) {
  auto offer = waitForOffer(*session);
  ASSERT_TRUE(offer);
  const std::vector<std::string> ids = {"slow", "other"};
  std::vector<v1::TaskInfo> tasks = {commandTask("slow", *offer, "sleep 60"), commandTask("other", *offer, "sleep 60")};
  tasks[0].mutable_max_completion_time()->set_nanoseconds(1'000'000'000);
  ASSERT_EQ(session->call(launchGroupCall(*offer, defaultExecutor("deadline-executor", *offer), tasks))->status, 202u);
  const auto started = std::chrono::steady_clock::now();
  Seen seen = collectUpdates(
      *session, [&](const Seen& s) { return allIn(s, ids, isTerminalState); }, 30s);
  ASSERT_TRUE(allIn(seen, ids, isTerminalState));
  EXPECT_LT(std::chrono::steady_clock::now() - started, 20s);
  const v1::TaskStatus& slow = seen["slow"].back();
  EXPECT_EQ(slow.state(), v1::TASK_FAILED);
  EXPECT_EQ(slow.reason(), v1::TaskStatus::REASON_MAX_COMPLETION_TIME_REACHED);
  EXPECT_EQ(slow.source(), v1::TaskStatus::SOURCE_EXECUTOR);
  for (const v1::TaskStatus& status : seen["slow"]) EXPECT_NE(status.state(), v1::TASK_KILLING);
  EXPECT_EQ(seen["other"].back().state(), v1::TASK_KILLED);
}

TEST_F(ExecutorsTest, MasterRefusesAGroupWithoutADefaultExecutor) {
  auto offer = waitForOffer(*session);
  ASSERT_TRUE(offer);
  v1::ExecutorInfo executor = defaultExecutor("custom", *offer);
  executor.set_type(v1::ExecutorInfo::CUSTOM);
  executor.mutable_command()->set_value("true");
  std::vector<v1::TaskInfo> tasks = {commandTask("bad1", *offer, "true"), commandTask("bad2", *offer, "true")};
  ASSERT_EQ(session->call(launchGroupCall(*offer, executor, tasks))->status, 202u);
  for (const char* id : {"bad1", "bad2"}) {
    auto status = session->waitForUpdate(id);
    ASSERT_TRUE(status) << id;
    EXPECT_EQ(status->state(), v1::TASK_ERROR);
    EXPECT_EQ(status->reason(), v1::TaskStatus::REASON_TASK_GROUP_INVALID);
  }
}

TEST_F(ExecutorsTest, MasterRefusesAGroupLargerThanTheOffer) {
  auto offer = waitForOffer(*session);
  ASSERT_TRUE(offer);
  // Two tasks of 1.5 cpus each on a 2-cpu agent.
  std::vector<v1::TaskInfo> tasks = {commandTask("big1", *offer, "true", "cpus:1.5;mem:32"),
                                     commandTask("big2", *offer, "true", "cpus:1.5;mem:32")};
  ASSERT_EQ(session->call(launchGroupCall(*offer, defaultExecutor("big", *offer), tasks))->status, 202u);
  for (const char* id : {"big1", "big2"}) {
    auto status = session->waitForUpdate(id);
    ASSERT_TRUE(status) << id;
    EXPECT_EQ(status->state(), v1::TASK_ERROR);
    EXPECT_EQ(status->reason(), v1::TaskStatus::REASON_TASK_GROUP_INVALID);
  }
}

Call messageCall(const v1::Offer& offer, const std::string& executorId, const std::string& data) {
  Call call;
  call.set_type(Call::MESSAGE);
  *call.mutable_message()->mutable_agent_id() = offer.agent_id();
  call.mutable_message()->mutable_executor_id()->set_value(executorId);
  call.mutable_message()->set_data(data);
  return call;
}

TEST_F(ExecutorsTest, CustomExecutorExchangesMessagesWithTheFramework) {
  auto offer = waitForOffer(*session);
  ASSERT_TRUE(offer);
  v1::TaskInfo task = commandTask("echo", *offer, "unused");
  task.clear_command();
  v1::ExecutorInfo* executor = task.mutable_executor();
  executor->mutable_executor_id()->set_value("echo-executor");
  executor->mutable_command()->set_value(binDir() + "/mezzo-test-echo-executor");
  executor->mutable_command()->set_shell(false);
  ASSERT_EQ(session->call(launchCall(*offer, {task}))->status, 202u);
  auto running = session->followTask("echo", v1::TASK_RUNNING);
  ASSERT_FALSE(running.empty());
  ASSERT_EQ(running.back().state(), v1::TASK_RUNNING);

  auto isMessage = [](const std::string& data) {
    return [data](const Event& event) { return event.type() == Event::MESSAGE && event.message().data() == data; };
  };
  ASSERT_EQ(session->call(messageCall(*offer, "echo-executor", "hello"))->status, 202u);
  auto echoed = session->waitFor(isMessage("hello"));
  ASSERT_TRUE(echoed) << "the executor's echo did not reach the framework";
  EXPECT_EQ(echoed->message().executor_id().value(), "echo-executor");
  EXPECT_EQ(echoed->message().agent_id().value(), offer->agent_id().value());

  ASSERT_EQ(session->call(messageCall(*offer, "echo-executor", "finish"))->status, 202u);
  auto finished = session->followTask("echo", v1::TASK_FINISHED);
  ASSERT_FALSE(finished.empty());
  EXPECT_EQ(finished.back().state(), v1::TASK_FINISHED);
  EXPECT_EQ(finished.back().source(), v1::TaskStatus::SOURCE_EXECUTOR);
}

}  // namespace
}  // namespace mezzo::testing
