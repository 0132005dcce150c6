// mezzo: the command-line tool. `local` (a cluster on this machine), `run`
// (submit a command and follow it), `task|agent|framework list`.
#include <CLI/CLI.hpp>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string_view>

#include "cli/list.hpp"
#include "cli/local.hpp"
#include "cli/run.hpp"
#include "mezzo/common/logging.hpp"
#include "mezzo/version.hpp"

namespace {

std::string defaultMaster() {
  const char* env = std::getenv("MEZZO_MASTER");
  return env != nullptr && *env != '\0' ? env : "127.0.0.1:5050";
}

void addListCommand(CLI::App& app, const char* noun, const char* what, mezzo::cli::ListKind kind, std::string& master,
                    bool& json) {
  CLI::App* group = app.add_subcommand(noun, std::string("Inspect ") + what);
  group->require_subcommand(1);
  CLI::App* list = group->add_subcommand("list", std::string("List ") + what);
  list->add_option("--master", master, "Master host:port (env MEZZO_MASTER)")->capture_default_str();
  list->add_flag("--json", json, "Print the master's JSON as is");
  list->callback([kind, &master, &json] { throw CLI::RuntimeError(mezzo::cli::runList(kind, master, json)); });
}

// An option of `mezzo run` (before its `--`) that it does not know. CLI11
// reports such an option by what follows it (`--cpu 1 -- true`: "true").
std::optional<std::string> unknownRunOption(const CLI::App& run, int argc, char** argv) {
  int i = 1;
  while (i < argc && std::string_view(argv[i]) != "run") ++i;
  for (++i; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--") break;
    if (arg.size() < 2 || arg[0] != '-') continue;
    const CLI::Option* option = run.get_option_no_throw(arg.substr(0, arg.find('=')));
    if (option == nullptr) return arg;
    if (arg.find('=') == std::string::npos && option->get_items_expected_max() > 0) ++i;  // skip its value
  }
  return std::nullopt;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace mezzo::cli;
  CLI::App app{"mezzo: command-line tool of the Mezzo cluster manager"};
  app.set_version_flag("--version", std::string("mezzo ") + mezzo::kMezzoVersion);
  app.require_subcommand(1);
  std::string logLevel = "warn";
  app.add_option("--log_level", logLevel, "Log level of the CLI itself")->capture_default_str();
  app.parse_complete_callback([&] { mezzo::initLogging("mezzo", logLevel); });

  LocalOptions local;
  CLI::App* localCommand = app.add_subcommand("local", "Run a master and agents on this machine");
  localCommand->add_option("--agents", local.agents, "Number of agents")->capture_default_str();
  localCommand->add_option("--port", local.port, "Master port (0: any free port)")->capture_default_str();
  localCommand->add_option("--work_dir", local.workDir, "Work directory (default: a fresh temporary directory)");
  localCommand->add_option(
      "--agent_resources", local.agentResources,
      std::string("Resources of each agent (default: ") + kDefaultAgentResources + " plus a port range per agent)");
  localCommand->add_flag("--ha", local.ha,
                         "High availability: a local ZooKeeper (Debian package) and three masters; kill the leader "
                         "to watch a failover");
  localCommand->add_flag("--run-sample,--run_sample", local.runSample,
                         "Run the sample workload, then stop the cluster; exit 0 if it all finished");
  localCommand->add_option("--daemon_log_level", local.logLevel, "Log level of the daemons (logs go to files)")
      ->capture_default_str();
  localCommand->callback([&] { throw CLI::RuntimeError(runLocal(local)); });

  RunOptions run;
  run.master = defaultMaster();
  CLI::App* runCommand = app.add_subcommand("run", "Run a command as a task and follow it");
  runCommand->add_option("--master", run.master, "Master host:port (env MEZZO_MASTER)")->capture_default_str();
  runCommand->add_option("--cpus", run.cpus, "CPUs for the task")->capture_default_str();
  runCommand->add_option("--mem", run.mem, "Memory for the task (MB)")->capture_default_str();
  runCommand->add_option("--name", run.name, "Task name (default: mezzo-run)");
  runCommand->add_option("--role", run.role, "Role to take resources from")->capture_default_str();
  runCommand->add_option("--timeout", run.timeoutSeconds, "Kill the task after this many seconds (exit 124)");
  runCommand->add_flag("--follow,!--no-follow", run.follow,
                       "Stream the task's stdout and stderr while it runs (default; else print them at the end)");
  runCommand->add_option("--reconnect_timeout", run.reconnectTimeoutSeconds,
                         "Give up (exit 1) when a lost master is not back within this many seconds")
      ->capture_default_str();
  runCommand->add_option("command", run.command, "The command (after --)")->required();
  runCommand->callback([&] { throw CLI::RuntimeError(runRun(run)); });

  std::string master = defaultMaster();
  bool json = false;
  addListCommand(app, "task", "tasks", ListKind::kTasks, master, json);
  addListCommand(app, "agent", "agents", ListKind::kAgents, master, json);
  addListCommand(app, "framework", "frameworks", ListKind::kFrameworks, master, json);

  try {
    app.parse(argc, argv);
  } catch (const CLI::RuntimeError& result) {
    return result.get_exit_code();
  } catch (const CLI::ParseError& error) {
    if (auto unknown = unknownRunOption(*runCommand, argc, argv)) {
      std::cerr << "mezzo run: unknown option " << *unknown << " (see mezzo run --help)" << std::endl;
      return error.get_exit_code();
    }
    return app.exit(error);
  }
  return 0;
}
