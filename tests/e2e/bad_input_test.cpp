// Bad input over the wire, table-driven: every malformed or mismatched
// request gets the documented 4xx (or a TASK_ERROR/TASK_DROPPED/TASK_LOST
// update), and the master keeps serving a well-behaved framework throughout.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iterator>
#include <thread>

#include "harness/operator_client.hpp"
#include "harness/process.hpp"
#include "harness/scheduler_session.hpp"
#include "mezzo/common/json_proto.hpp"
#include "mezzo/net/http_server.hpp"

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
      {"role name over 255 characters", "POST", {{"Content-Type", json}},
       R"({"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"u","name":"n","role":")" +
           std::string(10000, 'r') + R"("}}})",
       400, "at most 255"},
      {"ACCEPT with RESERVE without an id", "POST", {{"Content-Type", json}, {"Mesos-Stream-Id", "{stream}"}},
       R"({"type":"ACCEPT","framework_id":{"value":"{framework}"},"accept":{"offer_ids":[{"value":"o"}],
           "operations":[{"type":"RESERVE"}]}})",
       400, "RESERVE"},
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

// What Mezzo cannot do is refused before anything runs: TASK_ERROR
// (REASON_TASK_INVALID) naming the field, and the agent starts nothing.
TEST_F(BadInputTest, UnsupportedContainerFieldsAreTaskErrorsAndNothingStarts) {
  auto offers = good_->waitFor([](const Event& e) { return e.type() == Event::OFFERS && e.offers().offers_size() > 0; });
  ASSERT_TRUE(offers);
  v1::Offer offer = offers->offers().offers(0);
  std::map<std::string, std::string> fieldOf = {{"docker", "'container.docker'"},
                                                {"image", "'container.mesos.image'"},
                                                {"cni", "'container.network_infos'"},
                                                {"secret", "'command.environment.variables[0]'"}};
  std::vector<v1::TaskInfo> tasks;
  for (const auto& [id, field] : fieldOf) tasks.push_back(commandTask(id, offer, "touch started-" + id));
  tasks[0].mutable_container()->set_type(v1::ContainerInfo::MESOS);  // cni
  tasks[0].mutable_container()->add_network_infos()->set_name("cni-net");
  tasks[1].mutable_container()->set_type(v1::ContainerInfo::DOCKER);  // docker
  tasks[1].mutable_container()->mutable_docker()->set_image("alpine:3");
  tasks[2].mutable_container()->set_type(v1::ContainerInfo::MESOS);  // image
  tasks[2].mutable_container()->mutable_mesos()->mutable_image()->set_type(v1::Image::DOCKER);
  tasks[2].mutable_container()->mutable_mesos()->mutable_image()->mutable_docker()->set_name("alpine:3");
  auto* secret = tasks[3].mutable_command()->mutable_environment()->add_variables();  // secret
  secret->set_name("TOKEN");
  secret->set_type(v1::Environment::Variable::SECRET);
  secret->mutable_secret()->set_type(v1::Secret::REFERENCE);
  secret->mutable_secret()->mutable_reference()->set_name("vault/token");
  ASSERT_EQ(good_->call(launchCall(offer, tasks))->status, 202u);

  for (size_t i = 0; i < fieldOf.size(); ++i) {
    auto event = good_->waitFor([](const Event& e) { return e.type() == Event::UPDATE; });
    ASSERT_TRUE(event) << "missing update #" << i;
    const v1::TaskStatus& status = event->update().status();
    ASSERT_TRUE(fieldOf.contains(status.task_id().value())) << status.task_id().value();
    EXPECT_EQ(status.state(), v1::TASK_ERROR) << status.task_id().value();
    EXPECT_EQ(status.reason(), v1::TaskStatus::REASON_TASK_INVALID);
    EXPECT_NE(status.message().find(fieldOf[status.task_id().value()]), std::string::npos) << status.message();
  }
  auto agentState = getJson(net::Endpoint{"127.0.0.1", cluster_->agentPort(0)}, "/state");
  ASSERT_TRUE(agentState.is_object());
  for (const auto& framework : agentState["frameworks"]) {
    EXPECT_TRUE(framework["executors"].empty()) << agentState.dump();
  }
  EXPECT_TRUE(getJson(cluster_->master(), "/tasks")["tasks"].empty());
}

