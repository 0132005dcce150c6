// mezzo-agent: parses Mesos-named flags (command line, then MEZZO_<FLAG>
// and MESOS_<FLAG> environment variables) and runs the agent's event loop.
// Every flag and its status is listed in docs/flags.md.
#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include "agent/agent_daemon.hpp"
#include "agent/fetcher_uri.hpp"
#include "mezzo/common/flags.hpp"
#include "mezzo/common/logging.hpp"
#include "mezzo/net/http_server.hpp"

namespace {

using mezzo::flags::CompatibilityFlag;
using mezzo::flags::FlagSupport;
using mezzo::flags::FlagType;

// Mesos agent flags Mezzo accepts without acting on them, or refuses.
// Flags given as text and turned into AgentFlags values after parsing (so
// that /flags shows the text).
struct TextChoices {
  std::string recover = "reconnect";
  std::string commandTasks = "supervised";
  std::string reconfigurationPolicy = "equal";
  std::string fetcherCacheSize = "2GB";
};

std::vector<CompatibilityFlag> agentCompatibilityFlags() {
  const std::string noSecurity = "authentication and authorization are not implemented yet";
  const std::string noModules = "modules are not supported";
  const std::string noDocker = "the Docker containerizer is not supported (Mezzo runs --containerizers=mesos)";
  std::vector<CompatibilityFlag> table = mezzo::flags::daemonCompatibilityFlags();
  table.insert(table.end(), {
      {"containerizers", FlagSupport::kRefuse, FlagType::kValue, {"mesos"}, noDocker},
      {"image_providers", FlagSupport::kRefuse, FlagType::kValue, {}, "container images are not supported yet"},
      {"image_provisioner_backend", FlagSupport::kWarn, FlagType::kValue, {}, "container images are not supported yet"},
      {"network_cni_config_dir", FlagSupport::kRefuse, FlagType::kValue, {}, "CNI networks are not supported"},
      {"network_cni_plugins_dir", FlagSupport::kRefuse, FlagType::kValue, {}, "CNI networks are not supported"},
      {"launcher_dir", FlagSupport::kWarn, FlagType::kValue, {},
       "Mezzo's helpers are found beside mezzo-agent (see --executor_path, --launcher_helper)"},
      {"systemd_enable_support", FlagSupport::kWarn, FlagType::kBoolean, {"false"},
       "executors are not moved to a systemd slice; run the agent with KillMode=process (docs/agent.md)"},
      {"systemd_runtime_directory", FlagSupport::kWarn, FlagType::kValue, {}, "no systemd integration"},
      {"http_command_executor", FlagSupport::kWarn, FlagType::kBoolean, {"true"},
       "the command executor always uses the v1 HTTP executor API"},
      {"cgroups_hierarchy", FlagSupport::kWarn, FlagType::kValue, {"/sys/fs/cgroup"},
       "cgroup hierarchies are found in /proc/self/mountinfo"},
      {"cgroups_limit_swap", FlagSupport::kWarn, FlagType::kBoolean, {"false"}, "not implemented"},
      {"cgroups_cpu_enable_pids_and_tids_count", FlagSupport::kWarn, FlagType::kBoolean, {"false"}, "not implemented"},
      {"strict", FlagSupport::kWarn, FlagType::kBoolean, {"true"}, "recovery errors always stop the agent"},
      {"recovery_timeout", FlagSupport::kWarn, FlagType::kValue, {}, "not implemented"},
      {"frameworks_home", FlagSupport::kWarn, FlagType::kValue, {}, "not implemented"},
      {"hadoop_home", FlagSupport::kWarn, FlagType::kValue, {}, "the fetcher does not run hadoop"},
      {"sandbox_directory", FlagSupport::kWarn, FlagType::kValue, {"/mnt/mesos/sandbox"},
       "there are no container images to map the sandbox into"},
      {"executor_reregistration_retry_interval", FlagSupport::kWarn, FlagType::kValue, {}, "not implemented"},
      {"max_completed_executors_per_framework", FlagSupport::kWarn, FlagType::kValue, {}, "not implemented"},
      {"oversubscribed_resources_interval", FlagSupport::kWarn, FlagType::kValue, {}, "no oversubscription"},
      {"qos_correction_interval_min", FlagSupport::kWarn, FlagType::kValue, {}, "no oversubscription"},
      {"revocable_cpu_low_priority", FlagSupport::kWarn, FlagType::kBoolean, {}, "no oversubscription"},
      {"enforce_container_disk_quota", FlagSupport::kWarn, FlagType::kBoolean, {"false"}, "not implemented"},
      {"container_disk_watch_interval", FlagSupport::kWarn, FlagType::kValue, {}, "not implemented"},
      {"perf_events", FlagSupport::kWarn, FlagType::kValue, {}, "not implemented"},
      {"perf_interval", FlagSupport::kWarn, FlagType::kValue, {}, "not implemented"},
      {"perf_duration", FlagSupport::kWarn, FlagType::kValue, {}, "not implemented"},
      {"default_role", FlagSupport::kRefuse, FlagType::kValue, {"*"},
       "reserve in --resources instead, e.g. 'cpus(role):4'"},
      {"executor_environment_variables", FlagSupport::kRefuse, FlagType::kValue, {}, "not implemented yet"},
      {"authenticatee", FlagSupport::kWarn, FlagType::kValue, {"crammd5"}, noSecurity},
      {"credential", FlagSupport::kRefuse, FlagType::kValue, {}, noSecurity},
      {"http_credentials", FlagSupport::kRefuse, FlagType::kValue, {}, noSecurity},
      {"resource_estimator", FlagSupport::kRefuse, FlagType::kValue, {}, noModules},
      {"qos_controller", FlagSupport::kRefuse, FlagType::kValue, {}, noModules},
      {"container_logger", FlagSupport::kRefuse, FlagType::kValue, {}, noModules},
  });
  for (const char* name : {"authenticate_http_readonly", "authenticate_http_readwrite",
                           "authenticate_http_executors"}) {
    table.push_back({name, FlagSupport::kRefuse, FlagType::kBoolean, {"false"}, noSecurity});
  }
  for (const char* name : {"docker", "docker_config", "docker_registry", "docker_store_dir", "docker_socket",
                           "docker_remove_delay", "docker_stop_timeout", "docker_mesos_image",
                           "docker_volume_checkpoint_dir"}) {
    table.push_back({name, FlagSupport::kRefuse, FlagType::kValue, {}, noDocker});
  }
  for (const char* name : {"docker_kill_orphans", "docker_ignore_runtime"}) {
    table.push_back({name, FlagSupport::kRefuse, FlagType::kBoolean, {}, noDocker});
  }
  return table;
}

void addExecutorFlags(CLI::App& app, mezzo::agent::AgentFlags& flags, TextChoices& choices) {
  using mezzo::flags::addDurationFlag;
  app.add_option("--executor_path", flags.executorPath, "The command executor binary (default: beside the agent)");
  app.add_option("--default_executor_path", flags.defaultExecutorPath,
                 "The default executor binary, for task groups (default: beside the agent)");
  addDurationFlag(app, "--status_update_retry_interval", flags.statusUpdateRetryInterval,
                  "First retry interval of unacknowledged status updates (doubles up to 10mins)");
  addDurationFlag(app, "--executor_registration_timeout", flags.executorRegistrationTimeout,
                  "Time an executor has to subscribe before it is destroyed");
  addDurationFlag(app, "--executor_shutdown_grace_period", flags.executorShutdownGracePeriod,
                  "Time an executor has to exit after SHUTDOWN before it is killed");
  addDurationFlag(app, "--executor_reregistration_timeout", flags.executorReregistrationTimeout,
                  "After a restart, time recovered executors have to re-subscribe before they are destroyed");
  app.add_option("--recover", choices.recover,
                 "After a restart: 'reconnect' to running executors of checkpointing frameworks, or 'cleanup' "
                 "(kill them)")
      ->check(CLI::IsMember({"reconnect", "cleanup"}))
      ->capture_default_str();
  app.add_option("--command_tasks", choices.commandTasks,
                 "Who runs command tasks without checks: 'supervised' (the agent, through one small mezzo-launch "
                 "supervisor per task) or 'executor' (a mezzo-executor process per task, as in Mesos)")
      ->check(CLI::IsMember({"supervised", "executor"}))
      ->capture_default_str();
}

void addIsolationFlags(CLI::App& app, mezzo::agent::AgentFlags& flags) {
  app.add_option("--isolation", flags.isolation,
                 "Comma list of isolators: cgroups/cpu, cgroups/mem, cgroups/pids (or cgroups/all), posix/rlimits, "
                 "posix/cpu, posix/mem")
      ->capture_default_str();
  app.add_option("--launcher", flags.launcher,
                 "'linux' (containers tracked by cgroups) or 'posix' (by sessions); default linux with cgroups "
                 "isolators");
  app.add_option("--cgroups_root", flags.cgroupsRoot, "Our subtree in every cgroup hierarchy")->capture_default_str();
  app.add_flag("--cgroups_enable_cfs,!--no-cgroups_enable_cfs", flags.cgroupsEnableCfs,
               "Cap cpu with a CFS quota (cpus x period) besides cpu.shares")
      ->capture_default_str();
  app.add_option("--cgroups_pids_max", flags.cgroupsPidsMax, "pids.max of each container (cgroups/pids)")
      ->capture_default_str();
  app.add_option("--switch_user", flags.switchUser,
                 "Run tasks and executors as their user (CommandInfo.user, else FrameworkInfo.user)")
      ->capture_default_str();
  app.add_option("--launcher_helper", flags.launchHelperPath, "The mezzo-launch helper (default: beside the agent)");
}

void addStorageFlags(CLI::App& app, mezzo::agent::AgentFlags& flags, TextChoices& choices) {
  using mezzo::flags::addDurationFlag;
  addDurationFlag(app, "--gc_delay", flags.gcDelay, "Sandboxes of ended executors are removed this long after (at most)");
  app.add_option("--gc_disk_headroom", flags.gcDiskHeadroom,
                 "Free disk fraction to keep: sandboxes older than gc_delay x (1 - headroom - usage) are removed")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  addDurationFlag(app, "--disk_watch_interval", flags.diskWatchInterval, "How often disk usage is checked for sandbox GC");
  app.add_option("--fetcher_cache_dir", flags.fetcherCacheDir,
                 "Directory of the fetcher cache, emptied at start-up (default: <work_dir>/fetch)");
  app.add_option("--fetcher_cache_size", choices.fetcherCacheSize, "Size bound of the fetcher cache (B, KB, MB, GB, TB)")
      ->capture_default_str();
  addDurationFlag(app, "--fetcher_stall_timeout", flags.fetcherStallTimeout,
                  "A download making no progress for this long fails (whole seconds)");
}

void addAgentFlags(CLI::App& app, mezzo::agent::AgentFlags& flags, TextChoices& choices) {
  app.add_option("--master", flags.master, "Master to register with, host:port or zk://host:port/path")->required();
  app.add_option("--ip", flags.ip, "IP address to listen on")->capture_default_str();
  app.add_option("--port", flags.port, "Port to listen on (0 picks a free one)")->capture_default_str();
  app.add_option("--hostname", flags.hostname, "Hostname advertised to the master (default: --ip)");
  app.add_option("--work_dir", flags.workDir, "Directory for sandboxes and agent state")->capture_default_str();
  app.add_option("--resources", flags.resources,
                 "Resources to advertise ('cpus:4;mem:8192;ports:[31000-32000]' or JSON); missing ones are detected");
  app.add_option("--attributes", flags.attributes, "Attributes, e.g. 'rack:r1;zone:z1'");
  app.add_option("--reconfiguration_policy", choices.reconfigurationPolicy,
                 "Changes of --resources and --attributes allowed across a restart that keeps the agent's id: "
                 "'equal' (none) or 'additive' (only additions)")
      ->check(CLI::IsMember({"equal", "additive"}))
      ->capture_default_str();
  app.add_option("--max_connections", flags.maxConnections,
                 "Most HTTP connections open at once; more wait (0: three quarters of the open-file limit)")
      ->capture_default_str();
  mezzo::flags::addDurationFlag(app, "--registration_backoff_factor", flags.registrationBackoffMin,
                                "First delay before retrying registration (doubles up to 30secs)");
}

}  // namespace

