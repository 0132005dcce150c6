// Agent health on MasterCore with a manual clock: pings and pongs, missed
// pings, the removal rate limit, marking unreachable only after the
// registry write, re-admission, reconciliation of unreachable tasks, and
// the re-registration timeout after a master (re)start.
#include "master/agent_lifecycle_fixture.hpp"

namespace mezzo::master {
namespace {

using v1::FrameworkInfo;

class AgentHealthTest : public AgentLifecycleTest {};

TEST_F(AgentHealthTest, PingsEveryTimeoutAndAnsweredPingsKeepTheAgent) {
  AgentId agent = registerAgent("cpus:1;mem:128");
  drainAgentEvents();
  tickAt(14.9);
  EXPECT_EQ(pings(), 0u);
  tickAt(15);
  EXPECT_EQ(pings(), 1u);
  for (double t = 30; t <= 300; t += 15) {
    pong(agent);
    tickAt(t);
    EXPECT_EQ(pings(), 1u) << "at " << t;
  }
  EXPECT_EQ(core_->agents().size(), 1u);
  EXPECT_EQ(core_->agents().at(agent)->missedPings, 0u);
  EXPECT_TRUE(core_->registry().unreachable().empty());
}

TEST_F(AgentHealthTest, MissedPingsMarkTheAgentUnreachableOnlyAfterTheRegistryWrite) {
  startTwoFrameworks();
  for (double t = 15; t <= 75; t += 15) tickAt(t);
  EXPECT_EQ(core_->agents().at(agent_)->missedPings, 4u);
  EXPECT_TRUE(persists_.empty());
  now_ = at(80);
  core_->allocate(now_);  // an outstanding offer on the agent, to be rescinded
  ASSERT_FALSE(core_->offers().empty());
  drainEvents("pa");
  drainEvents("np");

  tickAt(90);  // fifth missed ping
  ASSERT_EQ(persists_.size(), 1u);
  EXPECT_TRUE(persistsMarkUnreachable(agent_));
  EXPECT_TRUE(drainNews("pa").empty()) << "nothing is said before the registry write is durable";
  EXPECT_TRUE(drainNews("np").empty());
  EXPECT_TRUE(closed_.empty());
  EXPECT_EQ(core_->agents().size(), 1u);

  completePersists();
  EXPECT_TRUE(core_->agents().empty());
  ASSERT_TRUE(core_->registry().unreachable().contains(agent_));
  EXPECT_EQ(core_->registry().unreachable().at(agent_).since, at(90));
  EXPECT_TRUE(core_->offers().empty());
  EXPECT_EQ(closed_, std::vector<std::string>{"agent-stream"});

  auto paEvents = drainEvents("pa");
  auto npEvents = drainEvents("np");
  auto paUpdates = updates(paEvents);
  ASSERT_EQ(paUpdates.size(), 1u);
  EXPECT_EQ(paUpdates[0].task_id().value(), "pa-1");
  EXPECT_EQ(paUpdates[0].state(), v1::TASK_UNREACHABLE);
  EXPECT_EQ(paUpdates[0].reason(), v1::TaskStatus::REASON_AGENT_REMOVED);
  EXPECT_EQ(paUpdates[0].source(), v1::TaskStatus::SOURCE_MASTER);
  EXPECT_FALSE(paUpdates[0].has_uuid());
  EXPECT_EQ(paUpdates[0].unreachable_time().nanoseconds(), at(90).time_since_epoch().count());
  auto npUpdates = updates(npEvents);
  ASSERT_EQ(npUpdates.size(), 1u);
  EXPECT_EQ(npUpdates[0].task_id().value(), "np-1");
  EXPECT_EQ(npUpdates[0].state(), v1::TASK_LOST);

  size_t rescinds = 0;
  size_t failures = 0;
  for (const auto& events : {paEvents, npEvents}) {
    for (const Event& event : events) {
      rescinds += event.type() == Event::RESCIND;
      if (event.type() == Event::FAILURE) {
        ++failures;
        EXPECT_EQ(event.failure().agent_id().value(), agent_.value());
        EXPECT_FALSE(event.failure().has_executor_id());
      }
    }
  }
  EXPECT_EQ(rescinds, 1u);
  EXPECT_EQ(failures, 2u);

  const FrameworkRecord& pa = *core_->frameworks().at(pa_);
  EXPECT_TRUE(pa.tasks.empty());
  ASSERT_EQ(pa.unreachableTasks.size(), 1u);
  EXPECT_EQ(pa.unreachableTasks[0].state(), v1::TASK_UNREACHABLE);
  EXPECT_EQ(core_->frameworks().at(np_)->unreachableTasks.size(), 1u);
  EXPECT_DOUBLE_EQ(core_->allocator().allocated(agent_).cpus(), 0);
  EXPECT_EQ(core_->counters().agentRemovalsUnhealthy, 1u);
}

TEST_F(AgentHealthTest, ADisconnectedAgentMissesItsPings) {
  AgentId agent = registerAgent("cpus:1;mem:128");
  now_ = at(1);
  core_->agentStreamClosed("agent-stream", now_);
  for (double t = 15; t <= 60; t += 15) tickAt(t);
  EXPECT_TRUE(persists_.empty());
  tickAt(75);
  EXPECT_TRUE(persistsMarkUnreachable(agent));
  completePersists();
  EXPECT_TRUE(core_->registry().unreachable().contains(agent));
  EXPECT_TRUE(closed_.empty()) << "no stream to close";
}

TEST_F(AgentHealthTest, ReconciliationAnswersUnreachableForTasksOfUnreachableAgents) {
  startTwoFrameworks();
  stopAnswering();
  completePersists();
  drainEvents("pa");
  drainEvents("np");

  now_ = at(100);
  ASSERT_TRUE(core_->handleCall(reconcileCall(pa_, "pa-1", std::nullopt), "pa", now_));
  auto answered = updates(drainEvents("pa"));
  ASSERT_EQ(answered.size(), 1u);
  EXPECT_EQ(answered[0].state(), v1::TASK_UNREACHABLE);
  EXPECT_EQ(answered[0].reason(), v1::TaskStatus::REASON_RECONCILIATION);
  EXPECT_EQ(answered[0].agent_id().value(), agent_.value()) << "the master remembers where the task ran";
  EXPECT_EQ(answered[0].unreachable_time().nanoseconds(), at(90).time_since_epoch().count());

  ASSERT_TRUE(core_->handleCall(reconcileCall(np_, "np-1", agent_), "np", now_));
  answered = updates(drainEvents("np"));
  ASSERT_EQ(answered.size(), 1u);
  EXPECT_EQ(answered[0].state(), v1::TASK_LOST);
}

TEST_F(AgentHealthTest, UnreachableAgentIsReadmittedAndItsTasksReportedAgain) {
  startTwoFrameworks();
  stopAnswering();
  // While the registry write is under way the agent is told to retry.
  internal::AgentCall reregister = reregisterCall(agent_, {{pa_, "pa-1"}, {np_, "np-1"}});
  auto refused = core_->registerAgent(reregister, "new-stream", now_);
  ASSERT_FALSE(refused.isOk());
  EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable);
  core_->takeEffects();
  completePersists();
  drainEvents("pa");
  drainEvents("np");
  persistOperations_.clear();
  drainAgentEvents();

