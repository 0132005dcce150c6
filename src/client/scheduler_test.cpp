// client::Scheduler against an in-process fake master (net::HttpServer on the
// same io_context): subscription, event dispatch, calls, redirects, the
// watchdog and re-subscription.
#include "mezzo/client/scheduler.hpp"

#include <gtest/gtest.h>

#include "mezzo/common/recordio.hpp"
#include "mezzo/net/http_server.hpp"

namespace mezzo::client {
namespace {

namespace asio = boost::asio;
using Call = v1::scheduler::Call;
using Event = v1::scheduler::Event;
using std::chrono::milliseconds;

// Answers scheduler calls as a (very small) master would.
class FakeMaster {
 public:
  using SubscribeHandler = std::function<void(const Call&, net::Responder&)>;

  explicit FakeMaster(asio::io_context& io)
      : server_(io, net::ServerOptions{}, [this](net::Request&& request, net::Responder responder) {
          handle(std::move(request), std::move(responder));
        }) {
    port_ = *server_.listen("127.0.0.1", 0);
  }

  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  uint16_t port() const { return port_; }

  // Starts the event stream and sends SUBSCRIBED.
  void acceptSubscription(const Call& call, net::Responder& responder, double heartbeatSeconds = 15) {
    MediaType type = lastAccept_;
    std::string streamId = "stream-" + std::to_string(++streamCounter_);
    auto writer = responder.startStream(200, std::string(mediaTypeName(type)), {{"Mesos-Stream-Id", streamId}});
    streams.push_back(writer);
    currentStreamId = streamId;
    Event event;
    event.set_type(Event::SUBSCRIBED);
    event.mutable_subscribed()->mutable_framework_id()->set_value(call.has_framework_id() ? call.framework_id().value()
                                                                                          : "FW-1");
    event.mutable_subscribed()->set_heartbeat_interval_seconds(heartbeatSeconds);
    send(event);
  }

  void send(const Event& event) { streams.back()->write(encodeRecord(encodeMessage(lastAccept_, event))); }

  SubscribeHandler onSubscribe;
  unsigned callStatus = 202;
  std::vector<Call> subscribes;
  std::vector<Call> calls;
  std::vector<std::string> callStreamIds;
  std::vector<std::shared_ptr<net::StreamWriter>> streams;
  std::string currentStreamId;

 private:
  void handle(net::Request&& request, net::Responder responder) {
    auto type = parseContentType(std::string(request[boost::beast::http::field::content_type]));
    Call call;
    if (!type || !decodeMessage(*type, request.body(), &call)) {
      return responder.respond(net::Response::text(400, "bad call"));
    }
    if (call.type() == Call::SUBSCRIBE) {
      lastAccept_ = negotiateAccept(std::string(request[boost::beast::http::field::accept])).value_or(MediaType::kJson);
      subscribes.push_back(call);
      if (onSubscribe) return onSubscribe(call, responder);
      return acceptSubscription(call, responder);
    }
    calls.push_back(call);
    callStreamIds.push_back(std::string(request["Mesos-Stream-Id"]));
    responder.respond(callStatus == 202 ? net::Response::empty(202) : net::Response::text(callStatus, "nope"));
  }

  net::HttpServer server_;
  uint16_t port_ = 0;
  int streamCounter_ = 0;
  MediaType lastAccept_ = MediaType::kJson;
};

class SchedulerTest : public ::testing::Test {
 protected:
  SchedulerOptions options(const FakeMaster& master) {
    SchedulerOptions options;
    options.master = master.address();
    options.framework.set_user("tester");
    options.framework.set_name("scheduler-test");
    options.initialBackoff = milliseconds(20);
    options.maxBackoff = milliseconds(100);
    options.jitterSeed = 1;
    return options;
  }

  // Runs the loop until `done` holds; false on timeout.
  bool runUntil(const std::function<bool()>& done, milliseconds timeout = milliseconds(5000)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      io_.run_one_for(milliseconds(10));
    }
    return true;
  }

