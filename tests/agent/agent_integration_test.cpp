// Multi-process tests of mezzo-agent against a real mezzo-master: the agent
// registers with its resources and attributes, serves /state and refuses
// bad executor-API and /files requests, and re-registers with the same id
// after the master restarts. Binaries come from $MEZZO_BIN_DIR.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <thread>

#include "agent/process.hpp"
#include "mezzo/net/http_client.hpp"

namespace mezzo {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;

uint16_t freePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  socklen_t length = sizeof(address);
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  close(fd);
  return ntohs(address.sin_port);
}

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout = 15s) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return condition();
}

net::ClientResponse request(uint16_t port, boost::beast::http::verb method, const std::string& target,
                            std::vector<std::pair<std::string, std::string>> headers = {}, std::string body = {}) {
  net::ClientRequest req;
  req.method = method;
  req.target = target;
  req.headers = std::move(headers);
  req.body = std::move(body);
  req.timeout = 5000ms;
  auto response = net::httpRequestSync(net::Endpoint{"127.0.0.1", port}, std::move(req));
  return response ? *response : net::ClientResponse{};
}

json getJson(uint16_t port, const std::string& target) {
  auto response = request(port, boost::beast::http::verb::get, target);
  if (response.status != 200) return json();
  return json::parse(response.body, nullptr, false);
}

class Daemon {
 public:
  Daemon() = default;
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;
  ~Daemon() { stop(); }

  void start(const std::string& binary, std::vector<std::string> args, const std::string& logPrefix) {
    const char* binDir = std::getenv("MEZZO_BIN_DIR");
    ASSERT_NE(binDir, nullptr) << "MEZZO_BIN_DIR is not set";
    agent::SpawnOptions options;
    options.path = std::string(binDir) + "/" + binary;
    args.insert(args.begin(), options.path);
    options.argv = std::move(args);
    options.environment = agent::mergedEnvironment({});
    options.stdoutPath = logPrefix + ".out";
    options.stderrPath = logPrefix + ".err";
    auto pid = agent::spawnProcess(options);
    ASSERT_TRUE(pid) << pid.error();
    pid_ = *pid;
  }

  void stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    int status = 0;
    for (int i = 0; i < 100 && waitpid(pid_, &status, WNOHANG) == 0; ++i) std::this_thread::sleep_for(50ms);
    if (waitpid(pid_, &status, WNOHANG) == 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
    }
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
};

class AgentIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/mezzo-agent-it-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir = pattern;
    masterPort = freePort();
    agentPort = freePort();
    startMaster();
    agent.start("mezzo-agent",
                {"--master=127.0.0.1:" + std::to_string(masterPort), "--ip=127.0.0.1",
                 "--port=" + std::to_string(agentPort), "--work_dir=" + dir + "/agent",
                 "--resources=cpus:2;mem:1024;disk:2048;ports:[31000-31010]", "--attributes=rack:r1;level:2",
                 "--registration_backoff_factor=100ms"},
                dir + "/agent");
  }

  void TearDown() override {
    agent.stop();
    master.stop();
    if (!HasFailure()) fs::remove_all(dir);
  }

  void startMaster() {
    master.start("mezzo-master", {"--ip=127.0.0.1", "--port=" + std::to_string(masterPort), "--registry=in_memory"},
                 dir + "/master");
    ASSERT_TRUE(eventually([&] { return request(masterPort, boost::beast::http::verb::get, "/health").status == 200; }));
  }

  json masterAgents() {
    json state = getJson(masterPort, "/state");
    return state.is_object() ? state["slaves"] : json::array();
  }

  std::string dir;
  uint16_t masterPort = 0;
  uint16_t agentPort = 0;
  Daemon master;
  Daemon agent;
};

