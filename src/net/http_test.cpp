#include <gtest/gtest.h>
#include <sys/socket.h>

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
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
    asio::post(io_, [this] {
      server_->stop();
      streams_.clear();
    });
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

// A blocking HTTP/1.1 server on its own thread, serving one connection at
// a time (so a client that does not reuse its connection would hang) and
// counting the connections it accepts.
class CountingServer {
 public:
  CountingServer() : acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}) {
    thread_ = std::thread([this] { serve(); });
  }
  ~CountingServer() {
    stopping_ = true;
    ::shutdown(acceptor_.native_handle(), SHUT_RDWR);
    closeCurrent();
    thread_.join();
  }
  Endpoint endpoint() const { return Endpoint{"127.0.0.1", acceptor_.local_endpoint().port()}; }
  int accepted() const { return accepted_; }
  void setCloseAfterEachResponse(bool close) { closeAfterEach_ = close; }
  // The server side closes the connection it is serving.
  void closeCurrent() {
    if (int fd = current_.exchange(-1); fd >= 0) ::shutdown(fd, SHUT_RDWR);
  }

 private:
  void serve() {
    namespace http = boost::beast::http;
    while (!stopping_) {
      asio::ip::tcp::socket socket(io_);
      boost::system::error_code ec;
      acceptor_.accept(socket, ec);
      if (ec) return;
      ++accepted_;
      current_ = socket.native_handle();
      boost::beast::flat_buffer buffer;
      while (true) {
        http::request<http::string_body> request;
        http::read(socket, buffer, request, ec);
        if (ec) break;
        http::response<http::string_body> response{http::status::ok, 11};
        response.body() = "hello";
        // Decided once: closing a connection announced as kept alive would race the client.
        const bool close = closeAfterEach_;
        response.keep_alive(!close);
        response.prepare_payload();
        http::write(socket, response, ec);
        if (ec || close) break;
      }
      current_ = -1;
    }
  }

  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_;
  std::thread thread_;
  std::atomic<int> accepted_{0};
  std::atomic<int> current_{-1};
  std::atomic<bool> closeAfterEach_{false};
  std::atomic<bool> stopping_{false};
};

// httpRequest() keeps connections alive and reuses them on one io_context;
// not a connection the server answered with `Connection: close`, nor one
// the server has closed since.
TEST(HttpClientKeepAlive, ReusesConnectionsTheServerKeepsOpen) {
  CountingServer server;
  asio::io_context io;
  auto get = [&] {
    ClientRequest request;
    request.method = boost::beast::http::verb::get;
    request.timeout = std::chrono::milliseconds(5000);
    std::optional<Result<ClientResponse>> result;
    httpRequest(io, server.endpoint(), request, [&](Result<ClientResponse> response) { result = std::move(response); });
    io.restart();
    io.run();
    return result && result->isOk() && (*result)->status == 200 && (*result)->body == "hello";
  };
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(get()) << i;
  EXPECT_EQ(server.accepted(), 1);

  server.setCloseAfterEachResponse(true);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(get()) << i;
  EXPECT_EQ(server.accepted(), 3) << "the kept connection once, then a new one per request";

  server.setCloseAfterEachResponse(false);
  EXPECT_TRUE(get());
  EXPECT_EQ(server.accepted(), 4);
  server.closeCurrent();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_TRUE(get()) << "a connection the server closed is not reused";
  EXPECT_EQ(server.accepted(), 5);
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
