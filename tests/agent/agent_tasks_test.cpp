// Agent behaviour seen through a real master and a wire-level scheduler:
// sandboxes and the /files endpoints of a running task, the agent's /state,
// updates the agent generates itself (executor exit, registration timeout,
// kill before delivery), and retries of unacknowledged updates.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <thread>

#include "harness/process.hpp"
#include "harness/scheduler_session.hpp"
#include "harness/task_updates.hpp"
#include "mezzo/common/task_states.hpp"
#include "mezzo/v1/agent/agent.pb.h"

namespace mezzo::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

v1::Offer takeOffer(SchedulerSession& session) {
  auto event = session.waitForType(Event::OFFERS);
  EXPECT_TRUE(event) << "no offer";
  return event ? event->offers().offers(0) : v1::Offer();
}

// A task run by a custom executor whose command is `executorCommand`.
v1::TaskInfo customExecutorTask(const std::string& id, const v1::Offer& offer, const std::string& executorCommand) {
  v1::TaskInfo task = commandTask(id, offer, "unused");
  task.clear_command();
  v1::ExecutorInfo* executor = task.mutable_executor();
  executor->mutable_executor_id()->set_value("exec-" + id);
  executor->mutable_command()->set_value(executorCommand);
  return task;
}

net::Endpoint agentEndpoint(LocalCluster& cluster) { return net::Endpoint{"127.0.0.1", cluster.agentPort(0)}; }

class AgentTasksTest : public ::testing::Test {
 protected:
  void start(ClusterOptions options = {}) {
    cluster = std::make_unique<LocalCluster>(std::move(options));
    session = std::make_unique<SchedulerSession>(cluster->master());
    ASSERT_EQ(session->subscribe(subscribeCall("agent-tests", 0, {v1::FrameworkInfo::Capability::TASK_KILLING_STATE})),
              200u);
    ASSERT_TRUE(session->waitForType(Event::SUBSCRIBED));
  }

  std::unique_ptr<LocalCluster> cluster;
  std::unique_ptr<SchedulerSession> session;
};

TEST_F(AgentTasksTest, SandboxOfARunningTaskIsServed) {
  start();
  v1::Offer offer = takeOffer(*session);
  ASSERT_EQ(session->call(launchCall(offer, {commandTask("t1", offer, "echo hello-sandbox; sleep 30")}))->status, 202u);
  auto statuses = session->followTask("t1", v1::TASK_RUNNING);
  ASSERT_FALSE(statuses.empty());
  ASSERT_EQ(statuses.back().state(), v1::TASK_RUNNING);

  json state = getJson(agentEndpoint(*cluster), "/slave(1)/state");
  ASSERT_EQ(state["frameworks"].size(), 1u);
  json executor = state["frameworks"][0]["executors"][0];
  EXPECT_EQ(executor["id"], "t1");
  ASSERT_EQ(executor["tasks"].size(), 1u);
  EXPECT_EQ(executor["tasks"][0]["state"], "TASK_RUNNING");
  std::string directory = executor["directory"];

  const std::string latest = "/frameworks/" + session->frameworkId() + "/executors/t1/runs/latest";
  ASSERT_TRUE(waitUntil(
      [&] {
        json read = getJson(agentEndpoint(*cluster), "/files/read?path=" + latest + "/stdout&offset=0");
        return read.is_object() && read["data"] == "hello-sandbox\n";
      },
      5s));
  json size = getJson(agentEndpoint(*cluster), "/files/read?path=" + directory + "/stdout&offset=-1");
  EXPECT_EQ(size["offset"], 14);
  EXPECT_EQ(size["data"], "");
  json listing = getJson(agentEndpoint(*cluster), "/files/browse?path=" + latest);
  std::set<std::string> names;
  for (const json& entry : listing) names.insert(entry["path"].get<std::string>());
  EXPECT_TRUE(names.contains(latest + "/stdout")) << listing.dump();
  EXPECT_TRUE(names.contains(latest + "/stderr")) << listing.dump();
  net::ClientRequest download;
  download.method = boost::beast::http::verb::get;
  download.target = "/files/download?path=" + latest + "/stdout";
  auto file = net::httpRequestSync(agentEndpoint(*cluster), download);
  ASSERT_TRUE(file);
  EXPECT_EQ(file->status, 200u);
  EXPECT_EQ(file->body, "hello-sandbox\n");

  ASSERT_EQ(session->call(killCall("t1", offer))->status, 202u);
  auto killed = session->followTask("t1", v1::TASK_KILLED);
  ASSERT_FALSE(killed.empty());
  EXPECT_EQ(killed.back().state(), v1::TASK_KILLED);
}

