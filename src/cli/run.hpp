// `mezzo run`: submit one command task and follow it, like mesos-execute.
// Prints each state transition to stderr, the task's stdout to stdout and its
// stderr to stderr (read from the agent's files API, as the task writes them
// with --follow, else once it ended), tears the framework down and exits with
// the task's exit code. A master that stays away for --reconnect_timeout
// ends it (exit 1), as does a Ctrl-C while the master is away.
//
// Thread-safety: runRun() owns its own io_context on the calling thread.
#pragma once

#include <string>
#include <vector>

#include "mezzo/common/status.hpp"
#include "mezzo/v1/mesos.pb.h"

namespace mezzo::cli {

struct RunOptions {
  std::string master = "127.0.0.1:5050";
  double cpus = 0.1;
  double mem = 32;
  std::string name;  // default: "mezzo-run"
  std::string role = "*";
  double timeoutSeconds = 0;  // 0: no limit
  bool follow = true;         // stream the output while the task runs
  // How long a lost master is waited for before giving up.
  double reconnectTimeoutSeconds = 30;
  std::vector<std::string> command;
};

// Refuses negative, infinite and NaN amounts and durations, and a task that
// asks for no cpus and no mem (kInvalidArgument, naming the flag).
Status validateRunOptions(const RunOptions& options);

// Exit code of `mezzo run` when the task timed out and was killed.
inline constexpr int kTimeoutExitCode = 124;

int runRun(const RunOptions& options);

// The shell command for `mezzo run -- ARGS`: one argument is taken as a shell
// command as is ("echo a; echo b"); several are quoted where needed and joined,
// so `-- sh -c 'echo hi; exit 3'` runs exactly that argv.
std::string shellCommand(const std::vector<std::string>& args);

// TASK_FINISHED -> 0; TASK_FAILED -> N from "exited with status N" or
// 128+S from "terminated with signal S" in the message (else 1);
// TASK_KILLED -> 137; any other state -> 1.
int exitCodeFor(const v1::TaskStatus& status);

// "Received status update TASK_RUNNING for task 'x'" plus message, source
// and reason lines, as mesos-execute prints them.
std::string describeUpdate(const v1::TaskStatus& status);

}  // namespace mezzo::cli
