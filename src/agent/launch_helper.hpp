// The command line of `mezzo-launch`, the small helper through which the
// agent starts an executor whose container needs setting up. The helper
// joins the container's cgroups (writes its own pid to each cgroup.procs
// file), sets resource limits, enters new namespaces, then execs the
// executor: the executor is inside its container before its first
// instruction, and the agent never fork()s its own (possibly large) heap.
//
//   mezzo-launch [--cgroup=<cgroup.procs file>]... [--rlimit=<name>:<soft>:<hard>]...
//                [--mount-namespace] [--pid-namespace]
//                [--bind=<ro|rw>:<source length>:<source><target>]...
//                [--user=<uid>:<gid>[:<group>,<group>...]]
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
// --bind (implies --mount-namespace): bind-mounts <source> (recursively) on
// <target> inside the container's mount namespace, read-only with `ro`;
// a missing target directory (or file, for a file source) is created.
// --user: the program runs with these ids (supplementary groups set too);
// switched last, after every privileged step.
//
// rlimit names: as, core, cpu, data, fsize, locks, memlock, msgqueue, nice,
// nofile, nproc, rss, rtprio, rttime, sigpending, stack; a value of
// `unlimited` is RLIM_INFINITY.
//
// Header-only and standard-library-only so that the helper links nothing
// else and starts in well under a millisecond.
//
// Thread-safety: stateless functions.
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

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
inline constexpr std::string_view kBindOption = "--bind=";
inline constexpr std::string_view kUserOption = "--user=";
inline constexpr std::string_view kUnlimited = "unlimited";
// Exit code of the helper when the set-up failed (the reason is on stderr).
inline constexpr int kSetupFailedExitCode = 125;

struct Rlimit {
  std::string name;  // rlimitResource() knows it
  rlim_t soft = RLIM_INFINITY;
  rlim_t hard = RLIM_INFINITY;
  bool operator==(const Rlimit&) const = default;
};

struct BindMount {
  std::string source;  // absolute
  std::string target;  // absolute, in the container's view
  bool readOnly = false;
  bool operator==(const BindMount&) const = default;
};

struct UserIds {
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;  // supplementary
  bool operator==(const UserIds&) const = default;
};

struct Request {
  std::vector<std::string> cgroupProcsFiles;
  std::vector<Rlimit> rlimits;
  bool mountNamespace = false;
  bool pidNamespace = false;
  std::vector<BindMount> mounts;
  std::optional<UserIds> user;
  std::string executable;
  std::vector<std::string> argv;  // argv[0] included
};

inline std::optional<int> rlimitResource(std::string_view name) {
  constexpr std::pair<std::string_view, int> kNames[] = {
      {"as", RLIMIT_AS},           {"core", RLIMIT_CORE},         {"cpu", RLIMIT_CPU},
      {"data", RLIMIT_DATA},       {"fsize", RLIMIT_FSIZE},       {"locks", RLIMIT_LOCKS},
      {"memlock", RLIMIT_MEMLOCK}, {"msgqueue", RLIMIT_MSGQUEUE}, {"nice", RLIMIT_NICE},
      {"nofile", RLIMIT_NOFILE},   {"nproc", RLIMIT_NPROC},       {"rss", RLIMIT_RSS},
      {"rtprio", RLIMIT_RTPRIO},   {"rttime", RLIMIT_RTTIME},     {"sigpending", RLIMIT_SIGPENDING},
      {"stack", RLIMIT_STACK},
  };
  for (auto [candidate, resource] : kNames) {
    if (candidate == name) return resource;
  }
  return std::nullopt;
}

inline std::string rlimitValueText(rlim_t value) {
  return value == RLIM_INFINITY ? std::string(kUnlimited) : std::to_string(value);
}

// "unlimited" or a decimal number; nullopt otherwise.
inline std::optional<rlim_t> parseRlimitValue(std::string_view text) {
  if (text == kUnlimited) return RLIM_INFINITY;
  if (text.empty() || text.find_first_not_of("0123456789") != std::string_view::npos) return std::nullopt;
  return static_cast<rlim_t>(std::strtoull(std::string(text).c_str(), nullptr, 10));
}

inline std::string userText(const UserIds& user) {
  std::string out = std::to_string(user.uid) + ":" + std::to_string(user.gid);
  for (size_t i = 0; i < user.groups.size(); ++i) out += (i == 0 ? ":" : ",") + std::to_string(user.groups[i]);
  return out;
}

