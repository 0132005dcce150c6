#include <gtest/gtest.h>

#include <boost/asio/steady_timer.hpp>
#include <future>
#include <thread>

#include "mezzo/common/recordio.hpp"
#include "mezzo/net/http_client.hpp"
#include "mezzo/net/http_server.hpp"

namespace mezzo::net {
namespace {

namespace asio = boost::asio;

// Runs a server on its own thread for the duration of a test.
class ServerFixture : public ::testing::Test {
 protected:
  void startServer(Handler handler, ServerOptions options = {}) {
    server_ = std::make_unique<HttpServer>(io_, options, std::move(handler));
    auto port = server_->listen("127.0.0.1", 0);
    ASSERT_TRUE(port.isOk()) << port.error();
    endpoint_ = Endpoint{"127.0.0.1", *port};
    work_.emplace(io_.get_executor());
    thread_ = std::thread([this] { io_.run(); });
  }

  void TearDown() override {
    asio::post(io_, [this] { server_->stop(); streams_.clear(); });
    work_.reset();
    io_.stop();
    if (thread_.joinable()) thread_.join();
  }

  asio::io_context io_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::unique_ptr<HttpServer> server_;
  std::vector<std::shared_ptr<StreamWriter>> streams_;
  Endpoint endpoint_;
  std::thread thread_;
};

TEST_F(ServerFixture, AnswersRequestsAndEchoesBody) {
  startServer([](Request&& request, Responder responder) {
    responder.respond(Response::text(200, std::string(request.target()) + "|" + request.body()));
  });
  ClientRequest request;
  request.target = "/echo?x=1";
  request.body = "hello";
  auto response = httpRequestSync(endpoint_, request);
  ASSERT_TRUE(response.isOk()) << response.error();
  EXPECT_EQ(response->status, 200u);
  EXPECT_EQ(response->body, "/echo?x=1|hello");
  EXPECT_EQ(response->header("Content-Type"), "text/plain; charset=utf-8");
}

TEST_F(ServerFixture, EmptyResponseHasNoContentType) {
  startServer([](Request&&, Responder responder) { responder.respond(Response::empty(202)); });
  auto response = httpRequestSync(endpoint_, ClientRequest{});
  ASSERT_TRUE(response.isOk()) << response.error();
  EXPECT_EQ(response->status, 202u);
  EXPECT_TRUE(response->header("Content-Type").empty());
  EXPECT_TRUE(response->body.empty());
}

TEST_F(ServerFixture, OversizedBodyGets413) {
  ServerOptions options;
  options.maxBodyBytes = 1024;
  startServer([](Request&&, Responder responder) { responder.respond(Response::empty(200)); }, options);
  ClientRequest request;
  request.body = std::string(4096, 'x');
  auto response = httpRequestSync(endpoint_, request);
  ASSERT_TRUE(response.isOk()) << response.error();
  EXPECT_EQ(response->status, 413u);
}

TEST_F(ServerFixture, UnansweredRequestGets500) {
  startServer([](Request&&, Responder) {});
  auto response = httpRequestSync(endpoint_, ClientRequest{});
  ASSERT_TRUE(response.isOk()) << response.error();
  EXPECT_EQ(response->status, 500u);
}

TEST_F(ServerFixture, StreamsOneRecordPerChunkAndNoticesDisconnect) {
  std::promise<void> closed;
  startServer([this, &closed](Request&&, Responder responder) {
    auto stream = responder.startStream(200, "application/json", {{"Mesos-Stream-Id", "abc"}});
    stream->onClose([&closed] { closed.set_value(); });
    stream->write(encodeRecord("{\"a\":1}"));
    stream->write(encodeRecord("{\"b\":2}"));
    streams_.push_back(stream);
  });

  asio::io_context clientIo;
  std::vector<std::string> chunks;
  std::string streamId;
  std::shared_ptr<HttpStream> stream;
  ClientRequest request;
  request.target = "/stream";
  stream = HttpStream::open(clientIo, endpoint_, request,
                            {[&](const ClientResponse& head) { streamId = head.header("Mesos-Stream-Id"); },
                             [&](std::string_view data) {
                               chunks.emplace_back(data);
                               if (chunks.size() == 2) stream->close();
                             },
                             [](const Status&) {}});
  clientIo.run_for(std::chrono::seconds(5));
  EXPECT_EQ(streamId, "abc");
  ASSERT_EQ(chunks.size(), 2u);
  EXPECT_EQ(chunks[0], "7\n{\"a\":1}");
  EXPECT_EQ(chunks[1], "7\n{\"b\":2}");
  EXPECT_EQ(closed.get_future().wait_for(std::chrono::seconds(5)), std::future_status::ready);
}

TEST_F(ServerFixture, ConnectFailureIsReported) {
  startServer([](Request&&, Responder responder) { responder.respond(Response::empty(200)); });
  server_->stop();
  ClientRequest request;
  auto response = httpRequestSync(Endpoint{"127.0.0.1", 1}, request);
  EXPECT_FALSE(response.isOk());
}

TEST(QueryParameter, DecodesValues) {
  EXPECT_EQ(queryParameter("/files/read?path=%2Ftmp%2Fx&offset=3", "path"), "/tmp/x");
  EXPECT_EQ(queryParameter("/files/read?path=%2Ftmp%2Fx&offset=3", "offset"), "3");
  EXPECT_EQ(queryParameter("/files/read?path=a", "length"), "");
  EXPECT_EQ(targetPath("/a/b?c=d"), "/a/b");
}

TEST(ParseEndpoint, AcceptsHostPort) {
  auto endpoint = parseEndpoint("127.0.0.1:5050");
  ASSERT_TRUE(endpoint.isOk());
  EXPECT_EQ(endpoint->host, "127.0.0.1");
  EXPECT_EQ(endpoint->port, 5050);
  EXPECT_TRUE(parseEndpoint("http://localhost:80/x").isOk());
  EXPECT_FALSE(parseEndpoint("localhost").isOk());
  EXPECT_FALSE(parseEndpoint("localhost:abc").isOk());
}

}  // namespace
}  // namespace mezzo::net
