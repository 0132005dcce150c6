// mezzo-master: parses Mesos-named flags and runs the master's event loop.
#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include "master/master_daemon.hpp"
#include "mezzo/common/durations.hpp"
#include "mezzo/common/logging.hpp"
#include "mezzo/net/http_server.hpp"

int main(int argc, char** argv) {
  using namespace mezzo;
  CLI::App app{"mezzo-master: the Mezzo cluster manager's master"};
  master::MasterFlags flags;
  std::string allocationInterval = "1secs";
  std::string offerTimeout;
  std::string heartbeatInterval = "15secs";
  std::string agentPingTimeout = "15secs";
  std::string agentReregisterTimeout = "10mins";
  std::string logLevel = "info";
  app.add_option("--ip", flags.ip, "IP address to listen on")->capture_default_str();
  app.add_option("--port", flags.port, "Port to listen on")->capture_default_str();
  app.add_option("--hostname", flags.hostname, "Hostname advertised to frameworks and agents (default: --ip)");
  app.add_option("--work_dir", flags.workDir, "Directory for the master's persistent state (the registry)");
  app.add_option("--registry", flags.registry, "Where the registry is kept: sqlite (in --work_dir), zookeeper (under the --zk path, shared by HA masters) or in_memory (tests)")
      ->capture_default_str();
  std::string zkSessionTimeout = "10secs";
  app.add_option("--zk", flags.zk, "ZooKeeper URL for leader election, zk://host:port[,host:port]/path");
  app.add_option("--zk_session_timeout", zkSessionTimeout, "ZooKeeper session timeout")->capture_default_str();
  app.add_option("--allocation_interval", allocationInterval, "Time between full allocation cycles")
      ->capture_default_str();
  app.add_option("--offer_timeout", offerTimeout, "Rescind offers not answered within this time (default: never)");
  app.add_option("--heartbeat_interval", heartbeatInterval, "Interval of HEARTBEAT events on scheduler streams")
      ->capture_default_str();
  app.add_option("--agent_ping_timeout,--slave_ping_timeout", agentPingTimeout, "Time an agent has to answer a ping")
      ->capture_default_str();
  app.add_option("--max_agent_ping_timeouts,--max_slave_ping_timeouts", flags.maxAgentPingTimeouts,
                 "Missed pings in a row after which an agent is marked unreachable")
      ->capture_default_str();
  app.add_option("--agent_removal_rate_limit,--slave_removal_rate_limit", flags.agentRemovalRateLimit,
                 "Most agents marked unreachable per time, e.g. '1/10secs' (default: unlimited)");
  app.add_option("--agent_reregister_timeout,--slave_reregister_timeout", agentReregisterTimeout,
                 "Time agents of the registry have to re-register after the master starts or fails over")
      ->capture_default_str();
  app.add_option("--recovery_agent_removal_limit,--recovery_slave_removal_limit", flags.recoveryAgentRemovalLimit,
                 "After a failover, abort rather than mark unreachable more than this percentage of the agents")
      ->capture_default_str();
  std::string registryGcInterval = "15mins";
  std::string registryMaxAgentAge = "2weeks";
  app.add_option("--registry_gc_interval", registryGcInterval, "How often old registry entries are removed")
      ->capture_default_str();
  app.add_option("--registry_max_agent_age", registryMaxAgentAge,
                 "Unreachable and gone agents older than this leave the registry")
      ->capture_default_str();
  app.add_option("--registry_max_agent_count", flags.registryMaxAgentCount,
                 "Most unreachable (and most gone) agents kept in the registry")
      ->capture_default_str();
  app.add_option("--max_unreachable_tasks_per_framework", flags.maxUnreachableTasksPerFramework)
      ->capture_default_str();
  app.add_option("--max_completed_frameworks", flags.maxCompletedFrameworks)->capture_default_str();
  app.add_option("--max_completed_tasks_per_framework", flags.maxCompletedTasksPerFramework)->capture_default_str();
  app.add_option("--max_request_body_bytes", flags.maxBodyBytes, "Largest accepted request body")
      ->capture_default_str();
  app.add_option("--max_connections", flags.maxConnections,
                 "Most HTTP connections open at once; more wait (0: three quarters of the open-file limit)")
      ->capture_default_str();
  app.add_option("--weights", flags.weights, "Role weights, e.g. 'eng=2,ops=1'");
  app.add_option("--min_allocatable_resources", flags.minAllocatableResources,
                 "Smallest offer, e.g. 'cpus:0.01|mem:32'");
  app.add_option("--role_sorter", flags.roleSorter, "Order of roles in allocation: drf or random (weighted)")
      ->check(CLI::IsMember({"drf", "random"}))
      ->capture_default_str();
  app.add_option("--framework_sorter", flags.frameworkSorter,
                 "Order of frameworks within a role: drf or random (weighted)")
      ->check(CLI::IsMember({"drf", "random"}))
      ->capture_default_str();
  app.add_option("--log_level", logLevel, "trace, debug, info, warn, error")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  initLogging("master", logLevel);
  net::raiseOpenFileLimit();
  auto parse = [](const std::string& text, const char* flag) -> Duration {
    auto duration = parseDuration(text);
    if (!duration) {
      spdlog::critical("Invalid --{}: {}", flag, duration.error());
      std::exit(1);
    }
    return *duration;
  };
  flags.allocationInterval = parse(allocationInterval, "allocation_interval");
  flags.heartbeatInterval = parse(heartbeatInterval, "heartbeat_interval");
  flags.zkSessionTimeout = parse(zkSessionTimeout, "zk_session_timeout");
  flags.agentPingTimeout = parse(agentPingTimeout, "agent_ping_timeout");
  flags.agentReregisterTimeout = parse(agentReregisterTimeout, "agent_reregister_timeout");
  flags.registryGcInterval = parse(registryGcInterval, "registry_gc_interval");
  flags.registryMaxAgentAge = parse(registryMaxAgentAge, "registry_max_agent_age");
  if (!offerTimeout.empty()) flags.offerTimeout = parse(offerTimeout, "offer_timeout");
  for (const CLI::Option* option : app.get_options()) {
    if (option->get_name() == "--help") continue;
    std::string name = option->get_name().substr(2);
    std::string value = option->as<std::string>();
    if (value.empty() && !option->get_default_str().empty()) value = option->get_default_str();
    flags.rendered[name] = value;
  }

  boost::asio::io_context io(1);
  master::MasterDaemon daemon(io, flags);
  Status started = daemon.start();
  if (!started) {
    spdlog::critical("Failed to start: {}", started.message());
    return 1;
  }
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&io](boost::system::error_code, int signal) {
    spdlog::info("Received signal {}; shutting down", signal);
    io.stop();
  });
  io.run();
  return 0;
}
