// Bad input over the wire, table-driven: every malformed or mismatched
// request gets the documented 4xx (or a TASK_ERROR/TASK_DROPPED/TASK_LOST
// update), and the master keeps serving a well-behaved framework throughout.
#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

#include "harness/process.hpp"
#include "harness/scheduler_session.hpp"
#include "mezzo/common/json_proto.hpp"

namespace mezzo::testing {
namespace {

struct HttpCase {
  std::string name;
  std::string method = "POST";
  std::vector<std::pair<std::string, std::string>> headers;  // "{stream}" and "{framework}" are substituted
  std::string body;
  unsigned expectedStatus;
  std::string expectedMessage;  // substring of the response body
};

std::string substitute(std::string text, const SchedulerSession& session) {
  for (auto [key, value] : {std::pair<std::string, std::string>{"{stream}", session.streamId()},
                            {"{framework}", session.frameworkId()}}) {
    for (size_t at = text.find(key); at != std::string::npos; at = text.find(key)) text.replace(at, key.size(), value);
  }
  return text;
}

// Sends a request's head and half its body, then hangs up.
void hangUpMidRequest(const net::Endpoint& endpoint) {
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket socket(io);
  boost::asio::ip::tcp::resolver resolver(io);
  boost::asio::connect(socket, resolver.resolve(endpoint.host, std::to_string(endpoint.port)));
  std::string request =
      "POST /api/v1/scheduler HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Content-Length: 500\r\n\r\n{\"type\":\"SUBSCRIBE\",";
  boost::asio::write(socket, boost::asio::buffer(request));
  socket.close();
}

class BadInputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster_ = std::make_unique<LocalCluster>(ClusterOptions().withMasterFlag("--max_request_body_bytes=65536"));
    good_ = std::make_unique<SchedulerSession>(cluster_->master());
    ASSERT_EQ(good_->subscribe(subscribeCall("good-citizen")), 200u);
    ASSERT_TRUE(good_->waitForType(Event::SUBSCRIBED));
  }

  net::ClientResponse send(const HttpCase& c) {
    net::ClientRequest request;
    request.method = boost::beast::http::string_to_verb(c.method);
    request.target = "/api/v1/scheduler";
    for (const auto& [name, value] : c.headers) request.headers.emplace_back(name, substitute(value, *good_));
    request.body = substitute(c.body, *good_);
    auto response = net::httpRequestSync(cluster_->master(), request);
    EXPECT_TRUE(response.isOk()) << c.name << ": " << response.error();
    return response.isOk() ? *response : net::ClientResponse{};
  }

  // The master still works for the well-behaved framework: it can launch
  // and finish a task.
  void expectMasterStillServes(const std::string& taskId) {
    ASSERT_TRUE(cluster_->masterProcess().running());
    ASSERT_EQ(good_->call([] { Call c; c.set_type(Call::REVIVE); return c; }())->status, 202u);
    auto offers = good_->waitFor([](const Event& e) { return e.type() == Event::OFFERS && e.offers().offers_size() > 0; });
    ASSERT_TRUE(offers) << "no offers after bad input";
    v1::Offer offer = offers->offers().offers(0);
    ASSERT_EQ(good_->call(launchCall(offer, {commandTask(taskId, offer, "true")}))->status, 202u);
    auto statuses = good_->followTask(taskId, v1::TASK_FINISHED);
    ASSERT_FALSE(statuses.empty());
    EXPECT_EQ(statuses.back().state(), v1::TASK_FINISHED);
  }

  std::unique_ptr<LocalCluster> cluster_;
  std::unique_ptr<SchedulerSession> good_;
};

