// The v1 operator API of the master (POST /api/v1) over the wire: reads in
// JSON and protobuf, UPDATE_WEIGHTS / UPDATE_QUOTA applied all-or-nothing,
// both remembered by a master restarted on its SQLite registry, and clear
// 4xx/501 answers for bad or unsupported calls.
#include <gtest/gtest.h>

#include "harness/operator_client.hpp"
#include "harness/process.hpp"
#include "mezzo/common/codec.hpp"
#include "mezzo/v1/master/master.pb.h"

namespace mezzo::testing {
namespace {

using nlohmann::literals::operator""_json_pointer;

nlohmann::json call(const net::Endpoint& master, const std::string& body, unsigned expectStatus = 200) {
  auto response = operatorCall(master, body);
  EXPECT_TRUE(response.isOk()) << (response.isOk() ? "" : response.error());
  if (!response.isOk()) return nullptr;
  EXPECT_EQ(response->status, expectStatus) << body << " -> " << response->body;
  if (response->status != 200 || response->body.empty()) return response->body;
  return nlohmann::json::parse(response->body, nullptr, false);
}

std::map<std::string, double> weightsOf(const nlohmann::json& reply) {
  std::map<std::string, double> out;
  auto infos = reply.value("/get_weights/weight_infos"_json_pointer, nlohmann::json::array());
  for (const auto& info : infos) out[info["role"]] = info["weight"];
  return out;
}

TEST(OperatorApi, ReadsInJsonAndProtobuf) {
  LocalCluster cluster;
  auto health = call(cluster.master(), R"({"type":"GET_HEALTH"})");
  EXPECT_EQ(health["type"], "GET_HEALTH");
  EXPECT_EQ(health["get_health"]["healthy"], true);

  auto state = call(cluster.master(), R"({"type":"GET_STATE"})");
  EXPECT_EQ(state["type"], "GET_STATE");
  ASSERT_EQ(state["get_state"]["get_agents"]["agents"].size(), 1u);
  const auto& agent = state["get_state"]["get_agents"]["agents"][0];
  EXPECT_EQ(agent["active"], true);
  EXPECT_FALSE(agent["agent_info"]["id"]["value"].get<std::string>().empty());
  EXPECT_FALSE(agent["total_resources"].empty());

  auto master = call(cluster.master(), R"({"type":"GET_MASTER"})");
  EXPECT_EQ(master["get_master"]["master_info"]["port"], cluster.master().port);
  EXPECT_GT(master["get_master"]["start_time"].get<double>(), 0);

  auto flags = call(cluster.master(), R"({"type":"GET_FLAGS"})");
  bool sawPort = false;
  auto flagList = flags["get_flags"]["flags"];
  for (const auto& flag : flagList) sawPort |= flag["name"] == "port";
  EXPECT_TRUE(sawPort);

  auto metrics = call(cluster.master(), R"({"type":"GET_METRICS"})");
  bool sawElected = false;
  double memoryTotal = 0;
  auto metricList = metrics["get_metrics"]["metrics"];
  for (const auto& metric : metricList) {
    if (metric["name"] == "master/elected") sawElected = metric["value"] == 1;
    if (metric["name"] == "system/mem_total_bytes") memoryTotal = metric["value"].get<double>();
  }
  EXPECT_TRUE(sawElected);
  EXPECT_GT(memoryTotal, 0.0) << "system/* metrics";

  // The same call answered in protobuf.
  auto binary = operatorCall(cluster.master(), R"({"type":"GET_AGENTS"})", "application/x-protobuf");
  ASSERT_TRUE(binary.isOk());
  ASSERT_EQ(binary->status, 200u);
  EXPECT_EQ(binary->header("Content-Type"), "application/x-protobuf");
  v1::master::Response response;
  ASSERT_TRUE(response.ParseFromString(binary->body));
  EXPECT_EQ(response.type(), v1::master::Response::GET_AGENTS);
  EXPECT_EQ(response.get_agents().agents_size(), 1);
}

TEST(OperatorApi, BadAndUnsupportedCallsGetClearErrors) {
  LocalCluster cluster(ClusterOptions().withAgents(0));
  auto response = operatorCall(cluster.master(), R"({"type":)");
  ASSERT_TRUE(response.isOk());
  EXPECT_EQ(response->status, 400u);
  EXPECT_FALSE(response->body.empty());
  call(cluster.master(), R"({"get_health":{}})", 400);
  call(cluster.master(), R"({"type":"NO_SUCH_CALL"})", 400);
  call(cluster.master(), R"({"type":"UPDATE_WEIGHTS"})", 400);
  call(cluster.master(), R"({"type":"START_MAINTENANCE"})", 400);  // start_maintenance missing
  auto unsupported = operatorCall(cluster.master(), R"({"type":"DRAIN_AGENT"})");
  ASSERT_TRUE(unsupported.isOk());
  EXPECT_EQ(unsupported->status, 501u);
  EXPECT_NE(unsupported->body.find("DRAIN_AGENT"), std::string::npos);
  auto teardown = operatorCall(cluster.master(), R"({"type":"TEARDOWN","teardown":{"framework_id":{"value":"nope"}}})");
  ASSERT_TRUE(teardown.isOk());
  EXPECT_EQ(teardown->status, 400u) << "unknown framework";

  net::ClientRequest get;
  get.method = boost::beast::http::verb::get;
  get.target = "/api/v1";
  auto wrongMethod = net::httpRequestSync(cluster.master(), get);
  ASSERT_TRUE(wrongMethod.isOk());
  EXPECT_EQ(wrongMethod->status, 405u);
  // The master is still serving.
  EXPECT_EQ(call(cluster.master(), R"({"type":"GET_HEALTH"})")["get_health"]["healthy"], true);
}

TEST(OperatorApi, WeightsAndQuotaAreAllOrNothingAndSurviveARestart) {
  LocalCluster cluster;  // one agent: cpus:2;mem:1024
  call(cluster.master(), R"({"type":"UPDATE_WEIGHTS","update_weights":{"weight_infos":[
      {"role":"eng","weight":2.5},{"role":"ops","weight":-1}]}})", 400);
  EXPECT_TRUE(weightsOf(call(cluster.master(), R"({"type":"GET_WEIGHTS"})")).empty())
      << "a refused update changes no weight";
  call(cluster.master(), R"({"type":"UPDATE_WEIGHTS","update_weights":{"weight_infos":[
      {"role":"eng","weight":2.5},{"role":"ops","weight":0.5}]}})");
  EXPECT_EQ(weightsOf(call(cluster.master(), R"({"type":"GET_WEIGHTS"})")),
            (std::map<std::string, double>{{"eng", 2.5}, {"ops", 0.5}}));
  bool engListed = false;
  auto roles = call(cluster.master(), R"({"type":"GET_ROLES"})")["get_roles"]["roles"];
  for (const auto& role : roles) {
    if (role["name"] == "eng") engListed = role["weight"] == 2.5;
  }
  EXPECT_TRUE(engListed);

  // Guarantees beyond the cluster are refused unless forced; limits below
  // guarantees always.
  const std::string tooBig = R"({"role":"eng","guarantees":{"cpus":{"value":64}}})";
  call(cluster.master(), R"({"type":"UPDATE_QUOTA","update_quota":{"quota_configs":[)" + tooBig + "]}}", 400);
  call(cluster.master(), R"({"type":"UPDATE_QUOTA","update_quota":{"quota_configs":[
      {"role":"eng","guarantees":{"cpus":{"value":2}},"limits":{"cpus":{"value":1}}}]}})", 400);
  call(cluster.master(), R"({"type":"UPDATE_QUOTA","update_quota":{"quota_configs":[
      {"role":"*","limits":{"cpus":{"value":1}}}]}})", 400);
  call(cluster.master(), R"({"type":"UPDATE_QUOTA","update_quota":{"force":true,"quota_configs":[)" + tooBig + "]}}");
  call(cluster.master(), R"({"type":"UPDATE_QUOTA","update_quota":{"quota_configs":[
      {"role":"ops","limits":{"cpus":{"value":1},"mem":{"value":256}}}]}})");
  auto quota = call(cluster.master(), R"({"type":"GET_QUOTA"})");
  ASSERT_EQ(quota["get_quota"]["status"]["configs"].size(), 2u) << quota.dump();
  EXPECT_EQ(quota["get_quota"]["status"]["configs"][0]["role"], "eng");
  EXPECT_EQ(quota["get_quota"]["status"]["configs"][0]["guarantees"]["cpus"]["value"], 64);
  EXPECT_EQ(quota["get_quota"]["status"]["configs"][1]["limits"]["mem"]["value"], 256);

  cluster.restartMaster();
  EXPECT_EQ(weightsOf(call(cluster.master(), R"({"type":"GET_WEIGHTS"})")),
            (std::map<std::string, double>{{"eng", 2.5}, {"ops", 0.5}}))
      << "weights come back from the SQLite registry";
  auto recovered = call(cluster.master(), R"({"type":"GET_QUOTA"})");
  EXPECT_EQ(recovered["get_quota"]["status"]["configs"], quota["get_quota"]["status"]["configs"])
      << "quota comes back from the SQLite registry";

  // An empty config removes a role's quota.
  call(cluster.master(), R"({"type":"UPDATE_QUOTA","update_quota":{"quota_configs":[{"role":"eng"}]}})");
  auto after = call(cluster.master(), R"({"type":"GET_QUOTA"})");
  ASSERT_EQ(after["get_quota"]["status"]["configs"].size(), 1u);
  EXPECT_EQ(after["get_quota"]["status"]["configs"][0]["role"], "ops");
}

}  // namespace
}  // namespace mezzo::testing
