// Drop-in flags: a master and an agent started with the flags of a Mesos
// unit file (and MESOS_* environment variables, as /etc/default/mesos-*
// files set them) start and honour them; flags Mezzo cannot honour stop the
// daemon with a message naming them; a 0-byte SQLite registry is refused;
// --reconfiguration_policy decides whether a restarted agent may change its
// resources and attributes (docs/flags.md).
#include <gtest/gtest.h>

#include <fstream>

#include "harness/process.hpp"

namespace mezzo::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

class MesosFlagsTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = makeTempDir("mezzo-flags"); }
  void TearDown() override {
    if (!std::getenv("MEZZO_KEEP_TEST_DIRS")) std::filesystem::remove_all(dir_);
  }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  // Starts `binary` expecting it to refuse: it must exit non-zero and log
  // `expected`.
  void expectRefusal(const std::string& binary, std::vector<std::string> args, const std::string& expected,
                     const std::vector<std::string>& environment = {}) {
    const std::string log = path("refused-" + std::to_string(refusals_++) + ".log");
    DaemonProcess daemon(binary, std::move(args), log, environment);
    auto exitCode = daemon.waitForExit(10s);
    ASSERT_TRUE(exitCode.has_value()) << binary << " did not refuse to start: " << daemon.log();
    EXPECT_NE(*exitCode, 0);
    EXPECT_NE(daemon.log().find(expected), std::string::npos) << daemon.log();
  }

  std::filesystem::path dir_;
  int refusals_ = 0;
};

// The address part of an agent's pid, "slave(1)@127.0.0.1:5051".
net::Endpoint agentEndpoint(const json& agent) {
  std::string pid = agent["pid"];
  std::string address = pid.substr(pid.find('@') + 1);
  return {address.substr(0, address.find(':')), static_cast<uint16_t>(std::stoi(address.substr(address.find(':') + 1)))};
}