  now_ = at(200);
  ASSERT_TRUE(core_->registerAgent(reregister, "new-stream", now_).isOk());
  collect();
  ASSERT_EQ(persistOperations_.size(), 1u);
  EXPECT_TRUE(persistOperations_[0].has_mark_agent_reachable());
  EXPECT_TRUE(drainAgentEvents().empty()) << "REGISTERED waits for the re-admission to be durable";
  EXPECT_TRUE(updates(drainEvents("pa")).empty());

  completePersists();
  auto agentEvents = drainAgentEvents();
  ASSERT_FALSE(agentEvents.empty());
  EXPECT_EQ(agentEvents[0].type(), internal::AgentEvent::REGISTERED);
  EXPECT_TRUE(core_->registry().admitted().contains(agent_));
  EXPECT_TRUE(core_->registry().unreachable().empty());
  for (const auto& [framework, stream, taskId] : {std::tuple{pa_, "pa", "pa-1"}, std::tuple{np_, "np", "np-1"}}) {
    auto reported = updates(drainEvents(stream));
    ASSERT_EQ(reported.size(), 1u) << stream;
    EXPECT_EQ(reported[0].task_id().value(), taskId);
    EXPECT_EQ(reported[0].state(), v1::TASK_RUNNING);
    EXPECT_EQ(reported[0].reason(), v1::TaskStatus::REASON_AGENT_REREGISTERED);
    EXPECT_EQ(reported[0].source(), v1::TaskStatus::SOURCE_MASTER);
    const FrameworkRecord& record = *core_->frameworks().at(framework);
    EXPECT_TRUE(record.tasks.contains(TaskId(taskId)));
    EXPECT_TRUE(record.unreachableTasks.empty());
  }
  EXPECT_DOUBLE_EQ(core_->allocator().allocated(agent_).cpus(), 2);

