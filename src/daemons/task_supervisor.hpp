// The agent's task supervisor (`mezzo-launch --supervisor=<socket>`): one
// small static process per agent that starts the command tasks the agent
// runs without an executor (agent/supervised_tasks.cpp) and stays their
// parent, so that a task's end is known even while the agent is down.
//
// It speaks agent/supervisor_protocol.hpp with one agent at a time on the
// listening socket it inherits as descriptor 3 (a new connection replaces
// the old one and first receives the live tasks). For each `launch` it
// forks (clones, for a new pid namespace) a child that starts its own
// session, redirects stdout/stderr to the sandbox, enters the working
// directory, joins the container's cgroups, sets rlimits, enters the
// namespaces and execs the task; a child that cannot set up reports its
// container id on a pipe and exits 125. It is a child subreaper: when a
// task ends it kills the rest of the task's process group and the
// processes of the task's session that were re-parented to it, writes the
// status file, then sends `exited`. `signal` goes to the task's process
// group while the task lives.
//
// It exits once an agent has been connected, none is, and no task is left;
// it removes its socket path then (unless another supervisor owns it now).
//
// Thread-safety: a single-threaded process.
#pragma once

#include <string>

namespace mezzo::task_supervisor {

// Runs the supervisor; returns the process's exit code.
int run(const std::string& socketPath);

}  // namespace mezzo::task_supervisor
