// The steps mezzo-launch takes inside a new container before it execs the
// program (agent/launch_helper.hpp): shared by the one-shot helper
// (launch_main.cpp) and the task supervisor's children (task_supervisor.cpp).
// Each step returns an empty string on success, else what failed.
//
// Standard library and libc only (mezzo-launch is a small static binary).
//
// Thread-safety: stateless functions, meant for single-threaded processes.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "agent/launch_helper.hpp"

namespace mezzo::launch_setup {

// Writes this process's pid to each cgroup.procs file.
std::string joinCgroups(const std::vector<std::string>& procsFiles);
// Soft and hard limits, by launch_helper.hpp's names.
std::string setRlimits(const std::vector<agent::launch::Rlimit>& rlimits);
// Makes the mounts of this (new) mount namespace slaves of the host's: the
// container's mounts stay inside, the host's still arrive.
std::string makeMountsSlave();
// A fresh /proc (for pid 1 of a new pid namespace).
std::string mountProc();
// Bind mounts in this (new, slave) mount namespace; read-only ones are
// remounted read-only. A missing target is created (a directory, or an
// empty file for a file source).
std::string bindMounts(const std::vector<agent::launch::BindMount>& mounts);
// Supplementary groups, gid, then uid (irreversible: the last privileged step).
std::string switchUser(const agent::launch::UserIds& user);
// Execs `executable` (searched in PATH when it has no '/') with `argv` and,
// unless null, `environment`; returns only on failure.
std::string exec(const std::string& executable, const std::vector<std::string>& argv,
                 const std::vector<std::string>* environment);
// The pids of this process's live and zombie children.
std::vector<pid_t> childrenOfSelf();

}  // namespace mezzo::launch_setup