v1::TaskInfo withMaxCompletionTime(v1::TaskInfo task, int64_t nanoseconds) {
  task.mutable_max_completion_time()->set_nanoseconds(nanoseconds);
  return task;
}

// As Mesos's command executor: killed at once (no TASK_KILLING even with the
// capability), TASK_FAILED with REASON_MAX_COMPLETION_TIME_REACHED; a task
// that ends in time is not affected; a negative limit is refused.
TEST_F(AgentTasksTest, MaxCompletionTimeFailsATaskThatRunsTooLong) {
  start();
  v1::Offer offer = takeOffer(*session);
  ASSERT_EQ(session
                ->call(launchCall(
                    offer,
                    {withMaxCompletionTime(commandTask("late", offer, "sleep 60", "cpus:0.5;mem:64"), 1'000'000'000),
                     withMaxCompletionTime(commandTask("quick", offer, "sleep 0.2", "cpus:0.5;mem:64"), 30'000'000'000),
                     withMaxCompletionTime(commandTask("negative", offer, "true", "cpus:0.5;mem:64"), -1)}))
                ->status,
            202u);
  const auto started = std::chrono::steady_clock::now();
  const std::vector<std::string> ids = {"late", "quick", "negative"};
  Seen seen = collectUpdates(
      *session, [&](const Seen& s) { return allIn(s, ids, isTerminalState); }, 30s);
  ASSERT_TRUE(allIn(seen, ids, isTerminalState));
  EXPECT_LT(std::chrono::steady_clock::now() - started, 20s);

  const v1::TaskStatus& failed = seen["late"].back();
  EXPECT_EQ(failed.state(), v1::TASK_FAILED);
  EXPECT_EQ(failed.reason(), v1::TaskStatus::REASON_MAX_COMPLETION_TIME_REACHED);
  EXPECT_EQ(failed.source(), v1::TaskStatus::SOURCE_EXECUTOR);
  EXPECT_NE(failed.message().find("signal"), std::string::npos) << failed.message();
  for (const v1::TaskStatus& status : seen["late"]) EXPECT_NE(status.state(), v1::TASK_KILLING);

  EXPECT_EQ(seen["quick"].back().state(), v1::TASK_FINISHED);

  const v1::TaskStatus& refused = seen["negative"].back();
  EXPECT_EQ(refused.state(), v1::TASK_ERROR);
  EXPECT_NE(refused.message().find("max_completion_time"), std::string::npos) << refused.message();
}

// A command task the agent supervises (the default --command_tasks) is
// killed per its kill policy: TASK_KILLING for a framework with that
// capability, SIGTERM (ignored here), SIGKILL after the 300 ms grace
// period; every update comes as the command executor would send it.
TEST_F(AgentTasksTest, SupervisedTaskIsKilledAfterItsGracePeriod) {
  start();
  v1::Offer offer = takeOffer(*session);
  // The kill waits for the shell to have set its trap (a SIGTERM before
  // that would end it at once, and the test would see SIGTERM).
  const std::filesystem::path ready = makeTempDir("mezzo-stubborn") / "trap-set";
  v1::TaskInfo task = commandTask("stubborn", offer,
                                  "trap '' TERM; touch " + ready.string() + "; while true; do sleep 0.05; done",
                                  "cpus:0.5;mem:64");
  task.mutable_kill_policy()->mutable_grace_period()->set_nanoseconds(300'000'000);
  ASSERT_EQ(session->call(launchCall(offer, {task}))->status, 202u);
  ASSERT_FALSE(session->followTask("stubborn", v1::TASK_RUNNING).empty());
  ASSERT_TRUE(waitUntil([&] { return std::filesystem::exists(ready); }, 10s));
  const auto killed = std::chrono::steady_clock::now();
  ASSERT_EQ(session->call(killCall("stubborn", offer))->status, 202u);
  auto statuses = session->followTask("stubborn", v1::TASK_KILLED);
  ASSERT_FALSE(statuses.empty());
  EXPECT_GE(std::chrono::steady_clock::now() - killed, 300ms);
  std::vector<v1::TaskState> states;
  for (const v1::TaskStatus& status : statuses) {
    states.push_back(status.state());
    EXPECT_EQ(status.source(), v1::TaskStatus::SOURCE_EXECUTOR);
    EXPECT_EQ(status.executor_id().value(), "stubborn");
    EXPECT_FALSE(status.container_status().container_id().value().empty());
  }
  EXPECT_EQ(states, (std::vector<v1::TaskState>{v1::TASK_KILLING, v1::TASK_KILLED}));
  EXPECT_EQ(statuses.back().message(), "Command terminated with signal SIGKILL");
}

// The agent's task supervisor dies under a running task: the task is
// failed (source AGENT, REASON_EXECUTOR_TERMINATED) and killed, and the
// next task runs under a new supervisor.
TEST_F(AgentTasksTest, TaskOfADeadSupervisorFailsAndTheNextTaskRuns) {
  start();
  const std::filesystem::path dir = makeTempDir("mezzo-dead-supervisor");
  const std::string pids = (dir / "pids").string();
  v1::Offer offer = takeOffer(*session);
  ASSERT_EQ(session
                ->call(launchCall(offer, {commandTask("orphan", offer, "echo $PPID $$ > " + pids + "; exec sleep 600",
                                                      "cpus:0.5;mem:64")}))
                ->status,
            202u);
  ASSERT_FALSE(session->followTask("orphan", v1::TASK_RUNNING).empty());
  pid_t supervisor = 0;
  pid_t task = 0;
  ASSERT_TRUE(waitUntil([&] { return (std::ifstream(pids) >> supervisor >> task).good(); }, 5s));
  ASSERT_GT(supervisor, 1);
  ASSERT_EQ(::kill(supervisor, SIGKILL), 0);
  auto statuses = session->followTask("orphan", v1::TASK_FAILED);
  ASSERT_FALSE(statuses.empty());
  EXPECT_EQ(statuses.back().state(), v1::TASK_FAILED);
  EXPECT_EQ(statuses.back().source(), v1::TaskStatus::SOURCE_AGENT);
  EXPECT_EQ(statuses.back().reason(), v1::TaskStatus::REASON_EXECUTOR_TERMINATED);
  EXPECT_TRUE(waitUntil([&] { return ::kill(task, 0) != 0; }, 5s)) << "the task outlived its supervisor";

  v1::Offer next = takeOffer(*session);
  ASSERT_EQ(session->call(launchCall(next, {commandTask("next", next, "true", "cpus:0.5;mem:64")}))->status, 202u);
  statuses = session->followTask("next", v1::TASK_FINISHED);
  ASSERT_FALSE(statuses.empty());
  EXPECT_EQ(statuses.back().state(), v1::TASK_FINISHED);
  std::filesystem::remove_all(dir);
}

// /metrics/snapshot has the Mesos agent's slave/* metrics: live tasks by
// state, terminal ones counted, resources in use, executors, updates.
TEST_F(AgentTasksTest, MetricsCountTasksExecutorsAndResources) {
  start();
  v1::Offer offer = takeOffer(*session);
  ASSERT_EQ(session
                ->call(launchCall(offer, {commandTask("ok", offer, "true", "cpus:0.25;mem:32"),
                                          commandTask("bad", offer, "exit 1", "cpus:0.25;mem:32"),
                                          commandTask("doomed", offer, "sleep 60", "cpus:0.25;mem:32"),
                                          commandTask("lasting", offer, "sleep 60", "cpus:0.5;mem:64")}))
                ->status,
            202u);
  Seen seen = collectUpdates(
      *session,
      [](const Seen& s) {
        return allIn(s, {"ok", "bad"}, isTerminalState) && allIn(s, {"doomed", "lasting"}, [](v1::TaskState state) {
                 return state == v1::TASK_RUNNING;
               });
      },
      20s);
  ASSERT_EQ(session->call(killCall("doomed", offer))->status, 202u);
  ASSERT_FALSE(session->followTask("doomed", v1::TASK_KILLED).empty());
  json metrics;
  EXPECT_TRUE(waitUntil(
      [&] {
        metrics = getJson(agentEndpoint(*cluster), "/metrics/snapshot");
        return metrics.value("slave/tasks_killed", 0) == 1 && metrics.value("slave/executors_terminated", 0) == 3;
      },
      10s))
      << metrics.dump();
  EXPECT_EQ(metrics.value("slave/registered", 0), 1);
  EXPECT_EQ(metrics.value("slave/tasks_finished", 0), 1);
  EXPECT_EQ(metrics.value("slave/tasks_failed", 0), 1);
  EXPECT_EQ(metrics.value("slave/tasks_running", 0), 1);
  EXPECT_EQ(metrics.value("slave/tasks_staging", -1), 0);
  EXPECT_EQ(metrics.value("slave/executors_running", 0), 1);
  EXPECT_EQ(metrics.value("slave/frameworks_active", 0), 1);
  EXPECT_DOUBLE_EQ(metrics.value("slave/cpus_used", 0.0), 0.5);
  EXPECT_DOUBLE_EQ(metrics.value("slave/mem_used", 0.0), 64);
  EXPECT_GT(metrics.value("slave/cpus_total", 0.0), 0.5);
  EXPECT_GT(metrics.value("slave/cpus_percent", 0.0), 0.0);
  // STARTING, RUNNING and a terminal update for three tasks, two for the last; KILLING too.
  EXPECT_EQ(metrics.value("slave/valid_status_updates", 0), 12);
  EXPECT_EQ(metrics.value("gc/path_removals_pending", 0), 3);
  EXPECT_GE(metrics.value("slave/uptime_secs", 0.0), 0.0);
  EXPECT_EQ(metrics.value("slave/recovery_errors", -1), 0);
  EXPECT_GE(metrics.value("slave/recovery_time_secs", -1.0), 0.0);
  // The host's figures, as Mesos's system/* keys.
  EXPECT_EQ(metrics.value("system/cpus_total", 0.0), static_cast<double>(sysconf(_SC_NPROCESSORS_ONLN)));
  EXPECT_GT(metrics.value("system/mem_total_bytes", 0.0), 0.0);
  EXPECT_GE(metrics.value("system/mem_total_bytes", 0.0), metrics.value("system/mem_free_bytes", -1.0));
  EXPECT_GE(metrics.value("system/load_1min", -1.0), 0.0);
}

// The agent's v1 operator API: GET_CONTAINERS lists the running task's
// container with its status and usage (JSON and protobuf); bad calls get
// 4xx, calls Mezzo's agent does not implement 501.
TEST_F(AgentTasksTest, OperatorApiListsContainersWithTheirUsage) {
  start();
  v1::Offer offer = takeOffer(*session);
  ASSERT_EQ(session->call(launchCall(offer, {commandTask("ops", offer, "sleep 30")}))->status, 202u);
  auto running = session->followTask("ops", v1::TASK_RUNNING);
  ASSERT_FALSE(running.empty());
  ASSERT_EQ(running.back().state(), v1::TASK_RUNNING);

  auto post = [&](const std::string& contentType, const std::string& body, const std::string& accept) {
    net::ClientRequest request;
    request.target = "/api/v1";
    request.headers = {{"Content-Type", contentType}, {"Accept", accept}};
    request.body = body;
    return net::httpRequestSync(agentEndpoint(*cluster), std::move(request));
  };
  auto containers = post("application/json", R"({"type":"GET_CONTAINERS"})", "application/json");
  ASSERT_TRUE(containers);
  ASSERT_EQ(containers->status, 200u) << containers->body;
  json answer = json::parse(containers->body);
  EXPECT_EQ(answer["type"], "GET_CONTAINERS");
  ASSERT_EQ(answer["get_containers"]["containers"].size(), 1u) << answer.dump();
  json container = answer["get_containers"]["containers"][0];
  EXPECT_EQ(container["executor_id"]["value"], "ops");
  EXPECT_EQ(container["framework_id"]["value"], session->frameworkId());
  EXPECT_FALSE(container["container_id"]["value"].get<std::string>().empty());
  EXPECT_EQ(container["container_status"]["container_id"], container["container_id"]);
  EXPECT_GT(container["container_status"]["executor_pid"].get<int>(), 1);
  EXPECT_GT(container["resource_statistics"]["timestamp"].get<double>(), 0);
  EXPECT_GE(container["resource_statistics"]["processes"].get<int>(), 2);  // the executor and `sleep`

  // The same call in protobuf.
  v1::agent::Call call;
  call.set_type(v1::agent::Call::GET_CONTAINERS);
  auto binary = post("application/x-protobuf", call.SerializeAsString(), "application/x-protobuf");
  ASSERT_TRUE(binary);
  ASSERT_EQ(binary->status, 200u);
  v1::agent::Response response;
  ASSERT_TRUE(response.ParseFromString(binary->body));
  ASSERT_EQ(response.get_containers().containers_size(), 1);
  EXPECT_EQ(response.get_containers().containers(0).executor_id().value(), "ops");

  auto health = post("application/json", R"({"type":"GET_HEALTH"})", "application/json");
  ASSERT_TRUE(health);
  EXPECT_EQ(json::parse(health->body)["get_health"]["healthy"], true);
  for (const auto& [body, status] : std::vector<std::pair<std::string, unsigned>>{
           {R"({"type":"GET_STATE"})", 501}, {R"({"type":"NO_SUCH_CALL"})", 400}, {"{not json", 400}, {"{}", 400}}) {
    auto bad = post("application/json", body, "application/json");
    ASSERT_TRUE(bad);
    EXPECT_EQ(bad->status, status) << body << ": " << bad->body;
  }
  auto wrongType = post("text/plain", "{}", "application/json");
  ASSERT_TRUE(wrongType);
  EXPECT_EQ(wrongType->status, 415u);

  ASSERT_EQ(session->call(killCall("ops", offer))->status, 202u);
  auto killed = session->followTask("ops", v1::TASK_KILLED);
  ASSERT_FALSE(killed.empty());
}

TEST_F(AgentTasksTest, CustomExecutorExitFailsItsTaskAndIsReported) {
  start();
  v1::Offer offer = takeOffer(*session);
  ASSERT_EQ(session->call(launchCall(offer, {customExecutorTask("t2", offer, "exit 2")}))->status, 202u);
  auto statuses = session->followTask("t2", v1::TASK_FAILED);
  ASSERT_FALSE(statuses.empty());
  const v1::TaskStatus& failed = statuses.back();
  EXPECT_EQ(failed.state(), v1::TASK_FAILED);
  EXPECT_EQ(failed.source(), v1::TaskStatus::SOURCE_AGENT);
  EXPECT_EQ(failed.reason(), v1::TaskStatus::REASON_EXECUTOR_TERMINATED);
  EXPECT_NE(failed.message().find("exited with status 2"), std::string::npos) << failed.message();
  EXPECT_EQ(failed.uuid().size(), 16u);
  EXPECT_TRUE(waitUntil(
      [&] {
        for (const Event& event : session->eventsSoFar()) {
          if (event.type() == Event::FAILURE && event.failure().executor_id().value() == "exec-t2") return true;
        }
        return false;
      },
      10s));
}

TEST_F(AgentTasksTest, KillBeforeTheExecutorSubscribesIsAnsweredByTheAgent) {
  start();
  v1::Offer offer = takeOffer(*session);
  ASSERT_EQ(session->call(launchCall(offer, {customExecutorTask("t3", offer, "sleep 30")}))->status, 202u);
  ASSERT_EQ(session->call(killCall("t3", offer))->status, 202u);
  auto statuses = session->followTask("t3", v1::TASK_KILLED);
  ASSERT_FALSE(statuses.empty());
  EXPECT_EQ(statuses.back().state(), v1::TASK_KILLED);
  EXPECT_EQ(statuses.back().source(), v1::TaskStatus::SOURCE_AGENT);
  EXPECT_EQ(statuses.back().reason(), v1::TaskStatus::REASON_TASK_KILLED_DURING_LAUNCH);
}

TEST_F(AgentTasksTest, ExecutorThatNeverSubscribesTimesOut) {
  start(ClusterOptions().withAgentFlag("--executor_registration_timeout=1secs"));
  v1::Offer offer = takeOffer(*session);
  ASSERT_EQ(session->call(launchCall(offer, {customExecutorTask("t4", offer, "sleep 30")}))->status, 202u);
  auto statuses = session->followTask("t4", v1::TASK_FAILED);
  ASSERT_FALSE(statuses.empty());
  EXPECT_EQ(statuses.back().state(), v1::TASK_FAILED);
  EXPECT_EQ(statuses.back().reason(), v1::TaskStatus::REASON_EXECUTOR_REGISTRATION_TIMEOUT);
}

TEST_F(AgentTasksTest, UnacknowledgedUpdatesAreRetriedInOrder) {
  start(ClusterOptions().withAgentFlag("--status_update_retry_interval=300ms"));
  v1::Offer offer = takeOffer(*session);
  ASSERT_EQ(session->call(launchCall(offer, {commandTask("t5", offer, "sleep 30")}))->status, 202u);
  auto first = session->waitForUpdate("t5");
  ASSERT_TRUE(first);
  EXPECT_EQ(first->state(), v1::TASK_STARTING);
  // Not acknowledged: the same update comes again, and RUNNING waits behind it.
  auto retry = session->waitForUpdate("t5", 5s);
  ASSERT_TRUE(retry);
  EXPECT_EQ(retry->state(), v1::TASK_STARTING);
  EXPECT_EQ(retry->uuid(), first->uuid());
  ASSERT_TRUE(session->acknowledge(*retry));
  auto statuses = session->followTask("t5", v1::TASK_RUNNING);
  ASSERT_FALSE(statuses.empty());
  for (const auto& status : statuses) EXPECT_NE(status.state(), v1::TASK_STAGING);
  EXPECT_EQ(statuses.back().state(), v1::TASK_RUNNING);
}

// ------------------------------------------------ robustness of the files API and checkpoints

// A sandbox-shaped directory under the agent's work dir (the files API
// serves only such paths), without a task.
std::filesystem::path fakeSandbox(LocalCluster& cluster) {
  auto dir = cluster.workDir() / "agent0/slaves/A/frameworks/F/executors/E/runs/C";
  std::filesystem::create_directories(dir);
  return dir;
}

int64_t residentBytes(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with("VmRSS:")) return std::stoll(line.substr(6)) * 1024;
  }
  return -1;
}

