// mezzo-agent: parses Mesos-named flags and runs the agent's event loop.
#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include "agent/agent_daemon.hpp"
#include "agent/fetcher_uri.hpp"
#include "mezzo/common/durations.hpp"
#include "mezzo/common/logging.hpp"

int main(int argc, char** argv) {
  using namespace mezzo;
  CLI::App app{"mezzo-agent: the Mezzo cluster manager's agent"};
  agent::AgentFlags flags;
  std::string statusUpdateRetryInterval = "10secs";
  std::string registrationTimeout = "1mins";
  std::string shutdownGracePeriod = "5secs";
  std::string registrationBackoff = "1secs";
  std::string reregistrationTimeout = "2secs";
  std::string recover = "reconnect";
  std::string commandTasks = "supervised";
  std::string logLevel = "info";
  app.add_option("--master", flags.master, "Master to register with, host:port")->required();
  app.add_option("--ip", flags.ip, "IP address to listen on")->capture_default_str();
  app.add_option("--port", flags.port, "Port to listen on (0 picks a free one)")->capture_default_str();
  app.add_option("--hostname", flags.hostname, "Hostname advertised to the master (default: --ip)");
  app.add_option("--work_dir", flags.workDir, "Directory for sandboxes and agent state")->capture_default_str();
  app.add_option("--resources", flags.resources,
                 "Resources to advertise ('cpus:4;mem:8192;ports:[31000-32000]' or JSON); missing ones are detected");
  app.add_option("--attributes", flags.attributes, "Attributes, e.g. 'rack:r1;zone:z1'");
  app.add_option("--executor_path", flags.executorPath, "The command executor binary (default: beside the agent)");
  app.add_option("--default_executor_path", flags.defaultExecutorPath,
                 "The default executor binary, for task groups (default: beside the agent)");
  app.add_option("--status_update_retry_interval", statusUpdateRetryInterval,
                 "First retry interval of unacknowledged status updates (doubles up to 10mins)")
      ->capture_default_str();
  app.add_option("--executor_registration_timeout", registrationTimeout,
                 "Time an executor has to subscribe before it is destroyed")
      ->capture_default_str();
  app.add_option("--executor_shutdown_grace_period", shutdownGracePeriod,
                 "Time an executor has to exit after SHUTDOWN before it is killed")
      ->capture_default_str();
  app.add_option("--executor_reregistration_timeout", reregistrationTimeout,
                 "After a restart, time recovered executors have to re-subscribe before they are destroyed")
      ->capture_default_str();
  app.add_option("--recover", recover,
                 "After a restart: 'reconnect' to running executors of checkpointing frameworks, or 'cleanup' "
                 "(kill them)")
      ->check(CLI::IsMember({"reconnect", "cleanup"}))
      ->capture_default_str();
  app.add_option("--command_tasks", commandTasks,
                 "Who runs command tasks without checks: 'supervised' (the agent, through one small mezzo-launch "
                 "supervisor per task) or 'executor' (a mezzo-executor process per task, as in Mesos)")
      ->check(CLI::IsMember({"supervised", "executor"}))
      ->capture_default_str();
  app.add_option("--registration_backoff_factor", registrationBackoff,
                 "First delay before retrying registration (doubles up to 30secs)")
      ->capture_default_str();
  app.add_option("--isolation", flags.isolation,
                 "Comma list of isolators: cgroups/cpu, cgroups/mem, cgroups/pids (or cgroups/all), posix/rlimits, "
                 "posix/cpu, posix/mem")
      ->capture_default_str();
  app.add_option("--launcher", flags.launcher,
                 "'linux' (containers tracked by cgroups) or 'posix' (by sessions); default linux with cgroups "
                 "isolators");
  app.add_option("--cgroups_root", flags.cgroupsRoot, "Our subtree in every cgroup hierarchy")->capture_default_str();
  app.add_option("--cgroups_enable_cfs", flags.cgroupsEnableCfs,
                 "Cap cpu with a CFS quota (cpus x period) besides cpu.shares")
      ->capture_default_str();
  app.add_option("--cgroups_pids_max", flags.cgroupsPidsMax, "pids.max of each container (cgroups/pids)")
      ->capture_default_str();
  app.add_option("--switch_user", flags.switchUser,
                 "Run tasks and executors as their user (CommandInfo.user, else FrameworkInfo.user)")
      ->capture_default_str();
  app.add_option("--launcher_helper", flags.launchHelperPath,
                 "The mezzo-launch helper (default: beside the agent)");
  std::string gcDelay = "1weeks";
  std::string diskWatchInterval = "1mins";
  app.add_option("--gc_delay", gcDelay, "Sandboxes of ended executors are removed this long after (at most)")
      ->capture_default_str();
  app.add_option("--gc_disk_headroom", flags.gcDiskHeadroom,
                 "Free disk fraction to keep: sandboxes older than gc_delay x (1 - headroom - usage) are removed")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  app.add_option("--disk_watch_interval", diskWatchInterval, "How often disk usage is checked for sandbox GC")
      ->capture_default_str();
  std::string fetcherCacheSize = "2GB";
  std::string fetcherStallTimeout = "1mins";
  app.add_option("--fetcher_cache_dir", flags.fetcherCacheDir,
                 "Directory of the fetcher cache, emptied at start-up (default: <work_dir>/fetch)");
  app.add_option("--fetcher_cache_size", fetcherCacheSize, "Size bound of the fetcher cache (B, KB, MB, GB, TB)")
      ->capture_default_str();
  app.add_option("--fetcher_stall_timeout", fetcherStallTimeout,
                 "A download making no progress for this long fails (whole seconds)")
      ->capture_default_str();
  app.add_option("--log_level", logLevel, "trace, debug, info, warn, error")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  initLogging("agent", logLevel);
  auto parse = [](const std::string& text, const char* flag) -> Duration {
    auto duration = parseDuration(text);
    if (!duration) {
      spdlog::critical("Invalid --{}: {}", flag, duration.error());
      std::exit(1);
    }
    return *duration;
  };
  flags.statusUpdateRetryInterval = parse(statusUpdateRetryInterval, "status_update_retry_interval");
  flags.executorRegistrationTimeout = parse(registrationTimeout, "executor_registration_timeout");
  flags.executorShutdownGracePeriod = parse(shutdownGracePeriod, "executor_shutdown_grace_period");
  flags.executorReregistrationTimeout = parse(reregistrationTimeout, "executor_reregistration_timeout");
  flags.gcDelay = parse(gcDelay, "gc_delay");
  flags.diskWatchInterval = parse(diskWatchInterval, "disk_watch_interval");
  flags.fetcherStallTimeout = parse(fetcherStallTimeout, "fetcher_stall_timeout");
  if (auto size = agent::parseByteSize(fetcherCacheSize)) {
    flags.fetcherCacheSize = *size;
  } else {
    spdlog::critical("Invalid --fetcher_cache_size: {}", size.error());
    return 1;
  }
  flags.recover = recover == "cleanup" ? agent::RecoverMode::kCleanup : agent::RecoverMode::kReconnect;
  flags.commandTasks = commandTasks == "executor" ? agent::CommandTasks::kExecutor : agent::CommandTasks::kSupervised;
  flags.registrationBackoffMin = parse(registrationBackoff, "registration_backoff_factor");
  flags.registrationBackoffMax = std::max(flags.registrationBackoffMax, flags.registrationBackoffMin);
  flags.statusUpdateRetryMax = std::max(flags.statusUpdateRetryMax, flags.statusUpdateRetryInterval);
  for (const CLI::Option* option : app.get_options()) {
    if (option->get_name() == "--help") continue;
    std::string name = option->get_name().substr(2);
    std::string value = option->as<std::string>();
    if (value.empty() && !option->get_default_str().empty()) value = option->get_default_str();
    flags.rendered[name] = value;
  }

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
