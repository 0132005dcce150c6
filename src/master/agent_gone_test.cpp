// MARK_AGENT_GONE on MasterCore with a manual clock: nothing happens before
// the registry write is durable; then tasks are reported
// TASK_GONE_BY_OPERATOR (TASK_LOST without PARTITION_AWARE), offers are
// rescinded, the agent gets SHUTDOWN and is removed, and its REGISTER calls
// are refused, also by a master restarted on the registry. Registered,
// unreachable and recovered (not yet re-registered) agents; idempotence;
// unknown agents; a failed write.
#include "master/agent_lifecycle_fixture.hpp"

namespace mezzo::master {
namespace {

class AgentGoneTest : public AgentLifecycleTest {
 protected:
  uint64_t markGone(const AgentId& agent) {
    auto ticket = core_->markAgentGone(agent, now_);
    EXPECT_TRUE(ticket.isOk()) << ticket.error();
    EXPECT_TRUE(ticket.isOk() && ticket->has_value());
    return ticket.isOk() && ticket->has_value() ? **ticket : 0;
  }

  size_t goneWrites() {
    return std::count_if(persistOperations_.begin(), persistOperations_.end(),
                         [](const auto& op) { return op.has_mark_agent_gone(); });
  }

  const v1::Task* completedTask(const FrameworkId& framework, const std::string& task) {
    for (const v1::Task& completed : core_->frameworks().at(framework)->completedTasks) {
      if (completed.task_id().value() == task) return &completed;
    }
    return nullptr;
  }
};

TEST_F(AgentGoneTest, RegisteredAgentIsRemovedOnlyAfterTheRegistryWrite) {
  startTwoFrameworks();
  now_ = at(10);          // past the default 5 s decline filters
  core_->allocate(now_);  // an outstanding offer on the agent, to be rescinded
  ASSERT_FALSE(core_->offers().empty());
  drainEvents("pa");
  drainEvents("np");

  markGone(agent_);
  collect();
  ASSERT_EQ(goneWrites(), 1u);
  EXPECT_EQ(persistOperations_.back().mark_agent_gone().agent_id().value(), agent_.value());
  EXPECT_TRUE(drainNews("pa").empty()) << "nothing is said before the registry write is durable";
  EXPECT_TRUE(drainNews("np").empty());
  EXPECT_TRUE(closed_.empty());
  EXPECT_EQ(core_->agents().size(), 1u);

  completePersists();
  EXPECT_TRUE(core_->registry().gone().contains(agent_));
  EXPECT_FALSE(core_->registry().admitted().contains(agent_));
  EXPECT_TRUE(core_->agents().empty());
  EXPECT_TRUE(core_->offers().empty());
  EXPECT_EQ(core_->counters().agentsMarkedGone, 1u);
  EXPECT_EQ(closed_, std::vector<std::string>{"agent-stream"});
  auto agentEvents = drainAgentEvents();
  ASSERT_FALSE(agentEvents.empty());
  EXPECT_EQ(agentEvents.back().type(), internal::AgentEvent::SHUTDOWN);
  EXPECT_FALSE(agentEvents.back().shutdown().message().empty());

  auto paEvents = drainEvents("pa");
  auto npEvents = drainEvents("np");
  auto paUpdates = updates(paEvents);
  ASSERT_EQ(paUpdates.size(), 1u);
  EXPECT_EQ(paUpdates[0].task_id().value(), "pa-1");
  EXPECT_EQ(paUpdates[0].state(), v1::TASK_GONE_BY_OPERATOR);
  EXPECT_EQ(paUpdates[0].reason(), v1::TaskStatus::REASON_AGENT_REMOVED_BY_OPERATOR);
  EXPECT_EQ(paUpdates[0].source(), v1::TaskStatus::SOURCE_MASTER);
  EXPECT_EQ(paUpdates[0].agent_id().value(), agent_.value());
  EXPECT_FALSE(paUpdates[0].has_uuid());
  auto npUpdates = updates(npEvents);
  ASSERT_EQ(npUpdates.size(), 1u);
  EXPECT_EQ(npUpdates[0].state(), v1::TASK_LOST);
  EXPECT_EQ(npUpdates[0].reason(), v1::TaskStatus::REASON_AGENT_REMOVED_BY_OPERATOR);

  size_t rescinds = 0;
  size_t failures = 0;
  for (const auto& events : {paEvents, npEvents}) {
    for (const Event& event : events) {
      rescinds += event.type() == Event::RESCIND;
      failures += event.type() == Event::FAILURE && event.failure().agent_id().value() == agent_.value();
    }
  }
  EXPECT_EQ(rescinds, 1u);
  EXPECT_EQ(failures, 2u);

  EXPECT_TRUE(core_->frameworks().at(pa_)->tasks.empty());
  const v1::Task* gone = completedTask(pa_, "pa-1");
  ASSERT_NE(gone, nullptr);
  EXPECT_EQ(gone->state(), v1::TASK_GONE_BY_OPERATOR);
  EXPECT_EQ(core_->counters().terminalTasks.at("TASK_GONE_BY_OPERATOR"), 2u);

  // Reconciliation remembers the task as gone.
  ASSERT_TRUE(core_->handleCall(reconcileCall(pa_, "pa-1", agent_), "pa", now_));
  auto reconciled = updates(drainNews("pa"));
  ASSERT_EQ(reconciled.size(), 1u);
  EXPECT_EQ(reconciled[0].state(), v1::TASK_GONE_BY_OPERATOR);
}

TEST_F(AgentGoneTest, GoneAgentCannotRegisterAgainEvenAfterAMasterRestart) {
  startTwoFrameworks();
  markGone(agent_);
  completePersists();

  internal::AgentCall reregister = reregisterCall(agent_, {{pa_, "pa-1"}});
  auto refused = core_->registerAgent(reregister, "new-stream", now_);
  ASSERT_FALSE(refused.isOk());
  EXPECT_EQ(refused.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(refused.error().find("gone"), std::string::npos) << refused.error();
  core_->takeEffects();
  EXPECT_TRUE(core_->agents().empty());

  store::RegistryState registry = core_->registry();
  core_ = std::make_unique<MasterCore>(baseOptions(), now_, registry);
  refused = core_->registerAgent(reregister, "newer-stream", now_);
  ASSERT_FALSE(refused.isOk());
  EXPECT_EQ(refused.status().code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(core_->recoveredAgents().empty());
}

TEST_F(AgentGoneTest, MarkingIsIdempotentAndUnknownAgentsAreRejected) {
  AgentId agent = registerAgent("cpus:1;mem:128");
  auto unknown = core_->markAgentGone(AgentId("no-such-agent"), now_);
  ASSERT_FALSE(unknown.isOk());
  EXPECT_EQ(unknown.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(unknown.error().find("no-such-agent"), std::string::npos);
  EXPECT_FALSE(core_->markAgentGone(AgentId(""), now_).isOk());

  uint64_t first = markGone(agent);
  EXPECT_EQ(markGone(agent), first) << "a second call while the write is under way waits for the same write";
  collect();
  EXPECT_EQ(goneWrites(), 1u);
  completePersists();
  auto again = core_->markAgentGone(agent, now_);
  ASSERT_TRUE(again.isOk());
  EXPECT_FALSE(again->has_value()) << "already gone: nothing to write (Mesos answers 200)";
  collect();
  EXPECT_EQ(goneWrites(), 1u);
}

TEST_F(AgentGoneTest, UnreachableAgentTasksMoveFromUnreachableToGone) {
  startTwoFrameworks();
  stopAnswering();
  completePersists();
  ASSERT_TRUE(core_->registry().unreachable().contains(agent_));
  ASSERT_EQ(core_->frameworks().at(pa_)->unreachableTasks.size(), 1u);
  drainEvents("pa");
  drainEvents("np");

  markGone(agent_);
  completePersists();
  EXPECT_TRUE(core_->registry().gone().contains(agent_));
  EXPECT_TRUE(core_->registry().unreachable().empty());
  auto paUpdates = updates(drainNews("pa"));
  ASSERT_EQ(paUpdates.size(), 1u);
  EXPECT_EQ(paUpdates[0].state(), v1::TASK_GONE_BY_OPERATOR);
  EXPECT_EQ(paUpdates[0].reason(), v1::TaskStatus::REASON_AGENT_REMOVED_BY_OPERATOR);
  EXPECT_TRUE(updates(drainNews("np")).empty()) << "TASK_LOST, terminal for it, was already sent";
  for (const FrameworkId& framework : {pa_, np_}) {
    EXPECT_TRUE(core_->frameworks().at(framework)->unreachableTasks.empty());
  }
  ASSERT_NE(completedTask(pa_, "pa-1"), nullptr);
  EXPECT_EQ(completedTask(pa_, "pa-1")->state(), v1::TASK_GONE_BY_OPERATOR);
}

TEST_F(AgentGoneTest, AgentMarkedGoneWhileBeingMarkedUnreachableEndsGone) {
  startTwoFrameworks();
  stopAnswering();  // the unreachable write is under way
  ASSERT_EQ(unreachableWrites(), 1u);
  markGone(agent_);
  completePersists();  // both writes, in order
  EXPECT_TRUE(core_->registry().gone().contains(agent_));
  auto paUpdates = updates(drainNews("pa"));
  ASSERT_EQ(paUpdates.size(), 2u);
  EXPECT_EQ(paUpdates[0].state(), v1::TASK_UNREACHABLE);
  EXPECT_EQ(paUpdates[1].state(), v1::TASK_GONE_BY_OPERATOR);
}

TEST_F(AgentGoneTest, RecoveredAgentThatHasNotReregisteredCanBeMarkedGone) {
  AgentId agent = registerAgent("cpus:1;mem:128");
  store::RegistryState registry = core_->registry();
  core_ = std::make_unique<MasterCore>(baseOptions(), now_, registry);  // master restart
  ASSERT_TRUE(core_->recoveredAgents().contains(agent));
  markGone(agent);
  completePersists();
  EXPECT_TRUE(core_->recoveredAgents().empty());
  EXPECT_TRUE(core_->registry().gone().contains(agent));
  EXPECT_TRUE(closed_.empty());
}

TEST_F(AgentGoneTest, FailedWriteLeavesTheAgentRegistered) {
  startTwoFrameworks();
  uint64_t ticket = markGone(agent_);
  collect();
  persists_.clear();
  core_->registryOperationDone(ticket, Status::ioError("disk full"), now_);
  collect();
  EXPECT_FALSE(core_->registry().gone().contains(agent_));
  EXPECT_EQ(core_->agents().size(), 1u);
  EXPECT_TRUE(updates(drainNews("pa")).empty());
  EXPECT_TRUE(closed_.empty());
  // The operator may try again.
  markGone(agent_);
  completePersists();
  EXPECT_TRUE(core_->registry().gone().contains(agent_));
}

}  // namespace
}  // namespace mezzo::master