// A GET whose response body the test reads at its own pace (a slow client).
class SlowDownload {
 public:
  SlowDownload(uint16_t port, const std::string& target) {
    boost::asio::connect(socket_, boost::asio::ip::tcp::resolver(io_).resolve("127.0.0.1", std::to_string(port)));
    std::string request = "GET " + target + " HTTP/1.1\r\nHost: agent\r\nConnection: close\r\n\r\n";
    boost::asio::write(socket_, boost::asio::buffer(request));
  }
  // Reads at least `bytes` more of the response (head included).
  void readSome(size_t bytes) {
    size_t want = received_.size() + bytes;
    while (received_.size() < want) {
      char chunk[65536];
      boost::system::error_code ec;
      size_t n = socket_.read_some(boost::asio::buffer(chunk), ec);
      if (ec) break;
      received_.append(chunk, n);
    }
  }
  // Reads to the end and returns the body.
  std::string body() {
    readSome(std::numeric_limits<size_t>::max() / 2);
    size_t end = received_.find("\r\n\r\n");
    return end == std::string::npos ? std::string() : received_.substr(end + 4);
  }
  std::string head() const { return received_.substr(0, received_.find("\r\n\r\n")); }

 private:
  boost::asio::io_context io_;
  boost::asio::ip::tcp::socket socket_{io_};
  std::string received_;
};

