// mezzo-executor against a fake agent: the test serves POST /api/v1/executor
// itself, so it sees exactly what the executor sends (as a third-party
// agent would) and can withhold acknowledgements or break the stream.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include "agent/process.hpp"
#include "mezzo/common/codec.hpp"
#include "mezzo/common/recordio.hpp"
#include "mezzo/net/api_request.hpp"
#include "mezzo/net/http_server.hpp"
#include "mezzo/v1/executor/executor.pb.h"

namespace mezzo {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using v1::executor::Call;
using v1::executor::Event;

class FakeAgent {
 public:
  explicit FakeAgent(boost::asio::io_context& io)
      : server_(io, net::ServerOptions{}, [this](net::Request&& request, net::Responder responder) {
          handle(std::move(request), std::move(responder));
        }) {
    port_ = *server_.listen("127.0.0.1", 0);
  }

  uint16_t port() const { return port_; }

  void send(const Event& event) {
    if (stream_) stream_->write(encodeRecord(encodeMessage(mediaType_, event)));
  }
  void breakStream() {
    if (auto stream = std::move(stream_)) stream->close();
  }

  std::vector<Call> subscribes;
  std::vector<v1::TaskStatus> updates;
  bool autoAck = true;
  unsigned subscribeStatus = 200;
  bool killingCapable = true;
  std::optional<v1::TaskInfo> launchOnSubscribe;

 private:
  void handle(net::Request&& request, net::Responder responder) {
    // Either media type, as a real agent; events go back in the subscriber's.
    auto mediaType = net::checkApiPost(request, responder);
    if (!mediaType) return;
    Call call;
    if (!decodeMessage(*mediaType, request.body(), &call)) {
      return responder.respond(net::Response::text(400, "bad call"));
    }
    if (call.type() == Call::SUBSCRIBE) {
      subscribes.push_back(call);
      if (subscribeStatus != 200) return responder.respond(net::Response::text(subscribeStatus, "refused"));
      mediaType_ = *mediaType;
      stream_ = responder.startStream(200, std::string(mediaTypeName(mediaType_)));
      Event subscribed;
      subscribed.set_type(Event::SUBSCRIBED);
      auto* info = subscribed.mutable_subscribed();
      info->mutable_executor_info()->mutable_executor_id()->set_value("task-1");
      info->mutable_framework_info()->set_user("u");
      info->mutable_framework_info()->set_name("n");
      if (killingCapable) {
        info->mutable_framework_info()->add_capabilities()->set_type(v1::FrameworkInfo::Capability::TASK_KILLING_STATE);
      }
      info->mutable_agent_info()->set_hostname("localhost");
      send(subscribed);
      if (launchOnSubscribe) {
        Event launch;
        launch.set_type(Event::LAUNCH);
        *launch.mutable_launch()->mutable_task() = *std::exchange(launchOnSubscribe, std::nullopt);
        send(launch);
      }
      return;
    }
    if (call.type() == Call::UPDATE) {
      updates.push_back(call.update().status());
      responder.respond(net::Response::empty(202));
      if (autoAck) acknowledge(call.update().status());
      return;
    }
    responder.respond(net::Response::empty(202));
  }

 public:
  void acknowledge(const v1::TaskStatus& status) {
    Event ack;
    ack.set_type(Event::ACKNOWLEDGED);
    *ack.mutable_acknowledged()->mutable_task_id() = status.task_id();
    ack.mutable_acknowledged()->set_uuid(status.uuid());
    send(ack);
  }

