// Maintenance end to end, with a real master (SQLite registry), an agent on
// machine "maint-host" and a scheduler on loopback: a schedule posted with
// UPDATE_MAINTENANCE_SCHEDULE reaches the framework as an inverse offer and
// as `unavailability` on its offers; ACCEPT_INVERSE_OFFERS shows in
// GET_MAINTENANCE_STATUS; the v0 endpoints /machine/down and /machine/up
// take the machine out (its task is reported TASK_LOST, the agent shuts
// down and is refused while DOWN) and bring it back; the schedule and the
// DOWN mode survive a master restart; bad input gets 400 and changes nothing.
#include <gtest/gtest.h>

#include "harness/operator_client.hpp"
#include "harness/process.hpp"
#include "harness/scheduler_session.hpp"

namespace mezzo::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr const char* kMachine = R"({"hostname":"maint-host","ip":"127.0.0.1"})";

std::string scheduleBody() {
  return std::string(R"({"type":"UPDATE_MAINTENANCE_SCHEDULE","update_maintenance_schedule":{"schedule":)") +
         R"({"windows":[{"machine_ids":[)" + kMachine +
         R"(],"unavailability":{"start":{"nanoseconds":4102444800000000000},"duration":{"nanoseconds":3600000000000}}}]}}})";
}

json operatorJson(const net::Endpoint& master, const std::string& body, unsigned expect = 200) {
  auto response = operatorCall(master, body);
  EXPECT_TRUE(response.isOk());
  if (!response.isOk()) return nullptr;
  EXPECT_EQ(response->status, expect) << body << " -> " << response->body;
  if (response->status != 200 || response->body.empty()) return response->body;
  return json::parse(response->body, nullptr, false);
}

// POST of a v0 endpoint; returns the status and fills `body`.
unsigned postV0(const net::Endpoint& master, const std::string& path, const std::string& payload,
                std::string* body = nullptr) {
  net::ClientRequest request;
  request.target = path;
  request.headers = {{"Content-Type", "application/json"}};
  request.body = payload;
  auto response = net::httpRequestSync(master, std::move(request));
  if (!response.isOk()) return 0;
  if (body != nullptr) *body = response->body;
  return response->status;
}