TEST_F(AgentTasksTest, ReadingAFifoAnswersAtOnceAndTheAgentKeepsServing) {
  start();
  auto fifo = fakeSandbox(*cluster) / "pipe";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0644), 0);
  for (const std::string endpoint : {"/files/read?offset=0&path=", "/files/download?path="}) {
    net::ClientRequest request;
    request.method = boost::beast::http::verb::get;
    request.target = endpoint + fifo.string();
    request.timeout = 5s;
    auto response = net::httpRequestSync(agentEndpoint(*cluster), request);
    ASSERT_TRUE(response) << endpoint << ": " << response.error();
    EXPECT_EQ(response->status, 400u) << endpoint;
    EXPECT_NE(response->body.find("Not a regular file"), std::string::npos) << response->body;
  }
  EXPECT_TRUE(getJson(agentEndpoint(*cluster), "/slave(1)/state").is_object());
}

// Eight clients that do not read a 200 MB download: the agent sends as fast
// as each one takes it, so it holds no copy of the file per client.
TEST_F(AgentTasksTest, LargeDownloadsAreStreamedToSlowClients) {
  start();
  constexpr size_t kFileBytes = 200u << 20;
  auto file = fakeSandbox(*cluster) / "big";
  {
    std::ofstream out(file, std::ios::binary);
    std::vector<uint64_t> block(1 << 16);
    for (size_t offset = 0; offset < kFileBytes; offset += block.size() * 8) {
      for (size_t i = 0; i < block.size(); ++i) block[i] = offset + i * 8;  // each word holds its offset
      out.write(reinterpret_cast<const char*>(block.data()), static_cast<std::streamsize>(block.size() * 8));
    }
  }
  const pid_t agent = cluster->agentProcess(0).pid();
  const int64_t before = residentBytes(agent);
  std::vector<std::unique_ptr<SlowDownload>> downloads;
  for (int i = 0; i < 8; ++i) {
    downloads.push_back(std::make_unique<SlowDownload>(cluster->agentPort(0), "/files/download?path=" + file.string()));
    downloads.back()->readSome(1);
  }
  int64_t peak = residentBytes(agent);
  for (int round = 0; round < 10; ++round) {  // the agent has had time to fill its socket buffers
    std::this_thread::sleep_for(100ms);
    peak = std::max(peak, residentBytes(agent));
  }
  EXPECT_LT(peak - before, 100 << 20) << "agent RSS grew from " << before << " to " << peak;
  for (auto& download : downloads) {
    std::string body = download->body();
    EXPECT_NE(download->head().find("200 OK"), std::string::npos) << download->head();
    ASSERT_EQ(body.size(), kFileBytes);
    bool intact = true;
    for (size_t offset = 0; offset < kFileBytes && intact; offset += 8) {
      uint64_t word = 0;
      std::memcpy(&word, body.data() + offset, 8);
      intact = word == offset;
    }
    EXPECT_TRUE(intact);
  }
}