// RESERVE (not implemented) with an id is answered OPERATION_ERROR and
// reconciled; without an id the ACCEPT is refused with 400 and nothing of
// it applies: the offer stays valid and the launch in it did not happen.
TEST_F(BadInputTest, UnsupportedOfferOperationsAreAnsweredOrRefusedWhole) {
  auto offers = good_->waitFor([](const Event& e) { return e.type() == Event::OFFERS && e.offers().offers_size() > 0; });
  ASSERT_TRUE(offers);
  v1::Offer offer = offers->offers().offers(0);
  Call accept = launchCall(offer, {commandTask("with-reserve", offer, "sleep 30")});
  auto* reserve = accept.mutable_accept()->add_operations();
  reserve->set_type(v1::Offer::Operation::RESERVE);
  auto refused = good_->call(accept);
  ASSERT_TRUE(refused.isOk());
  EXPECT_EQ(refused->status, 400u);
  EXPECT_NE(refused->body.find("RESERVE"), std::string::npos) << refused->body;

  // The same offer and task id again: had anything applied, the offer would
  // be gone (TASK_LOST) or the id taken (TASK_ERROR).
  reserve->mutable_id()->set_value("reserve-1");
  ASSERT_EQ(good_->call(accept)->status, 202u);
  auto error = good_->waitForType(Event::UPDATE_OPERATION_STATUS);
  ASSERT_TRUE(error);
  EXPECT_EQ(error->update_operation_status().status().operation_id().value(), "reserve-1");
  EXPECT_EQ(error->update_operation_status().status().state(), v1::OPERATION_ERROR);
  EXPECT_EQ(error->update_operation_status().status().agent_id().value(), offer.agent_id().value());
  auto running = good_->followTask("with-reserve", v1::TASK_RUNNING);
  ASSERT_FALSE(running.empty());
  EXPECT_EQ(running.back().state(), v1::TASK_RUNNING);

  Call reconcile;
  reconcile.set_type(Call::RECONCILE_OPERATIONS);
  reconcile.mutable_reconcile_operations()->add_operations()->mutable_operation_id()->set_value("reserve-1");
  reconcile.mutable_reconcile_operations()->add_operations()->mutable_operation_id()->set_value("unheard-of");
  ASSERT_EQ(good_->call(reconcile)->status, 202u);
  std::map<std::string, v1::OperationState> reconciled;
  for (int i = 0; i < 2; ++i) {
    auto event = good_->waitForType(Event::UPDATE_OPERATION_STATUS);
    ASSERT_TRUE(event) << "missing reconciliation answer #" << i;
    const v1::OperationStatus& status = event->update_operation_status().status();
    reconciled[status.operation_id().value()] = status.state();
  }
  EXPECT_EQ(reconciled["reserve-1"], v1::OPERATION_ERROR);
  EXPECT_EQ(reconciled["unheard-of"], v1::OPERATION_UNKNOWN);
}

// Roles longer than 255 characters are refused wherever a role is named.
TEST_F(BadInputTest, OverlongRoleNamesAreRefusedByTheOperatorApi) {
  const std::string role(300, 'r');
  for (const std::string& body :
       {R"({"type":"UPDATE_WEIGHTS","update_weights":{"weight_infos":[{"role":")" + role + R"(","weight":2}]}})",
        R"({"type":"UPDATE_QUOTA","update_quota":{"quota_configs":[{"role":")" + role +
            R"(","guarantees":{"cpus":{"value":1}}}]}})"}) {
    auto response = operatorCall(cluster_->master(), body);
    ASSERT_TRUE(response.isOk());
    EXPECT_EQ(response->status, 400u) << body.substr(0, 30);
    EXPECT_NE(response->body.find("at most 255"), std::string::npos) << response->body;
  }
  EXPECT_EQ(getJson(cluster_->master(), "/roles").dump().find(role), std::string::npos) << "nothing was applied";
}

// ------------------------------------------------ faults that once took a daemon down

net::ClientResponse postJson(const net::Endpoint& endpoint, const std::string& target, std::string body) {
  net::ClientRequest request;
  request.target = target;
  request.headers.emplace_back("Content-Type", "application/json");
  request.body = std::move(body);
  auto response = net::httpRequestSync(endpoint, request);
  EXPECT_TRUE(response.isOk()) << target << ": " << response.error();
  return response.isOk() ? *response : net::ClientResponse{};
}

std::string nested(const std::string& open, const std::string& inner, const std::string& close, int levels) {
  std::string text;
  text.reserve((open.size() + close.size()) * static_cast<size_t>(levels) + inner.size());
  for (int i = 0; i < levels; ++i) text += open;
  text += inner;
  for (int i = 0; i < levels; ++i) text += close;
  return text;
}

bool healthy(const net::Endpoint& endpoint, std::chrono::milliseconds timeout = std::chrono::seconds(2)) {
  net::ClientRequest request;
  request.method = boost::beast::http::verb::get;
  request.target = "/health";
  request.timeout = timeout;
  auto response = net::httpRequestSync(endpoint, request);
  return response.isOk() && response->status == 200;
}