TEST_F(BadInputTest, MalformedRequestsGetClear4xxAndChangeNothing) {
  const std::string json = "application/json";
  const std::string revive = R"({"type":"REVIVE","framework_id":{"value":"{framework}"}})";
  const std::vector<HttpCase> cases = {
      {"invalid JSON", "POST", {{"Content-Type", json}, {"Mesos-Stream-Id", "{stream}"}}, "{not json", 400, "JSON"},
      {"JSON that is not an object", "POST", {{"Content-Type", json}}, "[1,2]", 400, "object"},
      {"unknown call type", "POST", {{"Content-Type", json}, {"Mesos-Stream-Id", "{stream}"}},
       R"({"type":"FLY_TO_THE_MOON","framework_id":{"value":"{framework}"}})", 400, "type"},
      {"wrong JSON type for a field", "POST", {{"Content-Type", json}},
       R"({"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"u","name":"n","failover_timeout":{"a":1}}}})",
       400, "failover_timeout"},
      {"missing required field", "POST", {{"Content-Type", json}},
       R"({"type":"SUBSCRIBE","subscribe":{"framework_info":{"name":"no-user"}}})", 400, "Missing required fields"},
      {"missing Mesos-Stream-Id", "POST", {{"Content-Type", json}}, revive, 400, "Mesos-Stream-Id"},
      {"wrong Mesos-Stream-Id", "POST", {{"Content-Type", json}, {"Mesos-Stream-Id", "not-the-stream"}}, revive, 400,
       "stream ID"},
      {"unknown framework", "POST", {{"Content-Type", json}, {"Mesos-Stream-Id", "{stream}"}},
       R"({"type":"REVIVE","framework_id":{"value":"no-such-framework"}})", 400, "Framework cannot be found"},
      {"SUBSCRIBE carrying a stream id", "POST", {{"Content-Type", json}, {"Mesos-Stream-Id", "{stream}"}},
       R"({"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"u","name":"n"}}})", 400, "Mesos-Stream-Id"},
      {"missing Content-Type", "POST", {}, revive, 400, "Content-Type"},
      {"unsupported Content-Type", "POST", {{"Content-Type", "text/xml"}}, revive, 415, "Content-Type"},
      {"unacceptable Accept on SUBSCRIBE", "POST", {{"Content-Type", json}, {"Accept", "text/html"}},
       R"({"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"u","name":"n"}}})", 406, "Accept"},
      {"GET instead of POST", "GET", {}, "", 405, "POST"},
      {"invalid role", "POST", {{"Content-Type", json}},
       R"({"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"u","name":"n","role":"a//b"}}})", 400, "Role"},
      {"body over the limit", "POST", {{"Content-Type", json}, {"Mesos-Stream-Id", "{stream}"}},
       std::string(70000, ' '), 413, "limit"},
      {"malformed protobuf", "POST", {{"Content-Type", "application/x-protobuf"}, {"Mesos-Stream-Id", "{stream}"}},
       "\xff\xff\xff\xff garbage", 400, "protobuf"},
      {"ACKNOWLEDGE with a malformed uuid", "POST", {{"Content-Type", json}, {"Mesos-Stream-Id", "{stream}"}},
       R"({"type":"ACKNOWLEDGE","framework_id":{"value":"{framework}"},"acknowledge":{"agent_id":{"value":"x"},"task_id":{"value":"t"},"uuid":"AAAA"}})",
       400, "uuid"},
  };
  for (const HttpCase& c : cases) {
    net::ClientResponse response = send(c);
    EXPECT_EQ(response.status, c.expectedStatus) << c.name << ": " << response.body;
    EXPECT_NE(response.body.find(c.expectedMessage), std::string::npos)
        << c.name << ": body '" << response.body << "' lacks '" << c.expectedMessage << "'";
  }
  auto state = getJson(cluster_->master(), "/state");
  EXPECT_EQ(state["frameworks"].size(), 1u) << "a rejected SUBSCRIBE must not register a framework";
  expectMasterStillServes("after-http-cases");
}

