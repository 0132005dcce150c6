// Shared task-process helpers of Mezzo's executors.
#include "executor/task_process.hpp"

#include <sys/wait.h>

#include <map>

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

Result<pid_t> spawnCommand(const v1::CommandInfo& command, const std::string& workingDirectory,
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
  auto pid = agent::spawnProcess(spawn);
  if (!pid) return Status::internal("Failed to launch the command: " + pid.error());
  return *pid;
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