TEST(Maintenance, ScheduleInverseOffersMachineDownAndUp) {
  LocalCluster cluster(ClusterOptions().withAgentFlag("--hostname=maint-host"));
  SchedulerSession session(cluster.master());
  ASSERT_EQ(session.subscribe(subscribeCall("maint", 3600)), 200u);
  ASSERT_TRUE(session.waitForType(Event::SUBSCRIBED));
  auto offer = waitForOffer(session);
  ASSERT_TRUE(offer);
  EXPECT_FALSE(offer->has_unavailability());
  Call launch = launchCall(*offer, {commandTask("long", *offer, "sleep 600", "cpus:0.5;mem:64")});
  ASSERT_EQ(session.call(launch)->status, 202u);
  auto running = session.followTask("long", v1::TASK_RUNNING);
  ASSERT_TRUE(!running.empty() && running.back().state() == v1::TASK_RUNNING);

  // Bad schedules are refused whole.
  operatorJson(cluster.master(),
               R"({"type":"UPDATE_MAINTENANCE_SCHEDULE","update_maintenance_schedule":{"schedule":{"windows":[{"machine_ids":[],"unavailability":{"start":{"nanoseconds":1}}}]}}})",
               400);
  operatorJson(cluster.master(),
               R"({"type":"UPDATE_MAINTENANCE_SCHEDULE","update_maintenance_schedule":{"schedule":{"windows":[{"machine_ids":[{"ip":"300.1.1.1"}],"unavailability":{"start":{"nanoseconds":1}}}]}}})",
               400);
  operatorJson(cluster.master(), R"({"type":"START_MAINTENANCE","start_maintenance":{"machines":[)" +
                                     std::string(kMachine) + "]}}",
               400);  // not scheduled
  auto empty = operatorJson(cluster.master(), R"({"type":"GET_MAINTENANCE_SCHEDULE"})");
  EXPECT_TRUE(empty["get_maintenance_schedule"]["schedule"].value("windows", json::array()).empty());

  operatorJson(cluster.master(), scheduleBody());
  // An inverse offer for the agent, and offers of it carrying the unavailability.
  std::optional<v1::InverseOffer> inverse;
  std::optional<v1::Offer> drainingOffer;
  session.waitFor(
      [&](const Event& event) {
        if (event.type() == Event::INVERSE_OFFERS && event.inverse_offers().inverse_offers_size() > 0) {
          inverse = event.inverse_offers().inverse_offers(0);
        }
        if (event.type() == Event::OFFERS) {
          for (const v1::Offer& offer : event.offers().offers()) {
            if (offer.has_unavailability()) drainingOffer = offer;
          }
        }
        return inverse && drainingOffer;
      },
      20s);
  ASSERT_TRUE(inverse) << cluster.masterProcess().log();
  ASSERT_TRUE(drainingOffer);
  const v1::InverseOffer inverseOffer = *inverse;
  EXPECT_EQ(inverseOffer.agent_id().value(), offer->agent_id().value());
  EXPECT_EQ(inverseOffer.framework_id().value(), session.frameworkId());
  EXPECT_EQ(inverseOffer.unavailability().start().nanoseconds(), 4102444800000000000);
  EXPECT_EQ(drainingOffer->unavailability().duration().nanoseconds(), 3600000000000);

  Call accept;
  accept.set_type(Call::ACCEPT_INVERSE_OFFERS);
  *accept.mutable_accept_inverse_offers()->add_inverse_offer_ids() = inverseOffer.id();
  accept.mutable_accept_inverse_offers()->mutable_filters()->set_refuse_seconds(3600);
  ASSERT_EQ(session.call(accept)->status, 202u);
  json status;
  ASSERT_TRUE(waitUntil(
      [&] {
        status = operatorJson(cluster.master(), R"({"type":"GET_MAINTENANCE_STATUS"})");
        auto statuses = status["get_maintenance_status"]["status"]["draining_machines"][0]["statuses"];
        return statuses.is_array() && !statuses.empty() && statuses[0]["status"] == "ACCEPT";
      },
      10s))
      << status.dump();
  auto draining = status["get_maintenance_status"]["status"]["draining_machines"][0];
  EXPECT_EQ(draining["id"]["hostname"], "maint-host");
  EXPECT_EQ(draining["statuses"][0]["framework_id"]["value"], session.frameworkId());

  // Durable: a restarted master knows the schedule (v0 and v1 views).
  cluster.restartMaster();
  auto schedule = getJson(cluster.master(), "/master/maintenance/schedule");
  ASSERT_EQ(schedule["windows"].size(), 1u) << schedule.dump();
  EXPECT_EQ(schedule["windows"][0]["machine_ids"][0]["hostname"], "maint-host");
  ASSERT_TRUE(cluster.waitForAgents(1, 20s));
  SchedulerSession again(cluster.master());
  ASSERT_EQ(again.subscribe(subscribeCall("maint", 3600, {}, session.frameworkId())), 200u);
  ASSERT_TRUE(again.waitForType(Event::SUBSCRIBED));

  // Machine down (v0): the agent leaves, its task is lost, the agent process exits.
  std::string body;
  EXPECT_EQ(postV0(cluster.master(), "/master/machine/down", "{not json", &body), 400u);
  EXPECT_EQ(postV0(cluster.master(), "/master/machine/down", std::string("[") + kMachine + "]", &body), 200u) << body;
  auto lost = again.waitForUpdate("long", 15s);
  ASSERT_TRUE(lost) << cluster.masterProcess().log();
  EXPECT_EQ(lost->state(), v1::TASK_LOST);
  EXPECT_EQ(lost->reason(), v1::TaskStatus::REASON_AGENT_REMOVED_BY_OPERATOR);
  EXPECT_EQ(lost->message(), "Operator initiated 'Machine DOWN'");
  ASSERT_TRUE(waitUntil([&] { return !cluster.agentProcess(0).running(); }, 15s))
      << "the agent is told to shut down\n"
      << cluster.agentProcess(0).log();
  auto maintenance = getJson(cluster.master(), "/master/maintenance/status");
  ASSERT_EQ(maintenance["down_machines"].size(), 1u) << maintenance.dump();
  EXPECT_TRUE(getJson(cluster.master(), "/state")["slaves"].empty());

  // While DOWN the agent may not come back; a DOWN machine may not leave the schedule.
  cluster.startAgent(0);
  EXPECT_TRUE(waitUntil([&] { return !cluster.agentProcess(0).running(); }, 15s))
      << cluster.agentProcess(0).log();
  operatorJson(cluster.master(), R"({"type":"UPDATE_MAINTENANCE_SCHEDULE","update_maintenance_schedule":{"schedule":{}}})",
               400);

  // Machine up (v1): it leaves the schedule and its agent registers again.
  operatorJson(cluster.master(), R"({"type":"STOP_MAINTENANCE","stop_maintenance":{"machines":[)" +
                                     std::string(kMachine) + "]}}");
  auto after = operatorJson(cluster.master(), R"({"type":"GET_MAINTENANCE_SCHEDULE"})");
  EXPECT_TRUE(after["get_maintenance_schedule"]["schedule"].value("windows", json::array()).empty()) << after.dump();
  cluster.startAgent(0);
  EXPECT_TRUE(cluster.waitForAgents(1, 20s)) << cluster.agentProcess(0).log();
}

}  // namespace
}  // namespace mezzo::testing