  asio::io_context io_;
};

TEST_F(SchedulerTest, SubscribesDispatchesEventsAndSendsCalls) {
  FakeMaster master(io_);
  std::vector<std::string> seen;
  std::optional<v1::FrameworkID> subscribedAs;
  Duration heartbeat{};
  SchedulerCallbacks callbacks;
  callbacks.onSubscribed = [&](const v1::FrameworkID& id, Duration interval) {
    subscribedAs = id;
    heartbeat = interval;
  };
  callbacks.onOffers = [&](const std::vector<v1::Offer>& offers) {
    seen.push_back("offers:" + offers[0].id().value());
  };
  callbacks.onRescind = [&](const v1::OfferID& id) { seen.push_back("rescind:" + id.value()); };
  callbacks.onUpdate = [&](const v1::TaskStatus& status) { seen.push_back("update:" + status.task_id().value()); };
  callbacks.onHeartbeat = [&] { seen.push_back("heartbeat"); };
  callbacks.onMessage = [&](const v1::AgentID&, const v1::ExecutorID&, const std::string& data) {
    seen.push_back("message:" + data);
  };
  callbacks.onFailure = [&](const Event::Failure& failure) { seen.push_back("failure:" + failure.agent_id().value()); };
  Scheduler scheduler(io_, options(master), callbacks);
  scheduler.start();
  ASSERT_TRUE(runUntil([&] { return subscribedAs.has_value(); }));
  EXPECT_EQ(subscribedAs->value(), "FW-1");
  EXPECT_EQ(heartbeat, std::chrono::seconds(15));
  EXPECT_TRUE(scheduler.subscribed());
  EXPECT_EQ(scheduler.streamId(), "stream-1");
  EXPECT_FALSE(master.subscribes[0].has_framework_id());

  Event offers;
  offers.set_type(Event::OFFERS);
  v1::Offer* offer = offers.mutable_offers()->add_offers();
  offer->mutable_id()->set_value("O1");
  offer->mutable_framework_id()->set_value("FW-1");
  offer->mutable_agent_id()->set_value("S1");
  offer->set_hostname("h");
  master.send(offers);
  Event rescind;
  rescind.set_type(Event::RESCIND);
  rescind.mutable_rescind()->mutable_offer_id()->set_value("O1");
  master.send(rescind);
  Event update;
  update.set_type(Event::UPDATE);
  update.mutable_update()->mutable_status()->mutable_task_id()->set_value("t1");
  update.mutable_update()->mutable_status()->set_state(v1::TASK_RUNNING);
  master.send(update);
  Event message;
  message.set_type(Event::MESSAGE);
  message.mutable_message()->mutable_agent_id()->set_value("S1");
  message.mutable_message()->mutable_executor_id()->set_value("E1");
  message.mutable_message()->set_data("ping");
  master.send(message);
  Event failure;
  failure.set_type(Event::FAILURE);
  failure.mutable_failure()->mutable_agent_id()->set_value("S1");
  master.send(failure);
  Event heartbeatEvent;
  heartbeatEvent.set_type(Event::HEARTBEAT);
  master.send(heartbeatEvent);
  ASSERT_TRUE(runUntil([&] { return seen.size() == 6; }));
  EXPECT_EQ(seen, (std::vector<std::string>{"offers:O1", "rescind:O1", "update:t1", "message:ping", "failure:S1",
                                            "heartbeat"}));

  std::optional<Status> declined;
  scheduler.decline({offer->id()}, std::nullopt, [&](const Status& status) { declined = status; });
  ASSERT_TRUE(runUntil([&] { return declined.has_value(); }));
  EXPECT_TRUE(declined->isOk()) << declined->message();
  ASSERT_EQ(master.calls.size(), 1u);
  EXPECT_EQ(master.calls[0].type(), Call::DECLINE);
  EXPECT_EQ(master.calls[0].framework_id().value(), "FW-1");
  EXPECT_EQ(master.callStreamIds[0], "stream-1");

  v1::TaskStatus withoutUuid = update.update().status();
  EXPECT_FALSE(scheduler.acknowledge(withoutUuid));
}

TEST_F(SchedulerTest, NonAcceptedCallsAreReported) {
  FakeMaster master(io_);
  master.callStatus = 400;
  std::vector<std::pair<Call::Type, Status>> failures;
  SchedulerCallbacks callbacks;
  callbacks.onCallFailed = [&](Call::Type type, const Status& status) { failures.emplace_back(type, status); };
  Scheduler scheduler(io_, options(master), callbacks);

  std::optional<Status> early;
  scheduler.revive({}, [&](const Status& status) { early = status; });
  ASSERT_TRUE(runUntil([&] { return early.has_value(); }));
  EXPECT_EQ(early->code(), StatusCode::kFailedPrecondition);

  scheduler.start();
  ASSERT_TRUE(runUntil([&] { return scheduler.subscribed(); }));
  scheduler.suppress();
  ASSERT_TRUE(runUntil([&] { return !failures.empty(); }));
  EXPECT_EQ(failures[0].first, Call::SUPPRESS);
  EXPECT_EQ(failures[0].second.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(failures[0].second.message().find("400"), std::string::npos);
}

TEST_F(SchedulerTest, FollowsRedirectToTheLeader) {
  FakeMaster leader(io_);
  FakeMaster standby(io_);
  standby.onSubscribe = [&](const Call&, net::Responder& responder) {
    net::Response response = net::Response::empty(307);
    response.headers.emplace_back("Location", "//127.0.0.1:" + std::to_string(leader.port()) + "/api/v1/scheduler");
    responder.respond(std::move(response));
  };
  Scheduler scheduler(io_, options(standby), {});
  scheduler.start();
  ASSERT_TRUE(runUntil([&] { return scheduler.subscribed(); }));
  EXPECT_EQ(standby.subscribes.size(), 1u);
  EXPECT_EQ(leader.subscribes.size(), 1u);
  EXPECT_EQ(scheduler.masterEndpoint().port, leader.port());

  std::optional<Status> revived;
  scheduler.revive({}, [&](const Status& status) { revived = status; });
  ASSERT_TRUE(runUntil([&] { return revived.has_value(); }));
  EXPECT_TRUE(revived->isOk());
  EXPECT_EQ(leader.calls.size(), 1u);
  EXPECT_TRUE(standby.calls.empty());
}

TEST_F(SchedulerTest, TooManyRedirectsIsFatal) {
  FakeMaster master(io_);
  master.onSubscribe = [&](const Call&, net::Responder& responder) {
    net::Response response = net::Response::empty(307);
    response.headers.emplace_back("Location", "//" + master.address());
    responder.respond(std::move(response));
  };
  std::optional<std::string> error;
  SchedulerCallbacks callbacks;
  callbacks.onError = [&](const std::string& message) { error = message; };
  SchedulerOptions opts = options(master);
  opts.maxRedirects = 3;
  Scheduler scheduler(io_, opts, callbacks);
  scheduler.start();
  ASSERT_TRUE(runUntil([&] { return error.has_value(); }));
  EXPECT_NE(error->find("redirected more than 3"), std::string::npos) << *error;
  EXPECT_EQ(master.subscribes.size(), 4u);
  EXPECT_TRUE(scheduler.stopped());
}

TEST_F(SchedulerTest, ResubscribesWithFrameworkIdWhenTheStreamEnds) {
  FakeMaster master(io_);
  int subscribed = 0;
  std::vector<Status> disconnects;
  SchedulerCallbacks callbacks;
  callbacks.onSubscribed = [&](const v1::FrameworkID&, Duration) { ++subscribed; };
  callbacks.onDisconnected = [&](const Status& reason) { disconnects.push_back(reason); };
  Scheduler scheduler(io_, options(master), callbacks);
  scheduler.start();
  ASSERT_TRUE(runUntil([&] { return subscribed == 1; }));
  master.streams.back()->close();
  ASSERT_TRUE(runUntil([&] { return subscribed == 2; }));
  ASSERT_EQ(master.subscribes.size(), 2u);
  EXPECT_EQ(master.subscribes[1].framework_id().value(), "FW-1");
  EXPECT_EQ(master.subscribes[1].subscribe().framework_info().id().value(), "FW-1");
  EXPECT_EQ(disconnects.size(), 1u);
  EXPECT_EQ(scheduler.streamId(), "stream-2");

  scheduler.reconnect();
  ASSERT_TRUE(runUntil([&] { return subscribed == 3; }));
  EXPECT_EQ(master.subscribes[2].framework_id().value(), "FW-1");
}

TEST_F(SchedulerTest, WatchdogDropsASilentStream) {
  FakeMaster master(io_);
  master.onSubscribe = [&](const Call& call, net::Responder& responder) {
    master.acceptSubscription(call, responder, /*heartbeatSeconds=*/0.05);
  };
  std::vector<Status> disconnects;
  SchedulerCallbacks callbacks;
  callbacks.onDisconnected = [&](const Status& reason) { disconnects.push_back(reason); };
  SchedulerOptions opts = options(master);
  opts.missedHeartbeats = 2;
  Scheduler scheduler(io_, opts, callbacks);
  scheduler.start();
  ASSERT_TRUE(runUntil([&] { return master.subscribes.size() >= 2 && scheduler.subscribed(); }));
  ASSERT_FALSE(disconnects.empty());
  EXPECT_NE(disconnects[0].message().find("missed heartbeats"), std::string::npos) << disconnects[0].message();
  EXPECT_EQ(master.subscribes[1].framework_id().value(), "FW-1");
}

TEST_F(SchedulerTest, ErrorEventStopsTheScheduler) {
  FakeMaster master(io_);
  std::optional<std::string> error;
  SchedulerCallbacks callbacks;
  callbacks.onError = [&](const std::string& message) { error = message; };
  Scheduler scheduler(io_, options(master), callbacks);
  scheduler.start();
  ASSERT_TRUE(runUntil([&] { return scheduler.subscribed(); }));
  Event event;
  event.set_type(Event::ERROR);
  event.mutable_error()->set_message("Framework failed over");
  master.send(event);
  ASSERT_TRUE(runUntil([&] { return error.has_value(); }));
  EXPECT_EQ(*error, "Framework failed over");
  EXPECT_TRUE(scheduler.stopped());
  runUntil([] { return false; }, milliseconds(200));
  EXPECT_EQ(master.subscribes.size(), 1u);
}

TEST_F(SchedulerTest, RefusedSubscribeIsFatalButUnavailableIsRetried) {
  FakeMaster master(io_);
  int attempts = 0;
  master.onSubscribe = [&](const Call& call, net::Responder& responder) {
    ++attempts;
    if (attempts == 1) return responder.respond(net::Response::text(503, "Master has not finished recovery"));
    if (attempts == 2) return master.acceptSubscription(call, responder);
    responder.respond(net::Response::text(403, "Framework FW-1 has already been removed"));
  };
  std::optional<std::string> error;
  SchedulerCallbacks callbacks;
  callbacks.onError = [&](const std::string& message) { error = message; };
  Scheduler scheduler(io_, options(master), callbacks);
  scheduler.start();
  ASSERT_TRUE(runUntil([&] { return scheduler.subscribed(); }));
  EXPECT_EQ(attempts, 2);
  master.streams.back()->close();
  ASSERT_TRUE(runUntil([&] { return error.has_value(); }));
  EXPECT_NE(error->find("403"), std::string::npos) << *error;
  EXPECT_TRUE(scheduler.stopped());
}

TEST_F(SchedulerTest, ProtobufStreamAndCalls) {
  FakeMaster master(io_);
  std::optional<v1::FrameworkID> subscribedAs;
  SchedulerCallbacks callbacks;
  callbacks.onSubscribed = [&](const v1::FrameworkID& id, Duration) { subscribedAs = id; };
  SchedulerOptions opts = options(master);
  opts.contentType = MediaType::kProtobuf;
  opts.framework.mutable_id()->set_value("FW-existing");
  Scheduler scheduler(io_, opts, callbacks);
  scheduler.start();
  ASSERT_TRUE(runUntil([&] { return subscribedAs.has_value(); }));
  EXPECT_EQ(subscribedAs->value(), "FW-existing");
  EXPECT_EQ(master.subscribes[0].framework_id().value(), "FW-existing");

  std::optional<Status> done;
  scheduler.teardown([&](const Status& status) { done = status; });
  ASSERT_TRUE(runUntil([&] { return done.has_value(); }));
  EXPECT_TRUE(done->isOk());
  EXPECT_EQ(master.calls.back().type(), Call::TEARDOWN);
  EXPECT_TRUE(scheduler.stopped());
}

TEST_F(SchedulerTest, BadMasterAddressIsReportedAsError) {
  std::optional<std::string> error;
  SchedulerCallbacks callbacks;
  callbacks.onError = [&](const std::string& message) { error = message; };
  SchedulerOptions opts;
  opts.master = "no-port-here";
  Scheduler scheduler(io_, opts, callbacks);
  scheduler.start();
  ASSERT_TRUE(runUntil([&] { return error.has_value(); }));
  EXPECT_TRUE(scheduler.stopped());
}

}  // namespace
}  // namespace mezzo::client