 private:
  net::HttpServer server_;
  uint16_t port_ = 0;
  MediaType mediaType_ = MediaType::kJson;
  std::shared_ptr<net::StreamWriter> stream_;
};

v1::TaskInfo shellTask(const std::string& command) {
  v1::TaskInfo task;
  task.set_name("task-1");
  task.mutable_task_id()->set_value("task-1");
  task.mutable_agent_id()->set_value("A-S0");
  task.mutable_command()->set_value(command);
  return task;
}

class CommandExecutorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/mezzo-executor-test-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir = pattern;
  }

  void TearDown() override {
    if (pid > 0) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
    if (HasFailure()) {
      std::ifstream log(dir + "/stderr");
      std::stringstream text;
      text << log.rdbuf();
      std::cerr << "executor stderr:\n" << text.str();
    }
    fs::remove_all(dir);
  }

  void startExecutor() {
    const char* binDir = std::getenv("MEZZO_BIN_DIR");
    ASSERT_NE(binDir, nullptr) << "MEZZO_BIN_DIR is not set";
    agent::SpawnOptions options;
    options.path = std::string(binDir) + "/mezzo-executor";
    options.argv = {options.path};
    options.environment =
        agent::mergedEnvironment({{"MESOS_FRAMEWORK_ID", "F-0000"},
                                  {"MESOS_EXECUTOR_ID", "task-1"},
                                  {"MESOS_AGENT_ENDPOINT", "127.0.0.1:" + std::to_string(agent.port())},
                                  {"MESOS_SANDBOX", dir},
                                  {"MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD", "3secs"}});
    options.workingDirectory = dir;
    options.stdoutPath = dir + "/stdout";
    options.stderrPath = dir + "/stderr";
    auto spawned = agent::spawnProcess(options);
    ASSERT_TRUE(spawned) << spawned.error();
    pid = *spawned;
  }

  bool runUntil(const std::function<bool()>& done, std::chrono::milliseconds timeout = 10s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      io.restart();
      io.run_for(20ms);
    }
    return done();
  }

  void pump(std::chrono::milliseconds duration) {
    runUntil([] { return false; }, duration);
  }

  // Runs the loop until the executor exits; returns its exit code or -1.
  int waitForExit(std::chrono::milliseconds timeout = 10s) {
    int status = 0;
    bool reaped = false;
    bool exited = runUntil([&] { return reaped || (reaped = waitpid(pid, &status, WNOHANG) == pid); }, timeout);
    if (!exited) return -1;
    pid = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

  std::vector<v1::TaskState> states() const {
    std::vector<v1::TaskState> out;
    for (const auto& status : agent.updates) out.push_back(status.state());
    return out;
  }

  boost::asio::io_context io;
  FakeAgent agent{io};
  std::string dir;
  pid_t pid = -1;
};

TEST_F(CommandExecutorTest, ReportsExitStatusAndExitsAfterAcknowledgement) {
  agent.launchOnSubscribe = shellTask("echo out; exit 3");
  startExecutor();
  EXPECT_EQ(waitForExit(), 0);
  ASSERT_EQ(states(), (std::vector<v1::TaskState>{v1::TASK_STARTING, v1::TASK_RUNNING, v1::TASK_FAILED}));
  EXPECT_EQ(agent.updates.back().message(), "Command exited with status 3");
  std::set<std::string> uuids;
  for (const auto& status : agent.updates) {
    EXPECT_EQ(status.uuid().size(), 16u);
    EXPECT_EQ(status.source(), v1::TaskStatus::SOURCE_EXECUTOR);
    EXPECT_EQ(status.executor_id().value(), "task-1");
    uuids.insert(status.uuid());
  }
  EXPECT_EQ(uuids.size(), 3u);
  std::ifstream out(dir + "/stdout");
  std::string line;
  std::getline(out, line);
  EXPECT_EQ(line, "out");
}

TEST_F(CommandExecutorTest, SuccessfulCommandFinishesWithItsEnvironment) {
  v1::TaskInfo task = shellTask("test \"$GREETING\" = hello");
  auto* variable = task.mutable_command()->mutable_environment()->add_variables();
  variable->set_name("GREETING");
  variable->set_value("hello");
  agent.launchOnSubscribe = task;
  startExecutor();
  EXPECT_EQ(waitForExit(), 0);
  ASSERT_FALSE(agent.updates.empty());
  EXPECT_EQ(agent.updates.back().state(), v1::TASK_FINISHED);
}

