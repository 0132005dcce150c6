// Shared task-process helpers of Mezzo's executors.
#include "executor/task_process.hpp"

#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "agent/container_config.hpp"
#include "agent/process.hpp"

namespace mezzo::executor {

Duration killGracePeriod(const std::optional<v1::KillPolicy>& policy, const v1::TaskInfo& task,
                         std::optional<Duration> cap) {
  Duration grace = kDefaultKillGracePeriod;
  if (policy && policy->has_grace_period()) {
    grace = Duration(policy->grace_period().nanoseconds());
  } else if (task.has_kill_policy() && task.kill_policy().has_grace_period()) {
    grace = Duration(task.kill_policy().grace_period().nanoseconds());
  }
  if (cap) grace = std::min(grace, *cap);
  return std::max(grace, Duration::zero());
}

namespace {

Result<agent::SpawnOptions> commandSpawn(const v1::CommandInfo& command, const std::string& workingDirectory,
                                         const std::string& stdoutPath, const std::string& stderrPath) {
  auto line = agent::commandLine(command);
  if (!line) return Status::invalidArgument("Invalid command: " + line.error());
  std::map<std::string, std::string> overrides;
  for (const auto& variable : command.environment().variables()) {
    if (variable.type() == v1::Environment::Variable::VALUE) overrides[variable.name()] = variable.value();
  }
  agent::SpawnOptions spawn;
  spawn.path = line->first;
  spawn.argv = line->second;
  spawn.environment = agent::mergedEnvironment(overrides);
  spawn.workingDirectory = workingDirectory;
  spawn.stdoutPath = stdoutPath;
  spawn.stderrPath = stderrPath;
  spawn.grouping = agent::SpawnOptions::Grouping::kNewProcessGroup;
  return spawn;
}

Result<pid_t> spawn(const agent::SpawnOptions& options) {
  auto pid = agent::spawnProcess(options);
  if (!pid) return Status::internal("Failed to launch the command: " + pid.error());
  return *pid;
}

// Creates the task's output files and gives them and their directory to `user`.
Status giveOutputTo(const agent::launch::UserIds& user, const std::string& stdoutPath, const std::string& stderrPath) {
  for (const std::string& path : {stdoutPath, stderrPath}) {
    if (path.empty()) continue;
    std::ofstream(path, std::ios::app).close();
    if (Status status = agent::chownTree(path, user); !status) return status;
  }
  if (stdoutPath.empty()) return Status::ok();
  return agent::chownTree(std::filesystem::path(stdoutPath).parent_path().string(), user);
}

}  // namespace

Result<pid_t> spawnCommand(const v1::CommandInfo& command, const std::string& workingDirectory,
                           const std::string& stdoutPath, const std::string& stderrPath) {
  auto options = commandSpawn(command, workingDirectory, stdoutPath, stderrPath);
  if (!options) return options.status();
  return spawn(*options);
}

Result<pid_t> spawnNestedTask(const v1::TaskInfo& task, const std::string& workingDirectory,
                              const std::string& stdoutPath, const std::string& stderrPath,
                              const NestedTaskLaunch& how) {
  if (!task.has_command()) return Status::invalidArgument("Task has no command");
  auto options = commandSpawn(task.command(), workingDirectory, stdoutPath, stderrPath);
  if (!options) return options.status();
  agent::launch::Request request;
  if (how.switchUser && task.command().has_user()) {
    auto user = agent::containerUser(task.command(), "");
    if (!user) return Status(user.status().code(), "Cannot run the task as its user: " + user.error());
    request.user = *user;
  }
  auto rlimits = agent::rlimitsOf(task.container().rlimit_info());
  if (!rlimits) return rlimits.status();
  request.rlimits = std::move(*rlimits);
  if (!request.user && request.rlimits.empty()) return spawn(*options);
  if (how.launchHelper.empty()) return Status::internal("No launch helper (MEZZO_LAUNCH_HELPER) to set up the task");
  if (request.user) {
    if (Status given = giveOutputTo(*request.user, stdoutPath, stderrPath); !given) return given;
  }
  request.executable = std::move(options->path);
  request.argv = std::move(options->argv);
  options->path = how.launchHelper;
  options->argv = agent::launch::toArguments(request);
  options->argv.insert(options->argv.begin(), "mezzo-launch");
  return spawn(*options);
}

Result<pid_t> spawnTaskCommand(const v1::TaskInfo& task, const std::string& workingDirectory,
                               const std::string& stdoutPath, const std::string& stderrPath) {
  if (!task.has_command()) return Status::invalidArgument("Task has no command");
  return spawnCommand(task.command(), workingDirectory, stdoutPath, stderrPath);
}

v1::TaskState terminalStateOf(int waitStatus, bool killing) {
  if (killing) return v1::TASK_KILLED;
  if (WIFEXITED(waitStatus) && WEXITSTATUS(waitStatus) == 0) return v1::TASK_FINISHED;
  return v1::TASK_FAILED;
}

std::optional<Duration> maxCompletionTime(const v1::TaskInfo& task) {
  if (!task.has_max_completion_time() || task.max_completion_time().nanoseconds() <= 0) return std::nullopt;
  return std::chrono::duration_cast<Duration>(std::chrono::nanoseconds(task.max_completion_time().nanoseconds()));
}

v1::TaskStatus terminalStatus(int waitStatus, const TaskEnding& ending) {
  v1::TaskStatus status;
  status.set_message("Command " + agent::describeWaitStatus(waitStatus));
  if (ending.killedByCompletionTimeout) {
    status.set_state(v1::TASK_FAILED);
    status.set_reason(v1::TaskStatus::REASON_MAX_COMPLETION_TIME_REACHED);
    return status;
  }
  status.set_state(terminalStateOf(waitStatus, ending.killing));
  if (ending.killing && ending.killedByHealthCheck) status.set_healthy(false);
  return status;
}

}  // namespace mezzo::executor
