// What Mezzo's executors share about running a task as a child process:
// spawning its CommandInfo, the kill grace period, the terminal state of an
// ended task, and the timing constants of kill, shutdown and exit.
//
// Thread-safety: free functions without state.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>

#include "mezzo/common/clock.hpp"
#include "mezzo/common/status.hpp"
#include "mezzo/v1/mesos.pb.h"

namespace mezzo::executor {

// Grace period of a kill when neither the KILL nor the task gives one.
inline constexpr auto kDefaultKillGracePeriod = std::chrono::seconds(3);
// How long an executor waits for the acknowledgement of its last terminal update.
inline constexpr auto kTerminalAckWait = std::chrono::seconds(5);
// Part of the shutdown grace period kept for reporting after the kill.
inline constexpr auto kShutdownReserve = std::chrono::seconds(1);

inline std::chrono::milliseconds toMillis(Duration duration) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(duration);
}

// The KILL's policy, else the task's, else the default; at most `cap`.
Duration killGracePeriod(const std::optional<v1::KillPolicy>& policy, const v1::TaskInfo& task,
                         std::optional<Duration> cap);

// Spawns `command` (shell or exec form) in its own process group with the
// executor's environment plus command.environment. Empty paths are inherited.
Result<pid_t> spawnCommand(const v1::CommandInfo& command, const std::string& workingDirectory,
                           const std::string& stdoutPath, const std::string& stderrPath);

// Spawns the task's command in its own process group with the executor's
// environment plus CommandInfo.environment. Empty paths are inherited.
Result<pid_t> spawnTaskCommand(const v1::TaskInfo& task, const std::string& workingDirectory,
                               const std::string& stdoutPath, const std::string& stderrPath);

// A task of a group, as the default executor starts it: as
// spawnTaskCommand(), but through `launchHelper` (mezzo-launch) when the
// task asks for another user (CommandInfo.user, with `switchUser`) or for
// rlimits (ContainerInfo.rlimit_info); its output files and directory are
// then given to that user. Fails with the reason (unknown user, bad rlimit,
// no helper) without starting anything.
struct NestedTaskLaunch {
  std::string launchHelper;
  bool switchUser = true;
};
Result<pid_t> spawnNestedTask(const v1::TaskInfo& task, const std::string& workingDirectory,
                              const std::string& stdoutPath, const std::string& stderrPath,
                              const NestedTaskLaunch& how);

// TASK_KILLED when killed on request, TASK_FINISHED on exit 0, else TASK_FAILED.
v1::TaskState terminalStateOf(int waitStatus, bool killing);

// TaskInfo.max_completion_time when positive: the task is killed at once
// (SIGKILL, no TASK_KILLING) when still running that long after its launch
// and ends TASK_FAILED with REASON_MAX_COMPLETION_TIME_REACHED, as in Mesos.
std::optional<Duration> maxCompletionTime(const v1::TaskInfo& task);

// The terminal update of a task whose process ended with `waitStatus`:
// state per terminalStateOf(), message "Command <how it ended>"; a task
// stopped by its max completion time fails with that reason; one killed
// after failing its health checks says healthy=false (no reason), as Mesos.
struct TaskEnding {
  bool killing = false;
  bool killedByHealthCheck = false;
  bool killedByCompletionTimeout = false;
};
v1::TaskStatus terminalStatus(int waitStatus, const TaskEnding& ending);

}  // namespace mezzo::executor
