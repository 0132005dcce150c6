// client::Scheduler against a real mezzo-master ($MEZZO_BIN_DIR/mezzo-master):
// subscription, re-subscription with the same framework id after the stream is
// dropped, and after the master itself went away and came back.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "mezzo/client/scheduler.hpp"

extern char** environ;

namespace mezzo::client {
namespace {

namespace asio = boost::asio;
using std::chrono::milliseconds;

uint16_t freePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  socklen_t length = sizeof(address);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

// A mezzo-master child process, killed at the end of the test.
class MasterProcess {
 public:
  explicit MasterProcess(uint16_t port) : port_(port) {
    const char* dir = std::getenv("MEZZO_BIN_DIR");
    std::string binary = std::string(dir ? dir : ".") + "/mezzo-master";
    std::vector<std::string> args = {binary, "--ip=127.0.0.1", "--port=" + std::to_string(port), "--log_level=warn",
                                     "--registry=in_memory",
                                     "--heartbeat_interval=1secs"};
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    if (posix_spawn(&pid_, binary.c_str(), nullptr, nullptr, argv.data(), environ) != 0) pid_ = -1;
  }
  ~MasterProcess() { kill(SIGKILL); }

  bool running() const { return pid_ > 0; }
  void kill(int signal) {
    if (pid_ <= 0) return;
    ::kill(pid_, signal);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

  // Waits until GET /health answers.
  bool waitReady(milliseconds timeout = milliseconds(10000)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      net::ClientRequest request;
      request.method = boost::beast::http::verb::get;
      request.target = "/health";
      request.timeout = milliseconds(500);
      auto response = net::httpRequestSync(net::Endpoint{"127.0.0.1", port_}, request);
      if (response && response->status == 200) return true;
      std::this_thread::sleep_for(milliseconds(50));
    }
    return false;
  }

  nlohmann::json get(const std::string& path) {
    net::ClientRequest request;
    request.method = boost::beast::http::verb::get;
    request.target = path;
    auto response = net::httpRequestSync(net::Endpoint{"127.0.0.1", port_}, request);
    if (!response || response->status != 200) return nullptr;
    return nlohmann::json::parse(response->body, nullptr, false);
  }

 private:
  uint16_t port_;
  pid_t pid_ = -1;
};

class SchedulerIntegrationTest : public ::testing::Test {
 protected:
  bool runUntil(const std::function<bool()>& done, milliseconds timeout = milliseconds(15000)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      io_.run_one_for(milliseconds(20));
    }
    return true;
  }

  SchedulerOptions options(const std::string& master, MediaType type) {
    SchedulerOptions options;
    options.master = master;
    options.contentType = type;
    options.framework.set_user("nobody");
    options.framework.set_name("integration-test");
    options.framework.set_failover_timeout(60);
    options.initialBackoff = milliseconds(100);
    options.maxBackoff = milliseconds(500);
    return options;
  }

