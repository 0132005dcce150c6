// Probes and the CheckRunner against real loopback servers and processes.
#include "executor/check_probes.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <optional>
#include <vector>

#include "executor/check_runner.hpp"
#include "mezzo/net/http_server.hpp"

namespace mezzo::executor {
namespace {

using namespace std::chrono_literals;

class CheckProbesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<net::HttpServer>(
        io_, net::ServerOptions{}, [this](net::Request&& request, net::Responder responder) {
          const std::string target(request.target());
          if (target == "/relative") {
            net::Response response = net::Response::empty(302);
            response.headers.emplace_back("Location", "/ok");
            return responder.respond(response);
          }
          if (target == "/absolute") {
            net::Response response = net::Response::empty(301);
            response.headers.emplace_back("Location", "http://127.0.0.1:" + std::to_string(port_) + "/teapot");
            return responder.respond(response);
          }
          if (target == "/teapot") return responder.respond(net::Response::text(418, "short and stout"));
          if (target == "/slow") return held_.push_back(std::move(responder));  // never answered
          responder.respond(net::Response::text(200, "ok"));
        });
    auto port = server_->listen("127.0.0.1", 0);
    ASSERT_TRUE(port) << port.error();
    port_ = *port;
    children_.start();
  }

  // Runs the loop until `done` holds (or 10 s).
  void runUntil(const std::function<bool()>& done) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      if (io_.stopped()) io_.restart();
      io_.run_for(10ms);
    }
  }

  Result<unsigned> http(const std::string& path, Duration timeout = 2s) {
    std::optional<Result<unsigned>> out;
    probeHttp(io_, net::Endpoint{"127.0.0.1", port_}, path, timeout, [&](Result<unsigned> code) { out = code; });
    runUntil([&] { return out.has_value(); });
    return out.value_or(Status::internal("no answer"));
  }

  boost::asio::io_context io_;
  std::unique_ptr<net::HttpServer> server_;
  std::vector<net::Responder> held_;
  uint16_t port_ = 0;
  ChildWatcher children_{io_};
};

TEST_F(CheckProbesTest, HttpGivesTheFinalStatusAfterRedirects) {
  EXPECT_EQ(http("").value(), 200u) << "an empty path is /";
  EXPECT_EQ(http("/relative").value(), 200u);
  EXPECT_EQ(http("/absolute").value(), 418u);
}

TEST_F(CheckProbesTest, HttpFailsAfterItsTimeout) {
  const auto start = std::chrono::steady_clock::now();
  auto code = http("/slow", 300ms);
  EXPECT_FALSE(code);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

TEST_F(CheckProbesTest, TcpConnectsOnlyWhereSomeoneListens) {
  std::optional<Status> open, closed;
  probeTcp(io_, net::Endpoint{"127.0.0.1", port_}, 2s, [&](Status status) { open = status; });
  runUntil([&] { return open.has_value(); });
  ASSERT_TRUE(open);
  EXPECT_TRUE(open->isOk()) << open->message();
  server_->stop();
  probeTcp(io_, net::Endpoint{"127.0.0.1", port_}, 2s, [&](Status status) { closed = status; });
  runUntil([&] { return closed.has_value(); });
  ASSERT_TRUE(closed);
  EXPECT_FALSE(closed->isOk());
}

TEST_F(CheckProbesTest, CommandGivesItsWaitStatusOrIsKilledAtTheTimeout) {
  v1::CommandInfo command;
  command.set_value("exit 3");
  std::optional<Result<int>> exited;
  EXPECT_GT(probeCommand(io_, children_, command, "", 5s, [&](Result<int> status) { exited = status; }), 0);
  runUntil([&] { return exited.has_value(); });
  ASSERT_TRUE(exited && *exited);
  EXPECT_TRUE(WIFEXITED(**exited));
  EXPECT_EQ(WEXITSTATUS(**exited), 3);

  command.set_value("sleep 30");
  std::optional<Result<int>> slow;
  const auto start = std::chrono::steady_clock::now();
  probeCommand(io_, children_, command, "", 200ms, [&](Result<int> status) { slow = status; });
  runUntil([&] { return slow.has_value(); });
  ASSERT_TRUE(slow);
  EXPECT_FALSE(*slow);
  EXPECT_EQ(slow->error(), "Command timed out after 200ms");
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

TEST_F(CheckProbesTest, RunnerRepeatsUntilStopped) {
  CheckRunner::Options options;
  options.check.set_type(v1::CheckInfo::HTTP);
  options.check.mutable_http()->set_port(port_);
  options.check.mutable_http()->set_path("/teapot");
  options.check.set_delay_seconds(0);
  options.check.set_interval_seconds(0.05);
  options.name = "test check";
  std::vector<uint32_t> codes;
  auto runner = CheckRunner::start(io_, children_, options, [&](const Result<v1::CheckStatusInfo>& outcome) {
    ASSERT_TRUE(outcome) << outcome.error();
    EXPECT_EQ(outcome->type(), v1::CheckInfo::HTTP);
    codes.push_back(outcome->http().status_code());
  });
  runUntil([&] { return codes.size() >= 3; });
  EXPECT_EQ(codes, (std::vector<uint32_t>{418, 418, 418}));
  runner->stop();
  io_.run_for(300ms);
  EXPECT_EQ(codes.size(), 3u) << "no result after stop()";
}

}  // namespace
}  // namespace mezzo::executor
