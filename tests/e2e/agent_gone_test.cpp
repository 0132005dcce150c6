// MARK_AGENT_GONE end to end, with a real master (SQLite registry), agent
// and two schedulers on loopback: the partition-aware framework sees
// TASK_GONE_BY_OPERATOR and the other TASK_LOST (reason
// REASON_AGENT_REMOVED_BY_OPERATOR), the agent is told to shut down and its
// process exits, /state and GET_AGENTS no longer list it, a second call is
// answered 200, an unknown agent 400, and a master restarted on the same
// registry still refuses the gone agent's REGISTER (403). The agent,
// restarted, forgot its id and joins as a new agent (as in Mesos).
#include <gtest/gtest.h>

#include "harness/operator_client.hpp"
#include "harness/process.hpp"
#include "harness/scheduler_session.hpp"
#include "mezzo/common/codec.hpp"
#include "mezzo/internal/agent_protocol.pb.h"

namespace mezzo::testing {
namespace {

using Capability = v1::FrameworkInfo::Capability;
using namespace std::chrono_literals;

std::string markGoneBody(const std::string& agentId) {
  return R"({"type":"MARK_AGENT_GONE","mark_agent_gone":{"agent_id":{"value":")" + agentId + R"("}}})";
}

unsigned markGone(const net::Endpoint& master, const std::string& agentId, std::string* body = nullptr) {
  auto response = operatorCall(master, markGoneBody(agentId));
  EXPECT_TRUE(response.isOk()) << (response.isOk() ? "" : response.error());
  if (!response.isOk()) return 0;
  if (body != nullptr) *body = response->body;
  return response->status;
}

// A hand-made re-registration of `agentId` (what a gone agent that kept its
// id would send): the master answers 403 for good.
unsigned reregister(const net::Endpoint& master, const std::string& agentId) {
  internal::AgentCall call;
  call.set_protocol_version(internal::PROTOCOL_VERSION_CURRENT);
  call.set_type(internal::AgentCall::REGISTER);
  call.mutable_agent_id()->set_value(agentId);
  auto* info = call.mutable_register_()->mutable_agent_info();
  info->set_hostname("127.0.0.1");
  info->mutable_id()->set_value(agentId);
  v1::Resource* cpus = info->add_resources();
  cpus->set_name("cpus");
  cpus->set_type(v1::Value::SCALAR);
  cpus->mutable_scalar()->set_value(1);
  net::ClientRequest request;
  request.target = "/internal/v1/agent";
  request.headers = {{"Content-Type", std::string(kProtobufMediaType)},
                     {"Accept", std::string(kProtobufMediaType)}};
  request.body = call.SerializeAsString();
  request.timeout = 5s;
  auto response = net::httpRequestSync(master, std::move(request));
  return response.isOk() ? response->status : 0;
}

struct RunningTask {
  std::unique_ptr<SchedulerSession> session;
  std::string agentId;
};

RunningTask startTask(const net::Endpoint& master, const std::string& name, bool partitionAware) {
  RunningTask running;
  running.session = std::make_unique<SchedulerSession>(master);
  std::vector<Capability::Type> capabilities;
  if (partitionAware) capabilities.push_back(Capability::PARTITION_AWARE);
  EXPECT_EQ(running.session->subscribe(subscribeCall(name, 3600, capabilities)), 200u);
  EXPECT_TRUE(running.session->waitForType(Event::SUBSCRIBED));
  auto offer = waitForOffer(*running.session);
  EXPECT_TRUE(offer) << "no offer for " << name;
  if (!offer) return running;
  Call launch = launchCall(*offer, {commandTask(name + "-task", *offer, "sleep 600", "cpus:0.5;mem:64")});
  launch.mutable_accept()->mutable_filters()->set_refuse_seconds(3600);
  EXPECT_EQ(running.session->call(launch)->status, 202u);
  auto statuses = running.session->followTask(name + "-task", v1::TASK_RUNNING);
  EXPECT_TRUE(!statuses.empty() && statuses.back().state() == v1::TASK_RUNNING);
  running.agentId = offer->agent_id().value();
  return running;
}

TEST(AgentGone, GoneAgentIsShutDownItsTasksReportedAndItIsRefusedForGood) {
  LocalCluster cluster;  // SQLite registry in the master's work dir
  RunningTask aware = startTask(cluster.master(), "aware", true);
  RunningTask plain = startTask(cluster.master(), "plain", false);
  ASSERT_FALSE(aware.agentId.empty());
  const std::string agentId = aware.agentId;

  std::string body;
  EXPECT_EQ(markGone(cluster.master(), "no-such-agent", &body), 400u);
  EXPECT_NE(body.find("no-such-agent"), std::string::npos) << body;
  EXPECT_EQ(getJson(cluster.master(), "/state")["slaves"].size(), 1u) << "a bad call changes nothing";

  ASSERT_EQ(markGone(cluster.master(), agentId, &body), 200u) << body;
  auto gone = aware.session->waitForUpdate("aware-task", 10s);
  ASSERT_TRUE(gone) << cluster.masterProcess().log();
  EXPECT_EQ(gone->state(), v1::TASK_GONE_BY_OPERATOR);
  EXPECT_EQ(gone->reason(), v1::TaskStatus::REASON_AGENT_REMOVED_BY_OPERATOR);
  EXPECT_EQ(gone->source(), v1::TaskStatus::SOURCE_MASTER);
  auto lost = plain.session->waitForUpdate("plain-task", 10s);
  ASSERT_TRUE(lost);
  EXPECT_EQ(lost->state(), v1::TASK_LOST);
  EXPECT_EQ(lost->reason(), v1::TaskStatus::REASON_AGENT_REMOVED_BY_OPERATOR);

  EXPECT_TRUE(waitUntil([&] { return !cluster.agentProcess(0).running(); }, 15s))
      << "the agent shuts down\n"
      << cluster.agentProcess(0).log();

  auto state = getJson(cluster.master(), "/state");
  EXPECT_TRUE(state["slaves"].empty()) << state["slaves"].dump();
  EXPECT_EQ(state["unreachable_slaves"], 0);
  auto agents = operatorCall(cluster.master(), R"({"type":"GET_AGENTS"})");
  ASSERT_TRUE(agents.isOk());
  auto agentsJson = nlohmann::json::parse(agents->body, nullptr, false);
  EXPECT_TRUE(agentsJson["get_agents"].value("agents", nlohmann::json::array()).empty()) << agents->body;

  EXPECT_EQ(markGone(cluster.master(), agentId), 200u) << "already gone: 200 again, as in Mesos";
  EXPECT_EQ(reregister(cluster.master(), agentId), 403u);

  // Durable: a master restarted on the same registry still refuses it.
  cluster.restartMaster();
  EXPECT_EQ(reregister(cluster.master(), agentId), 403u);
  state = getJson(cluster.master(), "/state");
  EXPECT_TRUE(state["slaves"].empty());
  EXPECT_TRUE(state["recovered_slaves"].empty()) << "a gone agent is not waited for";
  EXPECT_EQ(markGone(cluster.master(), agentId), 200u);

  // The machine may serve again, as a new agent.
  cluster.startAgent(0);
  ASSERT_TRUE(cluster.waitForAgents(1, 20s)) << cluster.agentProcess(0).log();
  state = getJson(cluster.master(), "/state");
  ASSERT_EQ(state["slaves"].size(), 1u);
  EXPECT_NE(state["slaves"][0]["id"], agentId);
}

}  // namespace
}  // namespace mezzo::testing
