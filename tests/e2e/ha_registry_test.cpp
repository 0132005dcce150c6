// HA masters (--zk) share one registry in ZooKeeper -- the default with --zk,
// no --registry needed -- so a newly elected leader knows the agents,
// weights, quota and maintenance schedule its predecessor made durable,
// before any agent comes back. A per-master registry with --zk
// (--registry=sqlite) is refused at start-up.
#include <gtest/gtest.h>

#include <csignal>

#include "harness/ha_masters.hpp"
#include "harness/operator_client.hpp"

namespace mezzo::testing {
namespace {

using namespace std::chrono_literals;

nlohmann::json operatorJson(const net::Endpoint& master, const std::string& body) {
  auto response = operatorCall(master, body);
  if (!response.isOk() || response->status != 200) return nullptr;
  return response->body.empty() ? nlohmann::json::object() : nlohmann::json::parse(response->body, nullptr, false);
}

TEST(HaRegistry, WithZkAndNoRegistryFlagNewLeaderRecoversTheRegistryFromZooKeeper) {
  HaMasters masters;
  if (!masters.available()) GTEST_SKIP() << "ZooKeeper server could not be started";
  auto leader = masters.waitForLeader(20s);
  ASSERT_TRUE(leader);

  DaemonProcess agent("mezzo-agent",
                      {"--master=" + masters.zkUrl(), "--ip=127.0.0.1", "--port=0",
                       "--work_dir=" + (masters.dir() / "agent").string(), "--resources=cpus:4;mem:2048",
                       "--registration_backoff_factor=100ms"},
                      masters.dir() / "agent.log");
  std::string agentId;
  ASSERT_TRUE(waitUntil(
      [&] {
        auto slaves = getJson(masters.endpoint(*leader), "/state")["slaves"];
        if (slaves.size() != 1) return false;
        agentId = slaves[0]["id"];
        return true;
      },
      20s));

  ASSERT_FALSE(operatorJson(masters.endpoint(*leader), R"({"type":"UPDATE_WEIGHTS","update_weights":{
      "weight_infos":[{"role":"eng","weight":3}]}})").is_null());
  ASSERT_FALSE(operatorJson(masters.endpoint(*leader), R"({"type":"UPDATE_QUOTA","update_quota":{"quota_configs":[
      {"role":"eng","guarantees":{"cpus":{"value":1}},"limits":{"cpus":{"value":2}}}]}})").is_null());

  ASSERT_FALSE(operatorJson(masters.endpoint(*leader), R"({"type":"UPDATE_MAINTENANCE_SCHEDULE",
      "update_maintenance_schedule":{"schedule":{"windows":[{"machine_ids":[{"hostname":"m1","ip":"10.0.0.1"}],
      "unavailability":{"start":{"nanoseconds":4102444800000000000}}}]}}})").is_null());

  // Freeze the agent so that the next leader cannot learn of it from a
  // re-registration, then kill the leader.
  agent.signal(SIGSTOP);
  masters.process(*leader).kill9();
  auto next = masters.waitForLeader(30s);
  ASSERT_TRUE(next);
  ASSERT_NE(*next, *leader);

  auto state = getJson(masters.endpoint(*next), "/state");
  ASSERT_EQ(state["recovered_slaves"].size(), 1u) << state.dump();
  EXPECT_EQ(state["recovered_slaves"][0]["id"], agentId);
  auto weights = operatorJson(masters.endpoint(*next), R"({"type":"GET_WEIGHTS"})");
  ASSERT_EQ(weights["get_weights"]["weight_infos"].size(), 1u) << weights.dump();
  EXPECT_EQ(weights["get_weights"]["weight_infos"][0]["role"], "eng");
  EXPECT_EQ(weights["get_weights"]["weight_infos"][0]["weight"], 3);
  auto quota = operatorJson(masters.endpoint(*next), R"({"type":"GET_QUOTA"})");
  ASSERT_EQ(quota["get_quota"]["status"]["configs"].size(), 1u) << quota.dump();
  EXPECT_EQ(quota["get_quota"]["status"]["configs"][0]["limits"]["cpus"]["value"], 2);
  auto schedule = operatorJson(masters.endpoint(*next), R"({"type":"GET_MAINTENANCE_SCHEDULE"})");
  auto windows = schedule["get_maintenance_schedule"]["schedule"]["windows"];
  ASSERT_EQ(windows.size(), 1u) << schedule.dump();
  EXPECT_EQ(windows[0]["machine_ids"][0]["hostname"], "m1");

  // The agent comes back under the same id, without a second admission.
  agent.signal(SIGCONT);
  ASSERT_TRUE(waitUntil(
      [&] {
        auto slaves = getJson(masters.endpoint(*next), "/state")["slaves"];
        return slaves.size() == 1 && slaves[0]["id"] == agentId;
      },
      30s))
      << masters.process(*next).log();
  EXPECT_TRUE(getJson(masters.endpoint(*next), "/state")["recovered_slaves"].empty());
}

TEST(HaRegistry, LocalRegistryWithZkRefusesToStart) {
  auto dir = makeTempDir("mezzo-ha-sqlite");
  DaemonProcess master("mezzo-master",
                       {"--ip=127.0.0.1", "--port=0", "--zk=zk://127.0.0.1:1/mezzo", "--registry=sqlite",
                        "--work_dir=" + (dir / "master").string()},
                       dir / "master.log");
  auto exitCode = master.waitForExit(10s);
  ASSERT_TRUE(exitCode.has_value()) << "a master with --zk and its own SQLite registry must not start";
  EXPECT_NE(*exitCode, 0);
  EXPECT_NE(master.log().find("--registry=sqlite cannot be used with --zk"), std::string::npos) << master.log();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace mezzo::testing
