#include "agent/process.hpp"
#include "agent/launch_helper.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

extern char** environ;

namespace mezzo::agent {

namespace {

// RAII holders for the posix_spawn attribute objects.
struct SpawnAttributes {
  posix_spawnattr_t attr{};
  posix_spawn_file_actions_t actions{};
  SpawnAttributes() {
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_init(&actions);
  }
  ~SpawnAttributes() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }
  SpawnAttributes(const SpawnAttributes&) = delete;
  SpawnAttributes& operator=(const SpawnAttributes&) = delete;
};

int configure(SpawnAttributes& spawn, const SpawnOptions& options) {
  short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
  flags |= options.grouping == SpawnOptions::Grouping::kNewSession ? POSIX_SPAWN_SETSID : POSIX_SPAWN_SETPGROUP;
  sigset_t empty;
  sigemptyset(&empty);
  sigset_t defaults;
  sigemptyset(&defaults);
  for (int signal : {SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGCHLD, SIGUSR1, SIGUSR2}) {
    sigaddset(&defaults, signal);
  }
  int rc = posix_spawnattr_setflags(&spawn.attr, flags);
  if (rc == 0) rc = posix_spawnattr_setsigmask(&spawn.attr, &empty);
  if (rc == 0) rc = posix_spawnattr_setsigdefault(&spawn.attr, &defaults);
  if (rc == 0 && options.grouping == SpawnOptions::Grouping::kNewProcessGroup) {
    rc = posix_spawnattr_setpgroup(&spawn.attr, 0);
  }
  if (rc == 0) rc = posix_spawn_file_actions_addopen(&spawn.actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  if (rc == 0 && !options.stdoutPath.empty()) {
    rc = posix_spawn_file_actions_addopen(&spawn.actions, STDOUT_FILENO, options.stdoutPath.c_str(),
                                          O_WRONLY | O_CREAT | O_APPEND, 0644);
  }
  if (rc == 0 && !options.stderrPath.empty()) {
    rc = posix_spawn_file_actions_addopen(&spawn.actions, STDERR_FILENO, options.stderrPath.c_str(),
                                          O_WRONLY | O_CREAT | O_APPEND, 0644);
  }
  if (rc == 0 && !options.workingDirectory.empty()) {
    rc = posix_spawn_file_actions_addchdir_np(&spawn.actions, options.workingDirectory.c_str());
  }
  int firstClosed = STDERR_FILENO + 1;
  if (rc == 0 && options.inheritedFd >= 0) {
    rc = posix_spawn_file_actions_adddup2(&spawn.actions, options.inheritedFd, SpawnOptions::kInheritedFdNumber);
    firstClosed = SpawnOptions::kInheritedFdNumber + 1;
  }
  // Sockets of the parent (listening ports!) must not leak into children.
  if (rc == 0) rc = posix_spawn_file_actions_addclosefrom_np(&spawn.actions, firstClosed);
  return rc;
}

// Session id of a /proc/<pid>/stat line (field 6), or -1.
pid_t sessionOf(const std::string& statLine, char* state) {
  size_t close = statLine.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream rest(statLine.substr(close + 1));
  char st = 0;
  long ppid = 0;
  long pgrp = 0;
  long session = 0;
  if (!(rest >> st >> ppid >> pgrp >> session)) return -1;
  *state = st;
  return static_cast<pid_t>(session);
}

// Calls visit(pid, session) for every live (non-zombie) process, reading
// /proc once.
template <typename Visit>
void forEachProcess(Visit visit) {
  std::unique_ptr<DIR, int (*)(DIR*)> proc(opendir("/proc"), closedir);
  if (!proc) return;
  while (dirent* entry = readdir(proc.get())) {
    char* end = nullptr;
    long pid = std::strtol(entry->d_name, &end, 10);
    if (end == entry->d_name || *end != '\0' || pid <= 0) continue;
    std::ifstream stat("/proc/" + std::string(entry->d_name) + "/stat");
    std::string line;
    if (!std::getline(stat, line)) continue;
    char state = 0;
    pid_t session = sessionOf(line, &state);
    if (state != 'Z') visit(static_cast<pid_t>(pid), session);
  }
}

template <typename Visit>
void forEachProcessInSession(pid_t sid, Visit visit) {
  forEachProcess([&](pid_t pid, pid_t session) {
    if (session == sid) visit(pid);
  });
}

}  // namespace

Result<pid_t> spawnProcess(const SpawnOptions& options) {
  if (options.argv.empty()) return Status::invalidArgument("Empty command line");
  SpawnAttributes spawn;
  int rc = configure(spawn, options);
  if (rc != 0) return Status::ioError(std::string("posix_spawn set-up failed: ") + std::strerror(rc));
  std::vector<char*> argv = launch::cStrings(options.argv);
  std::vector<char*> envp = launch::cStrings(options.environment);
  pid_t pid = -1;
  const bool search = options.path.find('/') == std::string::npos;
  rc = search ? posix_spawnp(&pid, options.path.c_str(), &spawn.actions, &spawn.attr, argv.data(), envp.data())
              : posix_spawn(&pid, options.path.c_str(), &spawn.actions, &spawn.attr, argv.data(), envp.data());
  if (rc != 0) {
    return Status::ioError("Failed to launch '" + options.path + "': " + std::strerror(rc));
  }
  return pid;
}

Result<std::pair<std::string, std::vector<std::string>>> commandLine(const v1::CommandInfo& command) {
  if (command.shell()) {
    if (!command.has_value()) return Status::invalidArgument("Shell command has no 'value'");
    return std::make_pair(std::string("/bin/sh"), std::vector<std::string>{"sh", "-c", command.value()});
  }
  if (!command.has_value() || command.value().empty()) {
    return Status::invalidArgument("Command has no 'value' (the executable)");
  }
  std::vector<std::string> argv(command.arguments().begin(), command.arguments().end());
  if (argv.empty()) argv.push_back(command.value());
  return std::make_pair(command.value(), std::move(argv));
}

std::vector<std::string> mergedEnvironment(const std::map<std::string, std::string>& overrides) {
  std::vector<std::string> out;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    std::string_view variable(*entry);
    std::string name(variable.substr(0, variable.find('=')));
    if (!overrides.contains(name)) out.emplace_back(variable);
  }
  for (const auto& [name, value] : overrides) out.push_back(name + "=" + value);
  return out;
}

