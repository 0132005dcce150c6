// Agent checkpointing and recovery with real processes (issue 4, "done when"
// 4): tasks of a checkpointing framework survive `kill -9` of the agent, the
// restarted agent re-registers with the same id and re-attaches the
// executors, and later updates reach the framework exactly once. Also: a
// task whose supervisor died while the agent was down is killed and failed,
// one that ended meanwhile reports its real end, and a changed boot id (a
// reboot) reports tasks lost.
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <map>

#include "harness/process.hpp"
#include "harness/scheduler_session.hpp"

namespace mezzo::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

bool isTerminal(v1::TaskState state) {
  return state == v1::TASK_FINISHED || state == v1::TASK_FAILED || state == v1::TASK_KILLED ||
         state == v1::TASK_LOST || state == v1::TASK_ERROR || state == v1::TASK_DROPPED || state == v1::TASK_GONE;
}

class AgentRecoveryTest : public ::testing::Test {
 protected:
  // `commandTasks`: the agent's --command_tasks (supervised by the agent, or one executor each).
  void start(int tasks, const std::string& commandTasks = "supervised", const std::string& command = "sleep 600") {
    cluster = std::make_unique<LocalCluster>(ClusterOptions()
                                                 .withAgentFlag("--executor_reregistration_timeout=2secs")
                                                 .withAgentFlag("--command_tasks=" + commandTasks));
    session = std::make_unique<SchedulerSession>(cluster->master());
    Call subscribe = subscribeCall("recovery-tests", 3600);
    subscribe.mutable_subscribe()->mutable_framework_info()->set_checkpoint(true);
    ASSERT_EQ(session->subscribe(subscribe), 200u);
    ASSERT_TRUE(session->waitForType(Event::SUBSCRIBED));
    auto offers = session->waitForType(Event::OFFERS);
    ASSERT_TRUE(offers);
    offer = offers->offers().offers(0);
    std::vector<v1::TaskInfo> infos;
    for (int i = 0; i < tasks; ++i) {
      infos.push_back(commandTask("t" + std::to_string(i), offer, command, "cpus:0.05;mem:16"));
    }
    ASSERT_EQ(session->call(launchCall(offer, infos))->status, 202u);
    ASSERT_TRUE(collectUntil([&] { return countIn(v1::TASK_RUNNING) == tasks; }, 30s))
        << "not all tasks are running; agent log:\n" << cluster->agentProcess(0).log();
  }

  // Consumes UPDATE events (acknowledging each) until `done` or the timeout.
  bool collectUntil(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left <= 0ms) return false;
      auto event = session->waitFor([](const Event& e) { return e.type() == Event::UPDATE; }, left);
      if (!event) return done();
      record(event->update().status());
    }
    return true;
  }

  void record(const v1::TaskStatus& status) {
    const std::string& task = status.task_id().value();
    latest[task] = status.state();
    if (isTerminal(status.state())) terminalUpdates[task].push_back(status);
    if (status.reason() == v1::TaskStatus::REASON_RECONCILIATION) reconciled[task] = status;
    if (status.has_uuid()) {
      EXPECT_TRUE(session->acknowledge(status));
    }
  }

  int countIn(v1::TaskState state) const {
    return static_cast<int>(std::count_if(latest.begin(), latest.end(), [&](const auto& e) { return e.second == state; }));
  }

  void restartAgent() {
    cluster->agentProcess(0).kill9();
    std::this_thread::sleep_for(300ms);
    cluster->startAgent(0);
  }

  // True once the master lists the agent, with the same id, as active again.
  bool agentBackWithSameId() {
    return waitUntil(
        [&] {
          json state = getJson(cluster->master(), "/state");
          if (!state.is_object() || state["slaves"].size() != 1) return false;
          const json& agent = state["slaves"][0];
          return agent.value("id", "") == offer.agent_id().value() && agent.value("active", false) &&
                 agent.contains("reregistered_time");
        },
        15s);
  }

  std::filesystem::path checkpointedExecutor(const std::string& executor) {
    return cluster->workDir() / "agent0" / "meta" / "slaves" / offer.agent_id().value() / "frameworks" /
           session->frameworkId() / "executors" / executor;
  }

  std::unique_ptr<LocalCluster> cluster;
  std::unique_ptr<SchedulerSession> session;
  v1::Offer offer;
  std::map<std::string, v1::TaskState> latest;
  std::map<std::string, std::vector<v1::TaskStatus>> terminalUpdates;
  std::map<std::string, v1::TaskStatus> reconciled;

  // Done-when 4 of the agent issue, for either way of running command tasks.
  void twentyTasksSurviveKillNineAndTerminateExactlyOnce(const std::string& commandTasks);
};