TEST_F(CommandExecutorTest, KillEscalatesToSigkillAfterTheGracePeriod) {
  v1::TaskInfo task = shellTask("trap '' TERM; sleep 60");
  task.mutable_kill_policy()->mutable_grace_period()->set_nanoseconds(300'000'000);
  agent.launchOnSubscribe = task;
  startExecutor();
  ASSERT_TRUE(runUntil([&] { return states().size() == 2; }));
  Event kill;
  kill.set_type(Event::KILL);
  kill.mutable_kill()->mutable_task_id()->set_value("task-1");
  agent.send(kill);
  EXPECT_EQ(waitForExit(), 0);
  ASSERT_EQ(states(),
            (std::vector<v1::TaskState>{v1::TASK_STARTING, v1::TASK_RUNNING, v1::TASK_KILLING, v1::TASK_KILLED}));
  EXPECT_EQ(agent.updates.back().message(), "Command terminated with signal SIGKILL");
}

TEST_F(CommandExecutorTest, NoKillingStateWithoutTheCapability) {
  agent.killingCapable = false;
  agent.launchOnSubscribe = shellTask("sleep 60");
  startExecutor();
  ASSERT_TRUE(runUntil([&] { return states().size() == 2; }));
  Event kill;
  kill.set_type(Event::KILL);
  kill.mutable_kill()->mutable_task_id()->set_value("task-1");
  agent.send(kill);
  EXPECT_EQ(waitForExit(), 0);
  ASSERT_EQ(states(), (std::vector<v1::TaskState>{v1::TASK_STARTING, v1::TASK_RUNNING, v1::TASK_KILLED}));
  EXPECT_EQ(agent.updates.back().message(), "Command terminated with signal SIGTERM");
}

TEST_F(CommandExecutorTest, ResendsUnacknowledgedUpdatesWhenResubscribing) {
  agent.autoAck = false;
  agent.launchOnSubscribe = shellTask("sleep 60");
  startExecutor();
  ASSERT_TRUE(runUntil([&] { return states().size() == 2; }));
  agent.breakStream();
  ASSERT_TRUE(runUntil([&] { return agent.subscribes.size() == 2; }));
  const Call::Subscribe& again = agent.subscribes.back().subscribe();
  ASSERT_EQ(again.unacknowledged_updates_size(), 2);
  EXPECT_EQ(again.unacknowledged_updates(0).status().uuid(), agent.updates[0].uuid());
  EXPECT_EQ(again.unacknowledged_updates(1).status().uuid(), agent.updates[1].uuid());
  ASSERT_EQ(again.unacknowledged_tasks_size(), 1);
  EXPECT_EQ(again.unacknowledged_tasks(0).task_id().value(), "task-1");
  // Acknowledged updates are not resent.
  agent.acknowledge(agent.updates[0]);
  agent.acknowledge(agent.updates[1]);
  pump(300ms);
  agent.breakStream();
  ASSERT_TRUE(runUntil([&] { return agent.subscribes.size() == 3; }));
  EXPECT_EQ(agent.subscribes.back().subscribe().unacknowledged_updates_size(), 0);
  EXPECT_EQ(agent.subscribes.back().subscribe().unacknowledged_tasks_size(), 0);
  Event shutdown;
  shutdown.set_type(Event::SHUTDOWN);
  agent.autoAck = true;
  agent.send(shutdown);
  EXPECT_EQ(waitForExit(), 0);
  EXPECT_EQ(agent.updates.back().state(), v1::TASK_KILLED);
}

TEST_F(CommandExecutorTest, ExitsWhenTheAgentRefusesIt) {
  agent.subscribeStatus = 400;
  startExecutor();
  EXPECT_EQ(waitForExit(), 1);
}

TEST_F(CommandExecutorTest, ShutdownBeforeLaunchExits) {
  startExecutor();
  ASSERT_TRUE(runUntil([&] { return agent.subscribes.size() == 1; }));
  pump(200ms);
  Event shutdown;
  shutdown.set_type(Event::SHUTDOWN);
  agent.send(shutdown);
  EXPECT_EQ(waitForExit(), 0);
  EXPECT_TRUE(agent.updates.empty());
}

}  // namespace
}  // namespace mezzo