TEST_F(BadInputTest, DisconnectedFrameworkGets403) {
  SchedulerSession other(cluster_->master());
  ASSERT_EQ(other.subscribe(subscribeCall("will-leave", /*failoverTimeout=*/300)), 200u);
  ASSERT_TRUE(other.waitForType(Event::SUBSCRIBED));
  other.disconnect();
  ASSERT_TRUE(waitUntil(
      [&] {
        nlohmann::json state = getJson(cluster_->master(), "/state");
        for (const auto& framework : state["frameworks"]) {
          if (framework["id"] == other.frameworkId() && framework["connected"] == false) return true;
        }
        return false;
      },
      std::chrono::seconds(5)));
  Call revive;
  revive.set_type(Call::REVIVE);
  auto response = other.call(revive);
  ASSERT_TRUE(response.isOk());
  EXPECT_EQ(response->status, 403u) << response->body;
  EXPECT_NE(response->body.find("not subscribed"), std::string::npos);
}

TEST_F(BadInputTest, BadLaunchesBecomeTaskUpdatesNotHttpErrors) {
  auto offers = good_->waitFor([](const Event& e) { return e.type() == Event::OFFERS && e.offers().offers_size() > 0; });
  ASSERT_TRUE(offers);
  v1::Offer offer = offers->offers().offers(0);

  // Resources beyond the offer, a duplicate task id in the same call, an invalid id.
  ASSERT_EQ(good_->call(launchCall(offer, {commandTask("ok", offer, "sleep 30"), commandTask("ok", offer, "true"),
                                           commandTask("huge", offer, "true", "cpus:64;mem:32"),
                                           commandTask("bad/id", offer, "true")}))
                ->status,
            202u);
  std::map<std::string, v1::TaskStatus> errors;
  for (int i = 0; i < 3; ++i) {
    auto event = good_->waitFor([](const Event& e) {
      return e.type() == Event::UPDATE && e.update().status().state() == v1::TASK_ERROR;
    });
    ASSERT_TRUE(event) << "missing TASK_ERROR #" << i;
    errors[event->update().status().task_id().value() + "#" + std::to_string(i)] = event->update().status();
  }
  for (const auto& [key, status] : errors) {
    EXPECT_EQ(status.reason(), v1::TaskStatus::REASON_TASK_INVALID) << key;
    EXPECT_EQ(status.source(), v1::TaskStatus::SOURCE_MASTER) << key;
    EXPECT_FALSE(status.has_uuid()) << key;
  }

  // The same offer again, and an offer id that never existed.
  ASSERT_EQ(good_->call(launchCall(offer, {commandTask("reused", offer, "true")}))->status, 202u);
  auto reused = good_->waitForUpdate("reused");
  ASSERT_TRUE(reused);
  EXPECT_EQ(reused->state(), v1::TASK_LOST);  // TASK_DROPPED for partition-aware frameworks
  EXPECT_EQ(reused->reason(), v1::TaskStatus::REASON_INVALID_OFFERS);
  v1::Offer bogus = offer;
  bogus.mutable_id()->set_value("no-such-offer");
  ASSERT_EQ(good_->call(launchCall(bogus, {commandTask("bogus", bogus, "true")}))->status, 202u);
  auto dropped = good_->waitForUpdate("bogus");
  ASSERT_TRUE(dropped);
  EXPECT_EQ(dropped->reason(), v1::TaskStatus::REASON_INVALID_OFFERS);

  // The valid task of the first call still ran.
  auto ok = good_->followTask("ok", v1::TASK_RUNNING);
  ASSERT_FALSE(ok.empty());
  EXPECT_EQ(ok.back().state(), v1::TASK_RUNNING);
}

TEST_F(BadInputTest, ClientsVanishingMidRequestOrMidStreamDoNotHurt) {
  for (int i = 0; i < 20; ++i) hangUpMidRequest(cluster_->master());
  for (int i = 0; i < 5; ++i) {
    SchedulerSession quitter(cluster_->master());
    ASSERT_EQ(quitter.subscribe(subscribeCall("quitter-" + std::to_string(i))), 200u);
    quitter.disconnect();
  }
  // Quitters had failover_timeout 0: they are removed, the good framework stays.
  ASSERT_TRUE(waitUntil([&] { return getJson(cluster_->master(), "/state")["frameworks"].size() == 1; },
                        std::chrono::seconds(5)));
  expectMasterStillServes("after-vanishing-clients");
}

}  // namespace
}  // namespace mezzo::testing