void AgentRecoveryTest::twentyTasksSurviveKillNineAndTerminateExactlyOnce(const std::string& commandTasks) {
  constexpr int kTasks = 20;
  start(kTasks, commandTasks);
  restartAgent();
  ASSERT_TRUE(agentBackWithSameId()) << cluster->agentProcess(0).log();

  // Past the re-registration timeout: every executor re-subscribed, nothing failed.
  std::this_thread::sleep_for(3s);
  collectUntil([] { return false; }, 500ms);
  EXPECT_EQ(countIn(v1::TASK_RUNNING), kTasks) << cluster->agentProcess(0).log();
  EXPECT_TRUE(terminalUpdates.empty());
  json agentState = getJson(net::Endpoint{"127.0.0.1", cluster->agentPort(0)}, "/state");
  ASSERT_EQ(agentState["frameworks"].size(), 1u) << agentState.dump();
  EXPECT_EQ(agentState["frameworks"][0]["executors"].size(), static_cast<size_t>(kTasks));
  EXPECT_EQ(agentState.value("id", ""), offer.agent_id().value());

  Call reconcile;
  reconcile.set_type(Call::RECONCILE);
  reconcile.mutable_reconcile();
  ASSERT_EQ(session->call(reconcile)->status, 202u);
  ASSERT_TRUE(collectUntil([&] { return static_cast<int>(reconciled.size()) == kTasks; }, 10s));
  for (const auto& [task, status] : reconciled) {
    EXPECT_EQ(status.state(), v1::TASK_RUNNING) << task;
    EXPECT_EQ(status.agent_id().value(), offer.agent_id().value()) << task;
  }

  for (int i = 0; i < kTasks; ++i) {
    Call kill;
    kill.set_type(Call::KILL);
    kill.mutable_kill()->mutable_task_id()->set_value("t" + std::to_string(i));
    *kill.mutable_kill()->mutable_agent_id() = offer.agent_id();
    ASSERT_EQ(session->call(kill)->status, 202u);
  }
  ASSERT_TRUE(collectUntil([&] { return static_cast<int>(terminalUpdates.size()) == kTasks; }, 30s))
      << cluster->agentProcess(0).log();
  // Anything retried or resent would show up now.
  collectUntil([] { return false; }, 3s);
  for (const auto& [task, updates] : terminalUpdates) {
    ASSERT_EQ(updates.size(), 1u) << task;
    EXPECT_EQ(updates[0].state(), v1::TASK_KILLED) << task;
  }
}

TEST_F(AgentRecoveryTest, TwentySupervisedTasksSurviveKillNineAndTerminateExactlyOnce) {
  twentyTasksSurviveKillNineAndTerminateExactlyOnce("supervised");
}

TEST_F(AgentRecoveryTest, TwentyExecutorTasksSurviveKillNineAndTerminateExactlyOnce) {
  twentyTasksSurviveKillNineAndTerminateExactlyOnce("executor");
}

// Alive and not a zombie (the processes here are not the test's children).
bool processAlive(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return false;
  size_t close = line.rfind(')');
  return close != std::string::npos && close + 2 < line.size() && line[close + 2] != 'Z';
}

// The parent pid of `pid` (-1 if unknown).
pid_t parentOf(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return -1;
  const size_t close = line.rfind(')');
  char state = 0;
  long parent = -1;
  if (close == std::string::npos || std::sscanf(line.c_str() + close + 1, " %c %ld", &state, &parent) != 2) return -1;
  return static_cast<pid_t>(parent);
}

// The task supervisor dies while the agent is down (its task lives on,
// re-parented): the restarted agent cannot know how the task would end, so
// it kills it and fails it, as it does for a task whose executor died.
TEST_F(AgentRecoveryTest, TaskWhoseSupervisorDiedWhileTheAgentWasDownIsFailed) {
  start(1);
  cluster->agentProcess(0).kill9();
  std::ifstream run(checkpointedExecutor("t0") / "executor.run");
  json executor = json::parse(run);
  const pid_t pid = executor.value("pid", -1);
  ASSERT_GT(pid, 1);
  const pid_t supervisor = parentOf(pid);
  ASSERT_GT(supervisor, 1);
  ASSERT_EQ(::kill(supervisor, SIGKILL), 0);
  std::this_thread::sleep_for(300ms);
  ASSERT_TRUE(processAlive(pid));
  cluster->startAgent(0);
  ASSERT_TRUE(agentBackWithSameId());
  ASSERT_TRUE(collectUntil([&] { return terminalUpdates.size() == 1; }, 15s)) << cluster->agentProcess(0).log();
  const v1::TaskStatus& failed = terminalUpdates["t0"].at(0);
  EXPECT_EQ(failed.state(), v1::TASK_FAILED);
  EXPECT_EQ(failed.source(), v1::TaskStatus::SOURCE_AGENT);
  EXPECT_EQ(failed.reason(), v1::TaskStatus::REASON_EXECUTOR_TERMINATED);
  EXPECT_TRUE(waitUntil([&] { return !processAlive(pid); }, 5s)) << "the orphaned task still runs";
}