// Splits "a<separator>b<separator>..." into decimal numbers; nullopt on anything else.
inline std::optional<std::vector<unsigned long>> parseNumbers(std::string_view text, char separator) {
  std::vector<unsigned long> out;
  while (true) {
    const size_t end = text.find(separator);
    const std::string_view part = text.substr(0, end);
    if (part.empty() || part.find_first_not_of("0123456789") != std::string_view::npos) return std::nullopt;
    out.push_back(std::strtoul(std::string(part).c_str(), nullptr, 10));
    if (end == std::string_view::npos) return out;
    text.remove_prefix(end + 1);
  }
}

inline std::optional<UserIds> parseUser(std::string_view text) {
  const size_t second = text.find(':', text.find(':') + 1);
  auto ids = parseNumbers(text.substr(0, second), ':');
  if (!ids || ids->size() != 2) return std::nullopt;
  UserIds user{static_cast<uid_t>((*ids)[0]), static_cast<gid_t>((*ids)[1]), {}};
  if (second == std::string_view::npos) return user;
  auto groups = parseNumbers(text.substr(second + 1), ',');
  if (!groups) return std::nullopt;
  for (unsigned long group : *groups) user.groups.push_back(static_cast<gid_t>(group));
  return user;
}

// "<ro|rw>:<source length>:<source><target>"
inline std::optional<BindMount> parseBind(std::string_view text) {
  if (text.size() < 3 || (text.substr(0, 3) != "ro:" && text.substr(0, 3) != "rw:")) return std::nullopt;
  BindMount mount;
  mount.readOnly = text.substr(0, 2) == "ro";
  text.remove_prefix(3);
  const size_t colon = text.find(':');
  auto length = parseNumbers(text.substr(0, colon), ':');
  if (colon == std::string_view::npos || !length || length->size() != 1) return std::nullopt;
  text.remove_prefix(colon + 1);
  if (length->front() >= text.size()) return std::nullopt;
  mount.source = std::string(text.substr(0, length->front()));
  mount.target = std::string(text.substr(length->front()));
  return mount;
}

inline std::vector<std::string> toArguments(const Request& request) {
  std::vector<std::string> out;
  for (const std::string& file : request.cgroupProcsFiles) out.push_back(std::string(kCgroupOption) + file);
  for (const Rlimit& limit : request.rlimits) {
    out.push_back(std::string(kRlimitOption) + limit.name + ":" + rlimitValueText(limit.soft) + ":" +
                  rlimitValueText(limit.hard));
  }
  if (request.mountNamespace) out.emplace_back(kMountNamespaceOption);
  if (request.pidNamespace) out.emplace_back(kPidNamespaceOption);
  for (const BindMount& mount : request.mounts) {
    out.push_back(std::string(kBindOption) + (mount.readOnly ? "ro:" : "rw:") + std::to_string(mount.source.size()) +
                  ":" + mount.source + mount.target);
  }
  if (request.user) out.push_back(std::string(kUserOption) + userText(*request.user));
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
      const size_t first = spec.find(':');
      const size_t second = first == std::string_view::npos ? first : spec.find(':', first + 1);
      Rlimit limit{std::string(spec.substr(0, first))};
      auto soft = second == std::string_view::npos ? std::nullopt
                                                   : parseRlimitValue(spec.substr(first + 1, second - first - 1));
      auto hard = second == std::string_view::npos ? std::nullopt : parseRlimitValue(spec.substr(second + 1));
      if (!soft || !hard || !rlimitResource(limit.name)) {
        *error = "bad rlimit '" + std::string(spec) + "'";
        return std::nullopt;
      }
      limit.soft = *soft;
      limit.hard = *hard;
      request.rlimits.push_back(std::move(limit));
    } else if (argument.starts_with(kBindOption)) {
      auto mount = parseBind(argument.substr(kBindOption.size()));
      if (!mount) {
        *error = "bad bind mount '" + std::string(argument) + "'";
        return std::nullopt;
      }
      request.mounts.push_back(std::move(*mount));
      request.mountNamespace = true;
    } else if (argument.starts_with(kUserOption)) {
      request.user = parseUser(argument.substr(kUserOption.size()));
      if (!request.user) {
        *error = "bad user '" + std::string(argument) + "'";
        return std::nullopt;
      }
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