int signalSession(pid_t sid, int signal) {
  if (sid <= 1) return 0;
  int count = 0;
  forEachProcessInSession(sid, [&](pid_t pid) {
    if (kill(pid, signal) == 0) ++count;
  });
  killpg(sid, signal);
  return count;
}

std::vector<pid_t> sessionProcesses(pid_t sid) {
  std::vector<pid_t> pids;
  if (sid > 1) forEachProcessInSession(sid, [&](pid_t pid) { pids.push_back(pid); });
  return pids;
}

int signalSessions(const std::set<pid_t>& sids, int signal) {
  int count = 0;
  if (sids.empty()) return count;
  forEachProcess([&](pid_t pid, pid_t session) {
    if (session > 1 && sids.contains(session) && kill(pid, signal) == 0) ++count;
  });
  for (pid_t sid : sids) {
    if (sid > 1) killpg(sid, signal);
  }
  return count;
}

bool sessionAlive(pid_t sid) {
  bool alive = false;
  forEachProcessInSession(sid, [&](pid_t) { alive = true; });
  return alive;
}

bool sessionLeaderAlive(pid_t sid) {
  if (sid <= 1) return false;
  std::ifstream stat("/proc/" + std::to_string(sid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return false;
  char state = 0;
  return sessionOf(line, &state) == sid && state != 'Z' && state != 'X';
}

Result<launch::UserIds> lookUpUser(const std::string& name) {
  passwd entry{};
  passwd* found = nullptr;
  std::vector<char> buffer(16384);
  int rc = 0;
  while ((rc = getpwnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found)) == ERANGE) {
    buffer.resize(buffer.size() * 2);
  }
  if (rc != 0) return Status::ioError("Cannot look up user '" + name + "': " + std::strerror(rc));
  if (found == nullptr) return Status::notFound("No such user '" + name + "'");
  launch::UserIds user{entry.pw_uid, entry.pw_gid, {}};
  int count = 32;
  user.groups.resize(static_cast<size_t>(count));
  while (getgrouplist(name.c_str(), entry.pw_gid, user.groups.data(), &count) < 0) {
    user.groups.resize(static_cast<size_t>(count) * 2);
    count = static_cast<int>(user.groups.size());
  }
  user.groups.resize(static_cast<size_t>(count));
  return user;
}

Result<std::optional<launch::UserIds>> containerUser(const v1::CommandInfo& command, const std::string& frameworkUser) {
  const std::string& name = command.has_user() ? command.user() : frameworkUser;
  if (name.empty()) return std::optional<launch::UserIds>();
  auto user = lookUpUser(name);
  if (!user) return user.status();
  if (user->uid == geteuid()) return std::optional<launch::UserIds>();
  return std::optional<launch::UserIds>(std::move(*user));
}

Status chownTree(const std::string& path, const launch::UserIds& user) {
  std::error_code ec;
  auto give = [&](const std::filesystem::path& entry) -> Status {
    if (lchown(entry.c_str(), user.uid, user.gid) != 0) {
      return Status::ioError("Cannot chown " + entry.string() + ": " + std::strerror(errno));
    }
    return Status::ok();
  };
  if (Status status = give(path); !status) return status;
  if (!std::filesystem::is_directory(std::filesystem::symlink_status(path, ec))) return Status::ok();
  for (auto it = std::filesystem::recursive_directory_iterator(path, ec); !ec && it != std::filesystem::end(it);
       it.increment(ec)) {
    if (Status status = give(it->path()); !status) return status;
  }
  if (ec) return Status::ioError("Cannot walk " + path + ": " + ec.message());
  return Status::ok();
}

std::string describeWaitStatus(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    const char* name = sigabbrev_np(WTERMSIG(status));
    return std::string("terminated with signal ") + (name != nullptr ? "SIG" + std::string(name)
                                                                     : std::to_string(WTERMSIG(status)));
  }
  return "ended with wait status " + std::to_string(status);
}

}  // namespace mezzo::agent