TEST_F(AgentRecoveryTest, AnotherBootIdReportsTasksLost) {
  // Executors, which notice that the agent forgot them (supervisors of a
  // real reboot would be gone with the host).
  start(2, "executor");
  cluster->agentProcess(0).kill9();
  std::vector<pid_t> executors;
  for (const char* task : {"t0", "t1"}) {
    std::ifstream run(checkpointedExecutor(task) / "executor.run");
    executors.push_back(json::parse(run).value("pid", -1));
  }
  {
    std::ofstream bootId(cluster->workDir() / "agent0" / "meta" / "boot_id", std::ios::trunc);
    bootId << "00000000-0000-0000-0000-000000000000\n";
  }
  cluster->startAgent(0);
  ASSERT_TRUE(agentBackWithSameId());
  ASSERT_TRUE(collectUntil([&] { return terminalUpdates.size() == 2; }, 15s)) << cluster->agentProcess(0).log();
  for (const auto& [task, updates] : terminalUpdates) {
    ASSERT_EQ(updates.size(), 1u) << task;
    EXPECT_EQ(updates[0].state(), v1::TASK_LOST) << task;
    EXPECT_EQ(updates[0].reason(), v1::TaskStatus::REASON_AGENT_RESTARTED) << task;
  }
  // The old executors find the agent does not know them any more and end their tasks.
  EXPECT_TRUE(waitUntil(
      [&] {
        json state = getJson(net::Endpoint{"127.0.0.1", cluster->agentPort(0)}, "/state");
        return state.is_object() && state["frameworks"].empty();
      },
      10s));
  EXPECT_TRUE(waitUntil([&] { return !processAlive(executors[0]) && !processAlive(executors[1]); }, 10s));
  for (pid_t pid : executors) {
    if (pid > 1 && processAlive(pid)) ::kill(-pid, SIGKILL);  // do not leak them into other tests
  }
}

// The task supervisor outlives the agent and writes how the task ended
// (then leaves: no agent, no task); the restarted agent starts a new one
// and reports that end (once), as the executor would have.
TEST_F(AgentRecoveryTest, TaskThatEndedWhileTheAgentWasDownReportsItsExitStatus) {
  start(1, "supervised", "while [ ! -e go ]; do sleep 0.05; done; exit 3");
  cluster->agentProcess(0).kill9();
  std::ifstream run(checkpointedExecutor("t0") / "executor.run");
  json executor = json::parse(run);
  const pid_t task = executor.value("pid", -1);
  ASSERT_GT(task, 1);
  ASSERT_TRUE(executor.value("supervised", false));
  const pid_t supervisor = parentOf(task);
  std::ofstream(executor.value("directory", "") + "/go") << "go\n";
  ASSERT_TRUE(waitUntil([&] { return !processAlive(task); }, 10s)) << "the task did not end";
  ASSERT_TRUE(waitUntil([&] { return !processAlive(supervisor); }, 10s)) << "the supervisor did not leave";
  cluster->startAgent(0);
  ASSERT_TRUE(agentBackWithSameId());
  ASSERT_TRUE(collectUntil([&] { return terminalUpdates.size() == 1; }, 15s)) << cluster->agentProcess(0).log();
  collectUntil([] { return false; }, 2s);  // nothing more may come
  ASSERT_EQ(terminalUpdates["t0"].size(), 1u);
  const v1::TaskStatus& failed = terminalUpdates["t0"].at(0);
  EXPECT_EQ(failed.state(), v1::TASK_FAILED);
  EXPECT_EQ(failed.source(), v1::TaskStatus::SOURCE_EXECUTOR);
  EXPECT_EQ(failed.message(), "Command exited with status 3");
}

}  // namespace
}  // namespace mezzo::testing
