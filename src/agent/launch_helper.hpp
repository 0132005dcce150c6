// The command line of `mezzo-launch`, the small helper through which the
// agent starts an executor whose container needs setting up. The helper
// joins the container's cgroups (writes its own pid to each cgroup.procs
// file), sets resource limits, enters new namespaces, then execs the
// executor: the executor is inside its container before its first
// instruction, and the agent never fork()s its own (possibly large) heap.
//
//   mezzo-launch [--cgroup=<cgroup.procs file>]... [--rlimit=<name>:<value>]...
//                [--mount-namespace] [--pid-namespace]
//                -- <executable> <argv0> [args...]
//   mezzo-launch --supervisor=<socket path>
//
// --mount-namespace: a mount namespace of its own whose mounts do not
// propagate back to the host (host mounts still reach it).
// --pid-namespace (implies --mount-namespace): the helper forks the
// executor as pid 1 of a new pid namespace, mounts a fresh /proc for it,
// and stays as its parent: it forwards termination signals to it and exits
// the way it exits, so the agent still watches one pid.
//
// --supervisor: the agent's task supervisor (task_supervisor.hpp), which
// starts command tasks with the same options (supervisor_protocol.hpp) and
// stays their parent. It accepts the agent on the listening socket it
// inherits as descriptor 3; the path is removed when it exits.
//
// rlimit names: as, core, cpu, data, fsize, memlock, nofile, nproc, stack
// (soft and hard limits are both set to the value).
//
// Header-only and standard-library-only so that the helper links nothing
// else and starts in well under a millisecond.
//
// Thread-safety: stateless functions.
#pragma once

#include <sys/resource.h>

#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mezzo::agent::launch {

inline constexpr std::string_view kCgroupOption = "--cgroup=";
inline constexpr std::string_view kRlimitOption = "--rlimit=";
inline constexpr std::string_view kMountNamespaceOption = "--mount-namespace";
inline constexpr std::string_view kPidNamespaceOption = "--pid-namespace";
inline constexpr std::string_view kSupervisorOption = "--supervisor=";
// Exit code of the helper when the set-up failed (the reason is on stderr).
inline constexpr int kSetupFailedExitCode = 125;

struct Request {
  std::vector<std::string> cgroupProcsFiles;
  std::vector<std::pair<std::string, uint64_t>> rlimits;  // name, value
  bool mountNamespace = false;
  bool pidNamespace = false;
  std::string executable;
  std::vector<std::string> argv;  // argv[0] included
};

inline std::optional<int> rlimitResource(std::string_view name) {
  constexpr std::pair<std::string_view, int> kNames[] = {
      {"as", RLIMIT_AS},         {"core", RLIMIT_CORE},   {"cpu", RLIMIT_CPU},
      {"data", RLIMIT_DATA},     {"fsize", RLIMIT_FSIZE}, {"memlock", RLIMIT_MEMLOCK},
      {"nofile", RLIMIT_NOFILE}, {"nproc", RLIMIT_NPROC}, {"stack", RLIMIT_STACK},
  };
  for (auto [candidate, resource] : kNames) {
    if (candidate == name) return resource;
  }
  return std::nullopt;
}

inline std::vector<std::string> toArguments(const Request& request) {
  std::vector<std::string> out;
  for (const std::string& file : request.cgroupProcsFiles) out.push_back(std::string(kCgroupOption) + file);
  for (const auto& [name, value] : request.rlimits) {
    out.push_back(std::string(kRlimitOption) + name + ":" + std::to_string(value));
  }
  if (request.mountNamespace) out.emplace_back(kMountNamespaceOption);
  if (request.pidNamespace) out.emplace_back(kPidNamespaceOption);
  out.push_back("--");
  out.push_back(request.executable);
  out.insert(out.end(), request.argv.begin(), request.argv.end());
  return out;
}

// A NULL-terminated argv/envp pointing into `strings` (which must outlive it).
inline std::vector<char*> cStrings(const std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (const std::string& s : strings) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

// Parses argv[1..]; on failure returns nullopt and sets `error`.
inline std::optional<Request> parseArguments(int argc, char** argv, std::string* error) {
  Request request;
  int i = 1;
  for (; i < argc; ++i) {
    std::string_view argument(argv[i]);
    if (argument == "--") break;
    if (argument.starts_with(kCgroupOption)) {
      request.cgroupProcsFiles.emplace_back(argument.substr(kCgroupOption.size()));
    } else if (argument.starts_with(kRlimitOption)) {
      std::string_view spec = argument.substr(kRlimitOption.size());
      size_t colon = spec.find(':');
      std::string name(spec.substr(0, colon));
      if (colon == std::string_view::npos || !rlimitResource(name)) {
        *error = "bad rlimit '" + std::string(spec) + "'";
        return std::nullopt;
      }
      request.rlimits.emplace_back(name, std::strtoull(std::string(spec.substr(colon + 1)).c_str(), nullptr, 10));
    } else if (argument == kMountNamespaceOption) {
      request.mountNamespace = true;
    } else if (argument == kPidNamespaceOption) {
      request.pidNamespace = true;
      request.mountNamespace = true;  // its own /proc
    } else {
      *error = "unknown argument '" + std::string(argument) + "'";
      return std::nullopt;
    }
  }
  if (i + 1 >= argc) {
    *error = "missing '-- <executable> <argv0> ...'";
    return std::nullopt;
  }
  request.executable = argv[i + 1];
  for (int j = i + 2; j < argc; ++j) request.argv.emplace_back(argv[j]);
  if (request.argv.empty()) request.argv.push_back(request.executable);
  return request;
}

// The same for arguments without the program name (what toArguments() made).
inline std::optional<Request> parseArguments(const std::vector<std::string>& arguments, std::string* error) {
  std::vector<char*> argv{const_cast<char*>("mezzo-launch")};
  for (const std::string& argument : arguments) argv.push_back(const_cast<char*>(argument.c_str()));
  argv.push_back(nullptr);
  return parseArguments(static_cast<int>(argv.size() - 1), argv.data(), error);
}

}  // namespace mezzo::agent::launch