TEST_F(AgentIntegrationTest, RegistersWithResourcesAndAttributes) {
  ASSERT_TRUE(eventually([&] { return masterAgents().size() == 1; })) << "agent did not register";
  json slave = masterAgents()[0];
  EXPECT_EQ(slave["hostname"], "127.0.0.1");
  EXPECT_EQ(slave["port"], agentPort);
  EXPECT_EQ(slave["resources"]["cpus"], 2);
  EXPECT_EQ(slave["resources"]["mem"], 1024);
  EXPECT_EQ(slave["resources"]["disk"], 2048);
  EXPECT_EQ(slave["resources"]["ports"], "[31000-31010]");
  EXPECT_EQ(slave["attributes"]["rack"], "r1");
  EXPECT_EQ(slave["attributes"]["level"], 2);
  EXPECT_EQ(slave["active"], true);

  json state = getJson(agentPort, "/slave(1)/state");
  ASSERT_TRUE(state.is_object());
  EXPECT_EQ(state["id"], slave["id"]);
  EXPECT_EQ(state["resources"]["cpus"], 2);
  EXPECT_EQ(state["attributes"]["rack"], "r1");
  EXPECT_TRUE(state["frameworks"].empty());
  EXPECT_EQ(getJson(agentPort, "/state")["id"], slave["id"]);
  EXPECT_EQ(request(agentPort, boost::beast::http::verb::get, "/health").status, 200u);
  EXPECT_TRUE(getJson(agentPort, "/flags")["flags"].contains("master"));
  EXPECT_EQ(getJson(agentPort, "/version")["version"], "1.11.0");
}

TEST_F(AgentIntegrationTest, ExecutorApiRefusesBadRequests) {
  ASSERT_TRUE(eventually([&] { return masterAgents().size() == 1; }));
  const std::string call =
      R"({"type":"SUBSCRIBE","framework_id":{"value":"nope"},"executor_id":{"value":"e"},"subscribe":{}})";
  using boost::beast::http::verb;
  EXPECT_EQ(request(agentPort, verb::get, "/api/v1/executor").status, 405u);
  EXPECT_EQ(request(agentPort, verb::post, "/api/v1/executor", {}, call).status, 400u);
  EXPECT_EQ(request(agentPort, verb::post, "/api/v1/executor", {{"Content-Type", "text/plain"}}, call).status, 415u);
  auto unknown = request(agentPort, verb::post, "/api/v1/executor", {{"Content-Type", "application/json"}}, call);
  EXPECT_EQ(unknown.status, 400u);
  EXPECT_NE(unknown.body.find("cannot be found"), std::string::npos) << unknown.body;
  EXPECT_EQ(request(agentPort, verb::post, "/slave(1)/api/v1/executor", {{"Content-Type", "application/json"}},
                    "{not json")
                .status,
            400u);
}

TEST_F(AgentIntegrationTest, FilesEndpointsRefusePathsOutsideSandboxes) {
  ASSERT_TRUE(eventually([&] { return masterAgents().size() == 1; }));
  using boost::beast::http::verb;
  EXPECT_EQ(request(agentPort, verb::get, "/files/read?path=/etc/passwd&offset=0").status, 403u);
  EXPECT_EQ(request(agentPort, verb::get, "/files/download?path=/etc/passwd").status, 403u);
  EXPECT_EQ(request(agentPort, verb::get,
                    "/files/read?path=/frameworks/F/executors/E/runs/latest/../../../../../../../etc/passwd&offset=0")
                .status,
            403u);
  EXPECT_EQ(request(agentPort, verb::get, "/files/read?path=/frameworks/F/executors/E/runs/latest/stdout&offset=0")
                .status,
            404u);
}

TEST_F(AgentIntegrationTest, ReregistersWithTheSameIdAfterMasterRestart) {
  ASSERT_TRUE(eventually([&] { return masterAgents().size() == 1; }));
  std::string id = masterAgents()[0]["id"];
  master.stop();
  startMaster();
  ASSERT_TRUE(eventually([&] { return masterAgents().size() == 1; }, 20s)) << "agent did not re-register";
  EXPECT_EQ(masterAgents()[0]["id"], id);
  EXPECT_EQ(masterAgents()[0]["resources"]["cpus"], 2);
  EXPECT_EQ(getJson(agentPort, "/state")["id"], id);
}

}  // namespace
}  // namespace mezzo
