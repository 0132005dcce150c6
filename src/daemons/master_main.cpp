// mezzo-master: parses Mesos-named flags (command line, then MEZZO_<FLAG>
// and MESOS_<FLAG> environment variables) and runs the master's event loop.
// Every flag and its status is listed in docs/flags.md.
#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include "master/master_daemon.hpp"
#include "mezzo/common/flags.hpp"
#include "mezzo/common/logging.hpp"
#include "mezzo/net/http_server.hpp"
#include "store/registry.hpp"

namespace {

using mezzo::flags::CompatibilityFlag;
using mezzo::flags::FlagSupport;
using mezzo::flags::FlagType;

// Mesos master flags Mezzo accepts without acting on them, or refuses.
std::vector<CompatibilityFlag> masterCompatibilityFlags() {
  const std::string noSecurity = "authentication and authorization are not implemented yet";
  std::vector<CompatibilityFlag> table = mezzo::flags::daemonCompatibilityFlags();
  table.insert(table.end(), {
      {"quorum", FlagSupport::kWarn, FlagType::kValue, {}, "the ZooKeeper registry needs no replicated-log quorum"},
      {"log_auto_initialize", FlagSupport::kWarn, FlagType::kBoolean, {"true"}, "there is no replicated log"},
      {"registry_strict", FlagSupport::kWarn, FlagType::kBoolean, {"false"}, "not implemented"},
      {"registry_store_timeout", FlagSupport::kWarn, FlagType::kValue, {}, "registry writes are not timed out"},
      {"registry_fetch_timeout", FlagSupport::kWarn, FlagType::kValue, {}, "registry reads are not timed out"},
      {"roles", FlagSupport::kWarn, FlagType::kValue, {}, "roles are not restricted to a static list"},
      {"webui_dir", FlagSupport::kWarn, FlagType::kValue, {}, "the web UI is built into Mezzo"},
      {"user_sorter", FlagSupport::kWarn, FlagType::kValue, {"drf"}, "use --role_sorter"},
      {"memory_profiling", FlagSupport::kWarn, FlagType::kBoolean, {"false"}, "not implemented"},
      {"publish_per_framework_metrics", FlagSupport::kWarn, FlagType::kBoolean, {"true"}, "not implemented"},
      {"max_operator_event_stream_subscribers", FlagSupport::kWarn, FlagType::kValue, {}, "not limited"},
      {"fair_sharing_excluded_resource_names", FlagSupport::kWarn, FlagType::kValue, {}, "not implemented"},
      {"root_submissions", FlagSupport::kWarn, FlagType::kBoolean, {"true"}, "not implemented"},
      {"require_agent_domain", FlagSupport::kWarn, FlagType::kBoolean, {"false"}, "fault domains are not implemented"},
      {"authenticators", FlagSupport::kWarn, FlagType::kValue, {"crammd5"}, noSecurity},
      {"authorizers", FlagSupport::kRefuse, FlagType::kValue, {"local"}, noSecurity},
      {"http_framework_authenticators", FlagSupport::kRefuse, FlagType::kValue, {}, noSecurity},
      {"credentials", FlagSupport::kRefuse, FlagType::kValue, {}, noSecurity},
      {"allocator", FlagSupport::kRefuse, FlagType::kValue, {"HierarchicalDRF"},
       "the allocator is hierarchical DRF (see --role_sorter, --framework_sorter); allocator modules are not supported"},
      {"firewall_rules", FlagSupport::kRefuse, FlagType::kValue, {}, "endpoints cannot be disabled"},
      {"ip_discovery_command", FlagSupport::kRefuse, FlagType::kValue, {}, "give --ip"},
  });
  for (const char* name : {"authenticate_frameworks", "authenticate", "authenticate_agents", "authenticate_slaves",
                           "authenticate_http_readonly", "authenticate_http_readwrite",
                           "authenticate_http_frameworks"}) {
    table.push_back({name, FlagSupport::kRefuse, FlagType::kBoolean, {"false"}, noSecurity});
  }
  return table;
}

void addMasterFlags(CLI::App& app, mezzo::master::MasterFlags& flags) {
  using mezzo::flags::addDurationFlag;
  app.add_option("--ip", flags.ip, "IP address to listen on")->capture_default_str();
  app.add_option("--port", flags.port, "Port to listen on")->capture_default_str();
  app.add_option("--hostname", flags.hostname, "Hostname advertised to frameworks and agents (default: --ip)");
  app.add_option("--cluster", flags.cluster, "Human-readable name of the cluster (/state 'cluster')");
  app.add_option("--work_dir", flags.workDir, "Directory for the master's persistent state (the registry)");
  app.add_option("--registry", flags.registry,
                 "Where the registry is kept: sqlite (in --work_dir; the default without --zk), zookeeper (under "
                 "the --zk path, shared by HA masters; the default with --zk), replicated_log (Mesos's name: the "
                 "default for the --zk setting) or in_memory (tests)");
  app.add_option("--zk", flags.zk, "ZooKeeper URL for leader election, zk://host:port[,host:port]/path");
  addDurationFlag(app, "--zk_session_timeout", flags.zkSessionTimeout, "ZooKeeper session timeout");
  addDurationFlag(app, "--allocation_interval", flags.allocationInterval, "Time between full allocation cycles");
  addDurationFlag(app, "--offer_timeout", flags.offerTimeout,
                  "Rescind offers not answered within this time (default: never)");
  addDurationFlag(app, "--heartbeat_interval", flags.heartbeatInterval,
                  "Interval of HEARTBEAT events on scheduler streams");
  addDurationFlag(app, "--agent_ping_timeout,--slave_ping_timeout", flags.agentPingTimeout,
                  "Time an agent has to answer a ping");
  app.add_option("--max_agent_ping_timeouts,--max_slave_ping_timeouts", flags.maxAgentPingTimeouts,
                 "Missed pings in a row after which an agent is marked unreachable")
      ->capture_default_str();
  app.add_option("--agent_removal_rate_limit,--slave_removal_rate_limit", flags.agentRemovalRateLimit,
                 "Most agents marked unreachable per time, e.g. '1/10secs' (default: unlimited)");
  addDurationFlag(app, "--agent_reregister_timeout,--slave_reregister_timeout", flags.agentReregisterTimeout,
                  "Time agents of the registry have to re-register after the master starts or fails over");
  app.add_option("--recovery_agent_removal_limit,--recovery_slave_removal_limit", flags.recoveryAgentRemovalLimit,
                 "After a failover, abort rather than mark unreachable more than this percentage of the agents")
      ->capture_default_str();
  addDurationFlag(app, "--registry_gc_interval", flags.registryGcInterval, "How often old registry entries are removed");
  addDurationFlag(app, "--registry_max_agent_age", flags.registryMaxAgentAge,
                  "Unreachable and gone agents older than this leave the registry");
  app.add_option("--registry_max_agent_count", flags.registryMaxAgentCount,
                 "Most unreachable (and most gone) agents kept in the registry")
      ->capture_default_str();
  app.add_option("--max_unreachable_tasks_per_framework", flags.maxUnreachableTasksPerFramework)->capture_default_str();
  app.add_option("--max_completed_frameworks", flags.maxCompletedFrameworks)->capture_default_str();
  app.add_option("--max_completed_tasks_per_framework", flags.maxCompletedTasksPerFramework)->capture_default_str();
  app.add_option("--max_request_body_bytes", flags.maxBodyBytes, "Largest accepted request body")->capture_default_str();
  app.add_option("--max_connections", flags.maxConnections,
                 "Most HTTP connections open at once; more wait (0: three quarters of the open-file limit)")
      ->capture_default_str();
  app.add_option("--weights", flags.weights, "Role weights, e.g. 'eng=2,ops=1'");
  app.add_option("--min_allocatable_resources", flags.minAllocatableResources, "Smallest offer, e.g. 'cpus:0.01|mem:32'");
  app.add_option("--role_sorter", flags.roleSorter, "Order of roles in allocation: drf or random (weighted)")
      ->check(CLI::IsMember({"drf", "random"}))
      ->capture_default_str();
  app.add_option("--framework_sorter", flags.frameworkSorter, "Order of frameworks within a role: drf or random (weighted)")
      ->check(CLI::IsMember({"drf", "random"}))
      ->capture_default_str();
  app.add_flag("--filter_gpu_resources,!--no-filter_gpu_resources", flags.filterGpuResources,
               "Offer agents with GPUs only to frameworks with the GPU_RESOURCES capability")
      ->capture_default_str();
}

}  // namespace

int main(int argc, char** argv) {
  using namespace mezzo;
  CLI::App app{"mezzo-master: the Mezzo cluster manager's master"};
  master::MasterFlags flags;
  addMasterFlags(app, flags);
  flags::DaemonOptions daemonOptions(app, "mezzo-master", masterCompatibilityFlags());
  flags::addValueSources(app);
  CLI11_PARSE(app, argc, argv);

  Status ready = daemonOptions.start("master");
  net::raiseOpenFileLimit();
  auto registry = store::chooseRegistry(flags.registry, !flags.zk.empty());
  if (ready && !registry) ready = registry.status();
  if (!ready) {
    spdlog::critical("Failed to start: {}", ready.message());
    return 1;
  }
  if (!registry->note.empty()) spdlog::info("{}", registry->note);
  flags.registry = registry->backend;
  flags.rendered = flags::renderFlags(app);
  flags.rendered["registry"] = flags.registry;

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