// Recursive messages nested 50,000 deep (AgentCall.calls to the master,
// ContainerID.parent to the agent) used to overflow the daemons' stacks.
TEST(DaemonFaultTest, DeeplyNestedJsonIsA400AndBothDaemonsStayUp) {
  LocalCluster cluster;
  const net::Endpoint agent{"127.0.0.1", cluster.agentPort(0)};
  auto master = postJson(cluster.master(), "/internal/v1/agent",
                         nested(R"({"type":"BATCH","calls":[)", R"({"type":"PONG"})", "]}", 50000));
  EXPECT_EQ(master.status, 400u);
  EXPECT_NE(master.body.find("nesting exceeds the limit of 100"), std::string::npos) << master.body;
  std::string update = R"({"type":"UPDATE","framework_id":{"value":"F"},"executor_id":{"value":"E"},)"
                       R"("update":{"status":{"task_id":{"value":"T"},"state":"TASK_RUNNING","uuid":"AAAA",)"
                       R"("container_status":{"container_id":)" +
                       nested(R"({"value":"c","parent":)", R"({"value":"c"})", "}", 50000) + "}}}}";
  auto executor = postJson(agent, "/api/v1/executor", update);
  EXPECT_EQ(executor.status, 400u);
  EXPECT_NE(executor.body.find("nesting exceeds the limit of 100"), std::string::npos) << executor.body;
  EXPECT_TRUE(cluster.masterProcess().running());
  EXPECT_TRUE(cluster.agentProcess(0).running());
  EXPECT_TRUE(healthy(cluster.master()));
  EXPECT_TRUE(healthy(agent));
}

// `count` TCP connections to `endpoint` that send nothing.
std::vector<std::unique_ptr<boost::asio::ip::tcp::socket>> idleConnections(boost::asio::io_context& io,
                                                                          const net::Endpoint& endpoint, int count) {
  std::vector<std::unique_ptr<boost::asio::ip::tcp::socket>> sockets;
  boost::asio::ip::tcp::endpoint address(boost::asio::ip::make_address(endpoint.host), endpoint.port);
  for (int i = 0; i < count; ++i) {
    auto socket = std::make_unique<boost::asio::ip::tcp::socket>(io);
    boost::system::error_code ec;
    socket->connect(address, ec);
    if (ec) {
      ADD_FAILURE() << "connection " << i << ": " << ec.message();
      break;
    }
    sockets.push_back(std::move(socket));
  }
  return sockets;
}

// Out of file descriptors, accept() fails on every try: the master backs off
// and logs the episode once (it used to spin, writing GBs of log), and
// serves new clients as soon as descriptors are free again.
TEST(DaemonFaultTest, RunningOutOfFileDescriptorsNeitherSpinsNorFloodsTheLog) {
  net::raiseOpenFileLimit();  // the test itself holds 1,500 sockets
  LocalCluster cluster(ClusterOptions().withAgents(0));
  const rlimit lowered{1024, 1024};
  ASSERT_EQ(::prlimit(cluster.masterProcess().pid(), RLIMIT_NOFILE, &lowered, nullptr), 0) << std::strerror(errno);
  boost::asio::io_context io;
  auto sockets = idleConnections(io, cluster.master(), 1500);
  const auto fdDir = "/proc/" + std::to_string(cluster.masterProcess().pid()) + "/fd";
  auto openFiles = [&] {
    std::error_code ec;
    auto entries = std::filesystem::directory_iterator(fdDir, ec);
    return ec ? 0 : std::distance(entries, std::filesystem::directory_iterator());
  };
  ASSERT_TRUE(waitUntil([&] { return openFiles() >= 1020; }, std::chrono::seconds(10))) << openFiles();
  std::this_thread::sleep_for(std::chrono::seconds(2));  // the episode lasts while they stay connected
  sockets.clear();
  EXPECT_TRUE(waitUntil([&] { return healthy(cluster.master()); }, std::chrono::seconds(20)));
  EXPECT_TRUE(cluster.masterProcess().running());
  const std::string log = cluster.masterProcess().log();
  EXPECT_LT(log.size(), 1u << 20);
  EXPECT_NE(log.find("Accepting a connection failed"), std::string::npos);
  EXPECT_NE(log.find("Accepting connections again"), std::string::npos);
}

// Beyond --max_connections new clients wait (in the listen backlog) rather
// than fail, and are served once a connection closes.
TEST(DaemonFaultTest, ConnectionsBeyondTheCapWaitUntilOneCloses) {
  LocalCluster cluster(ClusterOptions().withAgents(0).withMasterFlag("--max_connections=40"));
  boost::asio::io_context io;
  auto sockets = idleConnections(io, cluster.master(), 40);
  ASSERT_TRUE(waitUntil([&] { return cluster.masterProcess().log().find("(the maximum)") != std::string::npos; },
                        std::chrono::seconds(10)));
  EXPECT_FALSE(healthy(cluster.master(), std::chrono::milliseconds(1000)));
  sockets.clear();
  EXPECT_TRUE(waitUntil([&] { return healthy(cluster.master()); }, std::chrono::seconds(10)));
}

}  // namespace
}  // namespace mezzo::testing