std::string fileText(const std::string& file) {
  std::ifstream in(file);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST_F(MesosFlagsTest, MasterAndAgentStartWithAMesosUnitFilesFlagsAndEnvironment) {
  const uint16_t masterPort = freePort();
  std::ofstream(path("cluster")) << "prod-east\n";  // Mesos reads file:// values
  DaemonProcess master("mezzo-master",
                       {"--ip=127.0.0.1", "--cluster=file://" + path("cluster"), "--quorum=2", "--log_dir=" + path("log"),
                        "--hostname_lookup=false", "--roles=web,batch", "--allocator=HierarchicalDRF",
                        "--webui_dir=/usr/share/mesos/webui", "--authenticate_agents=false",
                        "--no-authenticate_frameworks", "--agent_removal_rate_limit=1/10secs",
                        "--registry=replicated_log", "--filter_gpu_resources", "--logging_level=INFO"},
                       path("master.log"),
                       {"MESOS_PORT=" + std::to_string(masterPort), "MESOS_WORK_DIR=" + path("master"),
                        "MESOS_CLUSTER=overridden-by-the-command-line", "MESOS_MAX_COMPLETED_FRAMEWORKS=7",
                        "MEZZO_MAX_COMPLETED_FRAMEWORKS=9"});
  const net::Endpoint masterEndpoint{"127.0.0.1", masterPort};
  ASSERT_TRUE(waitUntil([&] { return getJson(masterEndpoint, "/state").is_object(); }, 15s))
      << "the master did not listen on MESOS_PORT " << masterPort << ": " << master.log();
  EXPECT_EQ(getJson(masterEndpoint, "/state")["cluster"], "prod-east");
  EXPECT_EQ(getJson(masterEndpoint, "/state-summary")["cluster"], "prod-east");
  json masterFlags = getJson(masterEndpoint, "/flags")["flags"];
  EXPECT_EQ(masterFlags["port"], std::to_string(masterPort));
  EXPECT_EQ(masterFlags["work_dir"], path("master"));
  EXPECT_EQ(masterFlags["cluster"], "prod-east");
  EXPECT_EQ(masterFlags["quorum"], "2");
  EXPECT_EQ(masterFlags["max_completed_frameworks"], "9") << "MEZZO_<FLAG> wins over MESOS_<FLAG>";
  EXPECT_EQ(masterFlags["registry"], "sqlite");
  EXPECT_TRUE(std::filesystem::exists(path("master") + "/registry.sqlite"));
  EXPECT_NE(master.log().find("Ignoring --quorum=2"), std::string::npos) << master.log();

  const uint16_t agentPort = freePort();
  DaemonProcess agent("mezzo-agent",
                      {"--ip=127.0.0.1", "--work_dir=" + path("agent"), "--containerizers=mesos",
                       "--launcher_dir=/usr/libexec/mesos", "--systemd_enable_support=false",
                       "--http_command_executor=true", "--cgroups_hierarchy=/sys/fs/cgroup",
                       "--log_dir=" + path("log"), "--reconfiguration_policy=additive",
                       "--executor_registration_timeout=2mins", "--executor_shutdown_grace_period=10secs",
                       "--gc_delay=2days", "--no-hostname_lookup", "--strict", "--authenticate_http_readonly=false",
                       "--isolation=posix/cpu,posix/mem", "--registration_backoff_factor=100ms"},
                      path("agent.log"),
                      {"MESOS_MASTER=127.0.0.1:" + std::to_string(masterPort), "MESOS_PORT=" + std::to_string(agentPort),
                       "MESOS_RESOURCES=cpus:3;mem:1024;disk:1024;ports:[31000-31009]",
                       "MESOS_ATTRIBUTES=rack:r7"});
  json agentInfo;
  ASSERT_TRUE(waitUntil(
      [&] {
        auto slaves = getJson(masterEndpoint, "/state")["slaves"];
        if (slaves.size() != 1) return false;
        agentInfo = slaves[0];
        return true;
      },
      20s))
      << agent.log();
  EXPECT_EQ(agentInfo["resources"]["cpus"], 3);
  EXPECT_EQ(agentInfo["attributes"]["rack"], "r7");
  EXPECT_EQ(agentEndpoint(agentInfo).port, agentPort);
  json agentFlags = getJson(agentEndpoint(agentInfo), "/flags")["flags"];
  EXPECT_EQ(agentFlags["containerizers"], "mesos");
  EXPECT_EQ(agentFlags["reconfiguration_policy"], "additive");
  EXPECT_EQ(agentFlags["executor_registration_timeout"], "2mins");
  EXPECT_EQ(agentFlags["gc_delay"], "2days");
  EXPECT_EQ(agentFlags["master"], "127.0.0.1:" + std::to_string(masterPort));

  // Both log into --log_dir, under Mesos-style names.
  EXPECT_NE(fileText(path("log") + "/mezzo-master.INFO").find("listening on"), std::string::npos);
  EXPECT_NE(fileText(path("log") + "/mezzo-agent.INFO").find("Ignoring --launcher_dir=/usr/libexec/mesos"),
            std::string::npos);
}

TEST_F(MesosFlagsTest, FlagsMezzoCannotHonourStopTheDaemonNamingThem) {
  const std::vector<std::string> master = {"--ip=127.0.0.1", "--port=0", "--work_dir=" + path("master")};
  auto with = [](std::vector<std::string> args, const std::string& flag) {
    args.push_back(flag);
    return args;
  };
  expectRefusal("mezzo-master", with(master, "--authenticate_frameworks=true"), "--authenticate_frameworks=true");
  expectRefusal("mezzo-master", with(master, "--modules=/etc/mesos/modules.json"), "--modules=");
  expectRefusal("mezzo-master", with(master, "--allocator=CustomAllocator"), "--allocator=CustomAllocator");
  expectRefusal("mezzo-master", with(master, "--logging_level=CHATTY"), "--logging_level=CHATTY");
  const std::vector<std::string> agent = {"--master=127.0.0.1:1", "--ip=127.0.0.1", "--port=0",
                                          "--work_dir=" + path("agent")};
  expectRefusal("mezzo-agent", with(agent, "--containerizers=docker,mesos"), "--containerizers=docker,mesos");
  expectRefusal("mezzo-agent", with(agent, "--image_providers=docker"), "--image_providers=docker");
  expectRefusal("mezzo-agent", with(agent, "--docker_config=/etc/docker.json"), "--docker_config=");
  expectRefusal("mezzo-agent", agent, "--containerizers=docker", {"MESOS_CONTAINERIZERS=docker"});
}

TEST_F(MesosFlagsTest, EmptyRegistryFileIsRefused) {
  std::filesystem::create_directories(path("master"));
  { std::ofstream truncated(path("master") + "/registry.sqlite"); }
  expectRefusal("mezzo-master", {"--ip=127.0.0.1", "--port=0", "--work_dir=" + path("master")}, "empty (0-byte)");
  EXPECT_EQ(std::filesystem::file_size(path("master") + "/registry.sqlite"), 0u);
}

TEST_F(MesosFlagsTest, ReconfigurationPolicyDecidesWhetherARestartedAgentMayChange) {
  DaemonProcess master("mezzo-master", {"--ip=127.0.0.1", "--port=0", "--work_dir=" + path("master")},
                       path("master.log"));
  const net::Endpoint masterEndpoint{"127.0.0.1", waitForListeningPort(master, 10s)};
  ASSERT_NE(masterEndpoint.port, 0) << master.log();
  auto agentArgs = [&](const std::string& resources, const std::string& policy) {
    return std::vector<std::string>{"--master=" + masterEndpoint.toString(), "--ip=127.0.0.1", "--port=0",
                                    "--work_dir=" + path("agent"), "--resources=" + resources,
                                    "--attributes=rack:r1", "--reconfiguration_policy=" + policy,
                                    "--registration_backoff_factor=100ms"};
  };
  auto registeredAgent = [&](double cpus) {
    json found;
    waitUntil(
        [&] {
          const json state = getJson(masterEndpoint, "/state");
          for (const json& agent : state["slaves"]) {
            if (agent["active"] == true && agent["resources"]["cpus"] == cpus) found = agent;
          }
          return !found.is_null();
        },
        20s);
    return found;
  };
  std::string agentId;
  {
    DaemonProcess agent("mezzo-agent", agentArgs("cpus:2;mem:1024", "equal"), path("agent1.log"));
    json registered = registeredAgent(2);
    ASSERT_FALSE(registered.is_null()) << agent.log();
    agentId = registered["id"];
  }
  expectRefusal("mezzo-agent", agentArgs("cpus:4;mem:1024", "equal"), "Incompatible agent info: resources changed");
  expectRefusal("mezzo-agent", agentArgs("cpus:1;mem:1024", "additive"), "Incompatible agent info");

  DaemonProcess grown("mezzo-agent", agentArgs("cpus:4;mem:1024", "additive"), path("agent2.log"));
  json registered = registeredAgent(4);
  ASSERT_FALSE(registered.is_null()) << grown.log() << master.log();
  EXPECT_EQ(registered["id"], agentId) << "an allowed change keeps the agent's id";
}

}  // namespace
}  // namespace mezzo::testing