  asio::io_context io_;
};

class SchedulerIntegrationByMediaType : public SchedulerIntegrationTest,
                                        public ::testing::WithParamInterface<MediaType> {};

TEST_P(SchedulerIntegrationByMediaType, SubscribesAndKeepsFrameworkIdAcrossReconnects) {
  MasterProcess master(freePort());
  ASSERT_TRUE(master.running());
  ASSERT_TRUE(master.waitReady());

  std::vector<std::string> subscriptions;
  Duration heartbeat{};
  int heartbeats = 0;
  int disconnects = 0;
  SchedulerCallbacks callbacks;
  callbacks.onSubscribed = [&](const v1::FrameworkID& id, Duration interval) {
    subscriptions.push_back(id.value());
    heartbeat = interval;
  };
  callbacks.onHeartbeat = [&] { ++heartbeats; };
  callbacks.onDisconnected = [&](const Status&) { ++disconnects; };
  callbacks.onError = [&](const std::string& message) { ADD_FAILURE() << "onError: " << message; };
  Scheduler scheduler(io_, options(master.address(), GetParam()), callbacks);
  scheduler.start();
  ASSERT_TRUE(runUntil([&] { return subscriptions.size() == 1; }));
  const std::string id = subscriptions[0];
  EXPECT_FALSE(id.empty());
  EXPECT_EQ(heartbeat, std::chrono::seconds(1));
  EXPECT_FALSE(scheduler.streamId().empty());
  std::string firstStream = scheduler.streamId();

  // A heartbeat arrives and calls are accepted.
  ASSERT_TRUE(runUntil([&] { return heartbeats > 0; }, milliseconds(5000)));
  std::optional<Status> reconciled;
  scheduler.reconcile({}, [&](const Status& status) { reconciled = status; });
  ASSERT_TRUE(runUntil([&] { return reconciled.has_value(); }));
  EXPECT_TRUE(reconciled->isOk()) << reconciled->message();

  // Drop the stream: the scheduler re-subscribes as the same framework.
  scheduler.reconnect();
  ASSERT_TRUE(runUntil([&] { return subscriptions.size() == 2; }));
  EXPECT_EQ(subscriptions[1], id);
  EXPECT_EQ(disconnects, 1);
  EXPECT_NE(scheduler.streamId(), firstStream);

  auto frameworks = master.get("/frameworks");
  ASSERT_TRUE(frameworks.is_object());
  ASSERT_EQ(frameworks["frameworks"].size(), 1u);
  EXPECT_EQ(frameworks["frameworks"][0]["id"], id);
  EXPECT_EQ(frameworks["frameworks"][0]["active"], true);

  // Calls on the new stream are accepted.
  std::optional<Status> revived;
  scheduler.revive({}, [&](const Status& status) { revived = status; });
  ASSERT_TRUE(runUntil([&] { return revived.has_value(); }));
  EXPECT_TRUE(revived->isOk()) << revived->message();

  std::optional<Status> tornDown;
  scheduler.teardown([&](const Status& status) { tornDown = status; });
  ASSERT_TRUE(runUntil([&] { return tornDown.has_value(); }));
  EXPECT_TRUE(tornDown->isOk()) << tornDown->message();
  EXPECT_TRUE(scheduler.stopped());
  auto after = master.get("/frameworks");
  EXPECT_EQ(after["frameworks"].size(), 0u);
  EXPECT_EQ(after["completed_frameworks"].size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(MediaTypes, SchedulerIntegrationByMediaType,
                         ::testing::Values(MediaType::kJson, MediaType::kProtobuf),
                         [](const auto& info) { return info.param == MediaType::kJson ? "Json" : "Protobuf"; });

TEST_F(SchedulerIntegrationTest, ResubscribesAfterTheMasterComesBack) {
  uint16_t port = freePort();
  auto master = std::make_unique<MasterProcess>(port);
  ASSERT_TRUE(master->waitReady());
  std::vector<std::string> subscriptions;
  int disconnects = 0;
  SchedulerCallbacks callbacks;
  callbacks.onSubscribed = [&](const v1::FrameworkID& id, Duration) { subscriptions.push_back(id.value()); };
  callbacks.onDisconnected = [&](const Status&) { ++disconnects; };
  Scheduler scheduler(io_, options(master->address(), MediaType::kJson), callbacks);
  scheduler.start();
  ASSERT_TRUE(runUntil([&] { return subscriptions.size() == 1; }));

  master->kill(SIGKILL);
  ASSERT_TRUE(runUntil([&] { return disconnects == 1; }));
  // A few failed attempts against the dead port, then the master is back.
  runUntil([] { return false; }, milliseconds(700));
  EXPECT_FALSE(scheduler.subscribed());
  master = std::make_unique<MasterProcess>(port);
  ASSERT_TRUE(runUntil([&] { return subscriptions.size() == 2; }));
  EXPECT_EQ(subscriptions[1], subscriptions[0]);
  auto frameworks = master->get("/frameworks");
  ASSERT_EQ(frameworks["frameworks"].size(), 1u);
  EXPECT_EQ(frameworks["frameworks"][0]["id"], subscriptions[0]);
}

}  // namespace
}  // namespace mezzo::client
