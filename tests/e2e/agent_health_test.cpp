// Agent health end to end, with real processes on loopback:
//  - an agent frozen with SIGSTOP stops answering the master's pings and is
//    marked unreachable (TASK_UNREACHABLE to a partition-aware framework,
//    TASK_LOST to another, /state counts it); after SIGCONT it re-registers,
//    is re-admitted and its tasks are reported TASK_RUNNING again;
//  - a master restarted on its SQLite registry waits --agent_reregister_timeout
//    for its agents: reconciliation about a missing agent's task gets no
//    answer meanwhile, then the agent is marked unreachable (durably: another
//    restart still knows it), its task reconciles as TASK_UNREACHABLE or
//    TASK_LOST, and the agent is re-admitted when it comes back.
#include <gtest/gtest.h>

#include <csignal>

#include "harness/process.hpp"
#include "harness/scheduler_session.hpp"

namespace mezzo::testing {
namespace {

using Capability = v1::FrameworkInfo::Capability;
using namespace std::chrono_literals;

struct Framework {
  std::unique_ptr<SchedulerSession> session;
  std::string taskId;
  std::string agentId;
};

// Subscribes a framework (failover timeout of an hour, so that it survives
// master restarts) and runs one long task on the only agent. Unused offer
// resources are refused for an hour so that the next framework gets them.
Framework startFramework(const net::Endpoint& master, const std::string& name, bool partitionAware,
                         const std::string& frameworkId = "") {
  Framework framework;
  framework.session = std::make_unique<SchedulerSession>(master);
  std::vector<Capability::Type> capabilities;
  if (partitionAware) capabilities.push_back(Capability::PARTITION_AWARE);
  EXPECT_EQ(framework.session->subscribe(subscribeCall(name, 3600, capabilities, frameworkId)), 200u);
  EXPECT_TRUE(framework.session->waitForType(Event::SUBSCRIBED));
  return framework;
}

void launchLongTask(Framework& framework, const std::string& taskId) {
  auto offer = waitForOffer(*framework.session);
  ASSERT_TRUE(offer) << "no offer for " << taskId;
  Call launch = launchCall(*offer, {commandTask(taskId, *offer, "sleep 600")});
  launch.mutable_accept()->mutable_filters()->set_refuse_seconds(3600);
  ASSERT_EQ(framework.session->call(launch)->status, 202u);
  auto statuses = framework.session->followTask(taskId, v1::TASK_RUNNING);
  ASSERT_FALSE(statuses.empty());
  ASSERT_EQ(statuses.back().state(), v1::TASK_RUNNING);
  framework.taskId = taskId;
  framework.agentId = offer->agent_id().value();
}

Call reconcileCall(const Framework& framework) {
  Call call;
  call.set_type(Call::RECONCILE);
  auto* task = call.mutable_reconcile()->add_tasks();
  task->mutable_task_id()->set_value(framework.taskId);
  task->mutable_agent_id()->set_value(framework.agentId);
  return call;
}

int unreachableAgents(const net::Endpoint& master) {
  auto state = getJson(master, "/state");
  return state.is_object() ? state.value("unreachable_slaves", -1) : -1;
}

TEST(AgentHealth, FrozenAgentIsMarkedUnreachableAndReadmittedWhenItThaws) {
  LocalCluster cluster(ClusterOptions()
                           .withMasterFlag("--agent_ping_timeout=2secs")
                           .withMasterFlag("--max_agent_ping_timeouts=3")
                           .withMasterFlag("--registry=in_memory"));
  Framework aware = startFramework(cluster.master(), "aware", true);
  ASSERT_NO_FATAL_FAILURE(launchLongTask(aware, "aware-task"));
  Framework plain = startFramework(cluster.master(), "plain", false);
  ASSERT_NO_FATAL_FAILURE(launchLongTask(plain, "plain-task"));
  std::string agentId = aware.agentId;
  EXPECT_EQ(unreachableAgents(cluster.master()), 0);

  cluster.agentProcess(0).signal(SIGSTOP);
  auto unreachable = aware.session->waitForUpdate("aware-task", 20s);
  ASSERT_TRUE(unreachable) << cluster.masterProcess().log();
  EXPECT_EQ(unreachable->state(), v1::TASK_UNREACHABLE);
  EXPECT_EQ(unreachable->reason(), v1::TaskStatus::REASON_AGENT_REMOVED);
  EXPECT_EQ(unreachable->source(), v1::TaskStatus::SOURCE_MASTER);
  EXPECT_TRUE(unreachable->has_unreachable_time());
  auto lost = plain.session->waitForUpdate("plain-task", 10s);
  ASSERT_TRUE(lost);
  EXPECT_EQ(lost->state(), v1::TASK_LOST);
  EXPECT_TRUE(aware.session->waitFor(
      [&](const Event& e) { return e.type() == Event::FAILURE && e.failure().agent_id().value() == agentId; }, 5s))
      << "frameworks hear that the agent is lost";

  auto state = getJson(cluster.master(), "/state");
  EXPECT_EQ(state["unreachable_slaves"], 1);
  EXPECT_TRUE(state["slaves"].empty());
  for (const auto& framework : state["frameworks"]) {
    ASSERT_EQ(framework["unreachable_tasks"].size(), 1u) << framework.dump();
    EXPECT_EQ(framework["unreachable_tasks"][0]["state"], "TASK_UNREACHABLE");
    EXPECT_TRUE(framework["tasks"].empty());
  }
  auto metrics = getJson(cluster.master(), "/metrics/snapshot");
  EXPECT_EQ(metrics["master/slaves_unreachable"], 1);
  EXPECT_EQ(metrics["master/slave_removals/reason_unhealthy"], 1);

  ASSERT_EQ(aware.session->call(reconcileCall(aware))->status, 202u);
  auto reconciled = aware.session->waitForUpdate("aware-task", 5s);
  ASSERT_TRUE(reconciled);
  EXPECT_EQ(reconciled->state(), v1::TASK_UNREACHABLE);

  cluster.agentProcess(0).signal(SIGCONT);
  auto running = aware.session->waitForUpdate("aware-task", 30s);
  ASSERT_TRUE(running) << cluster.masterProcess().log();
  EXPECT_EQ(running->state(), v1::TASK_RUNNING);
  EXPECT_EQ(running->reason(), v1::TaskStatus::REASON_AGENT_REREGISTERED);
  running = plain.session->waitForUpdate("plain-task", 10s);
  ASSERT_TRUE(running);
  EXPECT_EQ(running->state(), v1::TASK_RUNNING) << "a non-partition-aware framework sees its task come back";

  ASSERT_TRUE(cluster.waitForAgents(1, 10s));
  state = getJson(cluster.master(), "/state");
  EXPECT_EQ(state["unreachable_slaves"], 0);
  ASSERT_EQ(state["slaves"].size(), 1u);
  EXPECT_EQ(state["slaves"][0]["id"], agentId) << "re-admitted under its own id";
  for (const auto& framework : state["frameworks"]) {
    ASSERT_EQ(framework["tasks"].size(), 1u) << framework.dump();
    EXPECT_EQ(framework["tasks"][0]["state"], "TASK_RUNNING");
    EXPECT_TRUE(framework["unreachable_tasks"].empty());
  }
}

TEST(AgentHealth, AgentMissingAfterMasterRestartIsMarkedUnreachableAfterReregisterTimeout) {
  LocalCluster cluster(ClusterOptions().withMasterFlag("--agent_reregister_timeout=6secs"));
  Framework aware = startFramework(cluster.master(), "aware", true);
  ASSERT_NO_FATAL_FAILURE(launchLongTask(aware, "aware-task"));
  Framework plain = startFramework(cluster.master(), "plain", false);
  ASSERT_NO_FATAL_FAILURE(launchLongTask(plain, "plain-task"));

  // The agent cannot re-register; the master restarts on its registry.
  cluster.agentProcess(0).signal(SIGSTOP);
  cluster.restartMaster();
  auto resubscribe = [&](Framework& framework, const std::string& name, bool partitionAware) {
    std::string id = framework.session->frameworkId();
    Framework again = startFramework(cluster.master(), name, partitionAware, id);
    again.taskId = framework.taskId;
    again.agentId = framework.agentId;
    framework = std::move(again);
  };
  resubscribe(aware, "aware", true);
  resubscribe(plain, "plain", false);

  // While the agent may still come back, reconciliation gets no answer.
  ASSERT_EQ(aware.session->call(reconcileCall(aware))->status, 202u);
  EXPECT_FALSE(aware.session->waitForUpdate("aware-task", 1500ms)) << "no answer before the timeout";
  EXPECT_EQ(getJson(cluster.master(), "/state")["recovered_slaves"].size(), 1u);

  ASSERT_TRUE(waitUntil([&] { return unreachableAgents(cluster.master()) == 1; }, 20s))
      << cluster.masterProcess().log();
  auto state = getJson(cluster.master(), "/state");
  EXPECT_TRUE(state["recovered_slaves"].empty());
  EXPECT_EQ(getJson(cluster.master(), "/metrics/snapshot")["master/recovery_slave_removals"], 1);

  ASSERT_EQ(aware.session->call(reconcileCall(aware))->status, 202u);
  auto reconciled = aware.session->waitForUpdate("aware-task", 5s);
  ASSERT_TRUE(reconciled);
  EXPECT_EQ(reconciled->state(), v1::TASK_UNREACHABLE);
  EXPECT_EQ(reconciled->agent_id().value(), aware.agentId);
  EXPECT_TRUE(reconciled->has_unreachable_time());
  ASSERT_EQ(plain.session->call(reconcileCall(plain))->status, 202u);
  reconciled = plain.session->waitForUpdate("plain-task", 5s);
  ASSERT_TRUE(reconciled);
  EXPECT_EQ(reconciled->state(), v1::TASK_LOST);

  // The mark is durable: yet another master on the same registry knows it.
  cluster.restartMaster();
  state = getJson(cluster.master(), "/state");
  EXPECT_EQ(state["unreachable_slaves"], 1);
  EXPECT_TRUE(state["recovered_slaves"].empty()) << "an unreachable agent is not waited for";
  resubscribe(aware, "aware", true);

  // The agent comes back: re-admitted, its task reported running.
  cluster.agentProcess(0).signal(SIGCONT);
  auto running = aware.session->waitForUpdate("aware-task", 30s);
  ASSERT_TRUE(running) << cluster.masterProcess().log();
  EXPECT_EQ(running->state(), v1::TASK_RUNNING);
  ASSERT_TRUE(cluster.waitForAgents(1, 10s));
  EXPECT_EQ(unreachableAgents(cluster.master()), 0);
}

}  // namespace
}  // namespace mezzo::testing