  // It is pinged again like any agent.
  tickAt(215);
  EXPECT_EQ(pings(), 1u);
}

// A task reported TASK_DROPPED because a re-registration did not list it,
// and listed running by the next one, is reported again with its real
// state and leaves the completed tasks (it was in both `tasks` and
// `completed_tasks`, never reported again).
TEST_F(AgentHealthTest, ReadoptedTaskOnceReportedDroppedIsReportedAgainAndLeavesCompletedTasks) {
  startTwoFrameworks();
  ASSERT_TRUE(core_->registerAgent(reregisterCall(agent_, {{np_, "np-1"}}), "stream-2", now_).isOk());
  auto dropped = updates(drainEvents("pa"));
  ASSERT_EQ(dropped.size(), 1u);
  EXPECT_EQ(dropped[0].state(), v1::TASK_DROPPED);
  EXPECT_EQ(core_->frameworks().at(pa_)->completedTasks.size(), 1u);

  ASSERT_TRUE(core_->registerAgent(reregisterCall(agent_, {{pa_, "pa-1"}, {np_, "np-1"}}), "stream-3", now_).isOk());
  auto reported = updates(drainEvents("pa"));
  ASSERT_EQ(reported.size(), 1u);
  EXPECT_EQ(reported[0].task_id().value(), "pa-1");
  EXPECT_EQ(reported[0].state(), v1::TASK_RUNNING);
  EXPECT_EQ(reported[0].reason(), v1::TaskStatus::REASON_AGENT_REREGISTERED);
  EXPECT_EQ(reported[0].source(), v1::TaskStatus::SOURCE_MASTER);
  const FrameworkRecord& record = *core_->frameworks().at(pa_);
  EXPECT_TRUE(record.tasks.contains(TaskId("pa-1")));
  EXPECT_TRUE(record.completedTasks.empty());
  EXPECT_TRUE(updates(drainEvents("np")).empty()) << "np-1 was never reported ended";
}

// An agent that hangs up before its admission is durable stays admitted
// in the registry: it is tracked as a disconnected agent and marked
// unreachable after its missed pings, rather than a phantom that never
// ages out (and that a restarted master counts as missing).
TEST_F(AgentHealthTest, AgentHangingUpBeforeItsAdmissionIsDurableAgesOutAsDisconnected) {
  internal::AgentCall call;
  call.set_protocol_version(internal::PROTOCOL_VERSION_CURRENT);
  call.set_type(internal::AgentCall::REGISTER);
  call.mutable_register_()->mutable_agent_info()->set_hostname("host1");
  Resources::parse("cpus:1;mem:128")->toProto(call.mutable_register_()->mutable_agent_info()->mutable_resources());
  auto id = core_->registerAgent(call, "hung-up", now_);
  ASSERT_TRUE(id.isOk());
  collect();
  core_->agentStreamClosed("hung-up", now_);
  completePersists();
  ASSERT_TRUE(core_->registry().admitted().contains(*id));
  ASSERT_TRUE(core_->agents().contains(*id));
  EXPECT_FALSE(core_->agents().at(*id)->connected);

  for (double t = 15; t <= 75; t += 15) tickAt(t);
  EXPECT_TRUE(persistsMarkUnreachable(*id));
  completePersists();
  EXPECT_TRUE(core_->registry().unreachable().contains(*id));
  EXPECT_FALSE(core_->registry().admitted().contains(*id));
}

TEST_F(AgentHealthTest, RemovalRateLimitSpacesMarkingsAndAPongCancelsAQueuedOne) {
  MasterOptions options = baseOptions();
  options.agentRemovalRate = RemovalRate{1, std::chrono::seconds(10)};
  core_ = std::make_unique<MasterCore>(options, now_);
  AgentId a = registerAgent("cpus:1;mem:128", "a");
  AgentId b = registerAgent("cpus:1;mem:128", "b");
  AgentId c = registerAgent("cpus:1;mem:128", "c");
  for (double t = 15; t <= 90; t += 15) tickAt(t);
  EXPECT_EQ(unreachableWrites(), 1u) << "one marking per 10 seconds";
  EXPECT_EQ(core_->counters().agentUnreachableScheduled, 3u);
  completePersists();
  EXPECT_EQ(core_->registry().unreachable().size(), 1u);

  // One of the queued agents answers: it is no longer marked.
  AgentId marked = core_->registry().unreachable().begin()->first;
  std::vector<std::pair<AgentId, std::string>> queued;
  for (const auto& [id, stream] : {std::pair{a, "a"}, std::pair{b, "b"}, std::pair{c, "c"}}) {
    if (id != marked) queued.emplace_back(id, stream);
  }
  ASSERT_EQ(queued.size(), 2u);
  now_ = at(95);
  pong(queued[0].first, queued[0].second);
  EXPECT_EQ(core_->counters().agentUnreachableCanceled, 1u);

  tickAt(99.9);
  EXPECT_EQ(unreachableWrites(), 1u);
  tickAt(100);
  ASSERT_EQ(unreachableWrites(), 2u);
  EXPECT_TRUE(persistsMarkUnreachable(queued[1].first));
  completePersists();
  EXPECT_TRUE(core_->agents().contains(queued[0].first));
  EXPECT_EQ(core_->agents().at(queued[0].first)->missedPings, 0u);
  tickAt(105);
  EXPECT_EQ(unreachableWrites(), 2u) << "the agent that answered stays registered";
}

TEST_F(AgentHealthTest, FailedRegistryWriteKeepsTheAgentAndRetries) {
  AgentId agent = registerAgent("cpus:1;mem:128");
  for (double t = 15; t <= 90; t += 15) tickAt(t);
  ASSERT_EQ(persists_.size(), 1u);
  core_->registryOperationDone(persists_[0], Status::ioError("disk full"), now_);
  persists_.clear();
  collect();
  EXPECT_TRUE(core_->agents().contains(agent));
  EXPECT_TRUE(core_->registry().unreachable().empty());
  EXPECT_TRUE(closed_.empty());
  tickAt(105);
  ASSERT_EQ(persists_.size(), 1u) << "the next missed ping tries again";
  completePersists();
  EXPECT_TRUE(core_->registry().unreachable().contains(agent));
}

class ReregistrationTimeoutTest : public AgentHealthTest {
 protected:
  ReregistrationTimeoutTest() {
    store::RegistryState registry;
    for (const char* id : {"old-S0", "old-S1"}) {
      v1::AgentInfo info;
      info.set_hostname("host1");
      info.mutable_id()->set_value(id);
      EXPECT_TRUE(registry.apply(store::admitAgent(info)));
    }
    MasterOptions options = baseOptions();
    options.agentReregisterTimeout = std::chrono::seconds(60);
    core_ = std::make_unique<MasterCore>(options, now_, registry);
  }
};

TEST_F(ReregistrationTimeoutTest, AgentsNotBackInTimeAreMarkedUnreachable) {
  FrameworkId framework = subscribe("pa", 3600, std::nullopt, /*partitionAware=*/true);
  drainEvents("pa");
  EXPECT_EQ(core_->recoveredAgents().size(), 2u);

  // Until the timeout, tasks on agents not back yet get no answer.
  ASSERT_TRUE(core_->handleCall(reconcileCall(framework, "t0", AgentId("old-S0")), "pa", now_));
  ASSERT_TRUE(core_->handleCall(reconcileCall(framework, "t0", std::nullopt), "pa", now_));
  EXPECT_TRUE(updates(drainEvents("pa")).empty());

  now_ = at(10);
  ASSERT_TRUE(core_->registerAgent(reregisterCall(AgentId("old-S1"), {}), "agent-stream", now_).isOk());
  collect();
  EXPECT_TRUE(persists_.empty()) << "a known agent needs no registry write";
  EXPECT_EQ(core_->recoveredAgents(), std::set<AgentId>{AgentId("old-S0")});
  for (double t = 15; t < 60; t += 15) {
    pong(AgentId("old-S1"));
    tickAt(t);
  }
  pong(AgentId("old-S1"));
  tickAt(59.9);
  EXPECT_TRUE(persists_.empty());

  tickAt(60);
  ASSERT_EQ(persists_.size(), 1u);
  EXPECT_TRUE(persistsMarkUnreachable(AgentId("old-S0")));
  completePersists();
  EXPECT_TRUE(core_->registry().unreachable().contains(AgentId("old-S0")));
  EXPECT_TRUE(core_->registry().admitted().contains(AgentId("old-S1")));
  EXPECT_TRUE(core_->recoveredAgents().empty());
  EXPECT_EQ(core_->counters().recoveryAgentRemovals, 1u);

  ASSERT_TRUE(core_->handleCall(reconcileCall(framework, "t0", AgentId("old-S0")), "pa", now_));
  ASSERT_TRUE(core_->handleCall(reconcileCall(framework, "t1", AgentId("old-S1")), "pa", now_));
  auto answered = updates(drainEvents("pa"));
  ASSERT_EQ(answered.size(), 2u);
  EXPECT_EQ(answered[0].state(), v1::TASK_UNREACHABLE);
  EXPECT_EQ(answered[0].unreachable_time().nanoseconds(), at(60).time_since_epoch().count());
  EXPECT_EQ(answered[1].state(), v1::TASK_GONE) << "a registered agent that does not know the task";
}

TEST_F(ReregistrationTimeoutTest, TheTimeoutRestartsWhenTheMasterIsElected) {
  core_->startAgentReregistrationTimeout(at(100));
  tickAt(159);
  EXPECT_TRUE(persists_.empty());
  tickAt(160);
  EXPECT_EQ(persists_.size(), 2u);
}

TEST(RemovalRate, ParsesMesosNotation) {
  auto rate = parseRemovalRate("1/10secs");
  ASSERT_TRUE(rate.isOk()) << rate.error();
  EXPECT_EQ(rate->permits, 1u);
  EXPECT_EQ(rate->per, std::chrono::seconds(10));
  rate = parseRemovalRate("5/20mins");
  ASSERT_TRUE(rate.isOk());
  EXPECT_EQ(RateLimiter(*rate).interval(), std::chrono::minutes(4));
  for (const char* bad : {"", "10secs", "0/1secs", "x/1secs", "1/", "1/abc", "-1/1secs", "1/0secs"}) {
    EXPECT_FALSE(parseRemovalRate(bad).isOk()) << bad;
  }
}

TEST(RemovalRate, LimiterGivesOnePermitPerInterval) {
  RateLimiter limiter(RemovalRate{2, std::chrono::seconds(10)});
  EXPECT_TRUE(limiter.tryAcquire(at(0)));
  EXPECT_FALSE(limiter.tryAcquire(at(4.9)));
  EXPECT_TRUE(limiter.tryAcquire(at(5)));
  EXPECT_FALSE(limiter.tryAcquire(at(5)));
  EXPECT_TRUE(limiter.tryAcquire(at(100)));
}

}  // namespace
}  // namespace mezzo::master
