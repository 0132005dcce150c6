// Registry garbage collection and the post-recovery removal limit on
// MasterCore with a manual clock: old unreachable and gone entries (and the
// oldest beyond the count limit) leave the registry in one write, with the
// unreachable tasks the master kept for them; after a failover, a master
// that would have to mark more than --recovery_agent_removal_limit of its
// agents unreachable aborts instead.
#include "master/agent_lifecycle_fixture.hpp"

namespace mezzo::master {
namespace {

class RegistryGcTest : public AgentLifecycleTest {
 protected:
  RegistryGcTest() {
    MasterOptions options = baseOptions();
    options.registryGcInterval = std::chrono::minutes(10);
    options.registryMaxAgentAge = std::chrono::hours(1);
    options.registryMaxAgentCount = 2;
    core_ = std::make_unique<MasterCore>(options, now_);
  }

  std::vector<internal::RegistryOperation::PruneAgents> pruneWrites() {
    std::vector<internal::RegistryOperation::PruneAgents> out;
    for (const auto& op : persistOperations_) {
      if (op.has_prune_agents()) out.push_back(op.prune_agents());
    }
    return out;
  }
};

TEST_F(RegistryGcTest, OldUnreachableAgentsAndTheirTasksAreForgotten) {
  startTwoFrameworks();
  stopAnswering();  // unreachable at t=90 s
  completePersists();
  ASSERT_TRUE(core_->registry().unreachable().contains(agent_));
  ASSERT_EQ(core_->frameworks().at(pa_)->unreachableTasks.size(), 1u);

  tickAt(30 * 60);  // GC runs, the entry is 28.5 minutes old
  EXPECT_TRUE(pruneWrites().empty());
  tickAt(60 * 60 + 89);  // the next GC: 59.98 minutes old
  EXPECT_TRUE(pruneWrites().empty());
  tickAt(60 * 60 + 91);  // not yet time for the next GC
  EXPECT_TRUE(pruneWrites().empty());
  tickAt(70 * 60 + 89);  // older than an hour
  auto writes = pruneWrites();
  ASSERT_EQ(writes.size(), 1u);
  ASSERT_EQ(writes[0].unreachable_size(), 1);
  EXPECT_EQ(writes[0].unreachable(0).value(), agent_.value());
  EXPECT_TRUE(core_->registry().unreachable().contains(agent_)) << "only once the write is durable";
  completePersists();
  EXPECT_FALSE(core_->registry().unreachable().contains(agent_));
  EXPECT_TRUE(core_->frameworks().at(pa_)->unreachableTasks.empty());
  EXPECT_EQ(core_->counters().registryPrunedAgents, 1u);

  // It may come back later: admitted again under its id, like a new agent.
  ASSERT_TRUE(core_->registerAgent(reregisterCall(agent_, {}), "agent-stream-2", now_).isOk());
  completePersists();
  EXPECT_TRUE(core_->registry().admitted().contains(agent_));
}

TEST_F(RegistryGcTest, GoneAgentsBeyondTheCountLimitGoOldestFirst) {
  std::vector<AgentId> agents;
  for (int i = 0; i < 4; ++i) {
    now_ = at(i);
    agents.push_back(registerAgent("cpus:1;mem:64", "agent-" + std::to_string(i)));
  }
  for (int i = 0; i < 4; ++i) {
    now_ = at(10 + i);
    ASSERT_TRUE(core_->markAgentGone(agents[i], now_).isOk());
    completePersists();
  }
  ASSERT_EQ(core_->registry().gone().size(), 4u);
  tickAt(10 * 60);
  auto writes = pruneWrites();
  ASSERT_EQ(writes.size(), 1u);
  ASSERT_EQ(writes[0].gone_size(), 2) << "two kept (--registry_max_agent_count)";
  EXPECT_EQ(writes[0].gone(0).value(), agents[0].value());
  EXPECT_EQ(writes[0].gone(1).value(), agents[1].value());
  completePersists();
  EXPECT_EQ(core_->registry().gone().size(), 2u);
  EXPECT_TRUE(core_->registry().gone().contains(agents[3]));
}

class RecoveryLimitTest : public AgentLifecycleTest {
 protected:
  void restartWithFourAgents(double limit) {
    store::RegistryState registry;
    for (int i = 0; i < 4; ++i) {
      v1::AgentInfo info;
      info.set_hostname("host1");
      info.mutable_id()->set_value("old-S" + std::to_string(i));
      ASSERT_TRUE(registry.apply(store::admitAgent(info)));
    }
    MasterOptions options = baseOptions();
    options.agentReregisterTimeout = std::chrono::seconds(60);
    options.recoveryAgentRemovalLimit = limit;
    core_ = std::make_unique<MasterCore>(options, now_, registry);
    ASSERT_TRUE(core_->registerAgent(reregisterCall(AgentId("old-S0"), {}), "agent-stream", now_).isOk());
    collect();
  }

  std::vector<Abort> abortsAt(double seconds) {
    now_ = at(seconds);
    core_->tick(now_);
    std::vector<Abort> aborts;
    for (Effect& effect : core_->takeEffects()) {
      if (auto* abort = std::get_if<Abort>(&effect)) aborts.push_back(*abort);
      if (auto* persist = std::get_if<PersistRegistry>(&effect)) persistOperations_.push_back(persist->operation);
    }
    return aborts;
  }
};

TEST_F(RecoveryLimitTest, TooManyMissingAgentsAbortInsteadOfBeingMarked) {
  restartWithFourAgents(0.5);  // 3 of 4 (75%) will be missing
  EXPECT_TRUE(abortsAt(59).empty());
  auto aborts = abortsAt(60);
  ASSERT_EQ(aborts.size(), 1u);
  EXPECT_NE(aborts[0].reason.find("3 of 4"), std::string::npos) << aborts[0].reason;
  EXPECT_EQ(unreachableWrites(), 0u) << "no agent is marked";
}

TEST_F(RecoveryLimitTest, WithinTheLimitMissingAgentsAreMarked) {
  restartWithFourAgents(0.75);
  for (double t = 15; t <= 60; t += 15) {
    pong(AgentId("old-S0"));
    EXPECT_TRUE(abortsAt(t).empty());
  }
  EXPECT_EQ(unreachableWrites(), 3u);
}

}  // namespace
}  // namespace mezzo::master