// A task whose checkpoint cannot be written (the work dir is full) is not
// launched: it fails with the reason, and never reports RUNNING.
TEST_F(AgentTasksTest, TaskIsNotLaunchedWhenItsCheckpointCannotBeWritten) {
  std::filesystem::path mounted;
  ClusterOptions options;
  options.prepareAgentWorkDir = [&](const std::filesystem::path& dir) {
    std::filesystem::create_directories(dir);
    if (::mount("tmpfs", dir.c_str(), "tmpfs", 0, "size=2m") == 0) mounted = dir;
  };
  cluster = std::make_unique<LocalCluster>(std::move(options));
  if (mounted.empty()) GTEST_SKIP() << "Cannot mount a tmpfs as the work dir (needs root)";
  struct Unmount {
    std::filesystem::path dir;
    LocalCluster* cluster;
    ~Unmount() {
      cluster->agentProcess(0).stop();
      ::umount2(dir.c_str(), MNT_DETACH);
    }
  } unmount{mounted, cluster.get()};
  {
    std::ofstream filler(mounted / "filler", std::ios::binary);
    std::string block(4096, 'x');
    while (filler.write(block.data(), static_cast<std::streamsize>(block.size()))) {
    }
  }
  SchedulerSession checkpointing(cluster->master());
  Call subscribe = subscribeCall("checkpointing");
  subscribe.mutable_subscribe()->mutable_framework_info()->set_checkpoint(true);
  ASSERT_EQ(checkpointing.subscribe(subscribe), 200u);
  v1::Offer offer = takeOffer(checkpointing);
  ASSERT_EQ(checkpointing.call(launchCall(offer, {commandTask("t-full", offer, "sleep 30")}))->status, 202u);
  auto statuses = checkpointing.followTask("t-full", v1::TASK_FAILED);
  ASSERT_FALSE(statuses.empty());
  for (const auto& status : statuses) EXPECT_NE(status.state(), v1::TASK_RUNNING);
  EXPECT_EQ(statuses.back().state(), v1::TASK_FAILED);
  EXPECT_EQ(statuses.back().reason(), v1::TaskStatus::REASON_CONTAINER_LAUNCH_FAILED);
  EXPECT_NE(statuses.back().message().find("Failed to checkpoint the task"), std::string::npos)
      << statuses.back().message();
}

}  // namespace
}  // namespace mezzo::testing
