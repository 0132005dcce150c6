// A master restarted on the same work dir recovers its SQLite registry: it
// knows the agents it admitted before they come back, and takes them back
// under the same ids.
#include <gtest/gtest.h>

#include <csignal>

#include "harness/process.hpp"

namespace mezzo::testing {
namespace {

std::vector<std::string> ids(const nlohmann::json& list) {
  std::vector<std::string> out;
  for (const auto& item : list) out.push_back(item["id"]);
  return out;
}

TEST(MasterRestart, SqliteRegistryRemembersAdmittedAgents) {
  LocalCluster cluster(ClusterOptions().withAgents(2));
  auto before = getJson(cluster.master(), "/state");
  std::vector<std::string> agents = ids(before["slaves"]);
  ASSERT_EQ(agents.size(), 2u);
  EXPECT_TRUE(before["recovered_slaves"].empty());

  // Freeze the agents so that they cannot re-register, then kill -9 the master.
  cluster.agentProcess(0).signal(SIGSTOP);
  cluster.agentProcess(1).signal(SIGSTOP);
  cluster.restartMaster();
  auto recovered = getJson(cluster.master(), "/state");
  EXPECT_TRUE(recovered["slaves"].empty());
  std::vector<std::string> remembered = ids(recovered["recovered_slaves"]);
  std::sort(remembered.begin(), remembered.end());
  std::sort(agents.begin(), agents.end());
  EXPECT_EQ(remembered, agents);

  cluster.agentProcess(0).signal(SIGCONT);
  cluster.agentProcess(1).signal(SIGCONT);
  ASSERT_TRUE(cluster.waitForAgents(2, std::chrono::seconds(30))) << cluster.masterProcess().log();
  auto after = getJson(cluster.master(), "/state");
  std::vector<std::string> back = ids(after["slaves"]);
  std::sort(back.begin(), back.end());
  EXPECT_EQ(back, agents) << "agents keep their ids across a master restart";
  EXPECT_TRUE(after["recovered_slaves"].empty());
}

// --recovery_agent_removal_limit: a master that finds most of its agents
// missing after the re-registration timeout exits rather than mark them.
TEST(MasterRestart, TooManyMissingAgentsStopTheMasterInsteadOfBeingMarked) {
  LocalCluster cluster(ClusterOptions()
                           .withAgents(2)
                           .withMasterFlag("--agent_reregister_timeout=2secs")
                           .withMasterFlag("--recovery_agent_removal_limit=40%"));
  cluster.agentProcess(0).signal(SIGSTOP);
  cluster.agentProcess(1).signal(SIGSTOP);
  cluster.restartMaster();
  EXPECT_EQ(getJson(cluster.master(), "/state")["recovered_slaves"].size(), 2u);
  EXPECT_TRUE(waitUntil([&] { return !cluster.masterProcess().running(); }, std::chrono::seconds(20)))
      << cluster.masterProcess().log();
  EXPECT_NE(cluster.masterProcess().log().find("removal limit exceeded"), std::string::npos)
      << cluster.masterProcess().log();
  cluster.agentProcess(0).signal(SIGCONT);
  cluster.agentProcess(1).signal(SIGCONT);

  // Restarted (as a supervisor would), it finds them back: nothing was marked.
  cluster.restartMaster();
  ASSERT_TRUE(cluster.waitForAgents(2, std::chrono::seconds(30))) << cluster.masterProcess().log();
  auto state = getJson(cluster.master(), "/state");
  EXPECT_EQ(state["unreachable_slaves"], 0);
}

TEST(MasterRestart, InMemoryRegistryForgets) {
  LocalCluster cluster(ClusterOptions().withMasterFlag("--registry=in_memory"));
  cluster.agentProcess(0).signal(SIGSTOP);
  cluster.restartMaster();
  EXPECT_TRUE(getJson(cluster.master(), "/state")["recovered_slaves"].empty());
  cluster.agentProcess(0).signal(SIGCONT);
  EXPECT_TRUE(cluster.waitForAgents(1, std::chrono::seconds(30)));
}

}  // namespace
}  // namespace mezzo::testing
