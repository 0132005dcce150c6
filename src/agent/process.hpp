// Process launching and signalling for the agent's launcher and the command
// executor. Processes are started with posix_spawn (never fork(): the agent's
// heap may be large, see platform-notes.md), with every inherited descriptor
// above stderr closed, default signal dispositions, an empty signal mask, an
// optional working directory and stdout/stderr redirection, and either a new
// session (executors: they outlive an agent restart, and the session id
// names the whole container) or a new process group (tasks).
//
// Thread-safety: stateless functions.
#pragma once

#include <sys/types.h>

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "agent/launch_helper.hpp"
#include "mezzo/common/status.hpp"
#include "mezzo/v1/mesos.pb.h"

namespace mezzo::agent {

struct SpawnOptions {
  enum class Grouping { kNewSession, kNewProcessGroup };

  std::string path;               // executable; searched in PATH when it has no '/'
  std::vector<std::string> argv;  // argv[0] included
  std::vector<std::string> environment;  // "NAME=value"
  std::string workingDirectory;          // empty = inherit
  std::string stdoutPath;                // empty = inherit
  std::string stderrPath;                // empty = inherit
  Grouping grouping = Grouping::kNewProcessGroup;
  // >= 0: passed to the child as descriptor kInheritedFdNumber (every other
  // descriptor above stderr is closed). Must not be that number already.
  int inheritedFd = -1;
  static constexpr int kInheritedFdNumber = 3;
};

Result<pid_t> spawnProcess(const SpawnOptions& options);

// argv for a CommandInfo: shell -> {"/bin/sh", "-c", value}; otherwise the
// arguments (argv[0] included, as in Mesos) or {value} when there are none.
// The first element of the returned pair is the executable.
Result<std::pair<std::string, std::vector<std::string>>> commandLine(const v1::CommandInfo& command);

// This process's environment with `overrides` replacing or adding variables.
std::vector<std::string> mergedEnvironment(const std::map<std::string, std::string>& overrides);

// Sends `signal` to every process of session `sid` (found through /proc;
// this reaches process groups the session leader created) and to the
// process group `sid`. Returns how many processes were signalled.
int signalSession(pid_t sid, int signal);

// signalSession for several sessions with one pass over /proc (the agent
// reaps executors in bursts; a pass per executor would be quadratic).
int signalSessions(const std::set<pid_t>& sids, int signal);

// Processes of session `sid` (zombies excluded).
std::vector<pid_t> sessionProcesses(pid_t sid);

// True if any process still belongs to session `sid` (zombies excluded).
bool sessionAlive(pid_t sid);

// True if `sid` is alive (not a zombie) and still leads session `sid`: the
// check a restarted agent makes before trusting a checkpointed pid.
bool sessionLeaderAlive(pid_t sid);

// "exited with status 3", "terminated with signal SIGKILL".
std::string describeWaitStatus(int status);

// The ids of the user `name`: uid, primary gid and every group it belongs
// to (NSS lookups: may block briefly). kNotFound "No such user 'x'" when the
// user does not exist here.
Result<launch::UserIds> lookUpUser(const std::string& name);

// The user a container of `framework` runs as with --switch_user (Mesos's
// rule): `command.user` when set, else the framework's user; nullopt when
// that is empty or is this process's own user (nothing to switch).
Result<std::optional<launch::UserIds>> containerUser(const v1::CommandInfo& command, const std::string& frameworkUser);

// Gives `path` and everything below it (symbolic links themselves, not
// their targets) to `user`.
Status chownTree(const std::string& path, const launch::UserIds& user);

}  // namespace mezzo::agent