int main(int argc, char** argv) {
  using namespace mezzo;
  CLI::App app{"mezzo-agent: the Mezzo cluster manager's agent"};
  agent::AgentFlags flags;
  TextChoices choices;
  addAgentFlags(app, flags, choices);
  addExecutorFlags(app, flags, choices);
  addIsolationFlags(app, flags);
  addStorageFlags(app, flags, choices);
  flags::DaemonOptions daemonOptions(app, "mezzo-agent", agentCompatibilityFlags());
  flags::addValueSources(app);
  CLI11_PARSE(app, argc, argv);

  Status ready = daemonOptions.start("agent");
  net::raiseOpenFileLimit();
  auto cacheSize = agent::parseByteSize(choices.fetcherCacheSize);
  if (ready && !cacheSize) ready = Status::invalidArgument("Invalid --fetcher_cache_size: " + cacheSize.error());
  if (!ready) {
    spdlog::critical("Failed to start: {}", ready.message());
    return 1;
  }
  flags.fetcherCacheSize = *cacheSize;
  flags.recover = choices.recover == "cleanup" ? agent::RecoverMode::kCleanup : agent::RecoverMode::kReconnect;
  flags.commandTasks =
      choices.commandTasks == "executor" ? agent::CommandTasks::kExecutor : agent::CommandTasks::kSupervised;
  flags.reconfigurationPolicy = choices.reconfigurationPolicy == "additive" ? agent::ReconfigurationPolicy::kAdditive
                                                                            : agent::ReconfigurationPolicy::kEqual;
  flags.registrationBackoffMax = std::max(flags.registrationBackoffMax, flags.registrationBackoffMin);
  flags.statusUpdateRetryMax = std::max(flags.statusUpdateRetryMax, flags.statusUpdateRetryInterval);
  flags.rendered = flags::renderFlags(app);

  boost::asio::io_context io(1);
  agent::AgentDaemon daemon(io, flags);
  Status started = daemon.start();
  if (!started) {
    spdlog::critical("Failed to start: {}", started.message());
    return 1;
  }
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&daemon](boost::system::error_code, int signal) {
    spdlog::info("Received signal {}; shutting down", signal);
    daemon.stop();
  });
  io.run();
  return 0;
}
