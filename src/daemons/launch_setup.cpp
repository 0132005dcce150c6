#include "daemons/launch_setup.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "agent/launch_helper.hpp"

namespace mezzo::launch_setup {

namespace {

std::string lastError() { return std::strerror(errno); }

}  // namespace

std::string joinCgroups(const std::vector<std::string>& procsFiles) {
  const std::string pid = std::to_string(getpid());
  for (const std::string& file : procsFiles) {
    FILE* procs = std::fopen(file.c_str(), "we");
    if (procs == nullptr) return "cannot open " + file + ": " + lastError();
    const bool written = std::fputs(pid.c_str(), procs) >= 0;
    if (std::fclose(procs) != 0 || !written) return "cannot join " + file + ": " + lastError();
  }
  return {};
}

std::string setRlimits(const std::vector<agent::launch::Rlimit>& rlimits) {
  for (const agent::launch::Rlimit& limit : rlimits) {
    const rlimit value{limit.soft, limit.hard};
    if (setrlimit(*agent::launch::rlimitResource(limit.name), &value) != 0) {
      return "cannot set rlimit " + limit.name + ": " + lastError();
    }
  }
  return {};
}

namespace {

// mkdir -p of `path` (mode 0755).
std::string makeDirectories(const std::string& path) {
  for (size_t slash = path.find('/', 1);; slash = path.find('/', slash + 1)) {
    const std::string prefix = path.substr(0, slash);
    if (mkdir(prefix.c_str(), 0755) != 0 && errno != EEXIST) return "cannot create " + prefix + ": " + lastError();
    if (slash == std::string::npos) return {};
  }
}

std::string makeMountPoint(const agent::launch::BindMount& mount) {
  struct stat source {};
  if (stat(mount.source.c_str(), &source) != 0) return "cannot use " + mount.source + ": " + lastError();
  if (access(mount.target.c_str(), F_OK) == 0) return {};
  if (S_ISDIR(source.st_mode)) return makeDirectories(mount.target);
  const size_t slash = mount.target.rfind('/');
  if (slash > 0) {
    if (std::string error = makeDirectories(mount.target.substr(0, slash)); !error.empty()) return error;
  }
  const int fd = open(mount.target.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return "cannot create " + mount.target + ": " + lastError();
  close(fd);
  return {};
}

}  // namespace

std::string bindMounts(const std::vector<agent::launch::BindMount>& mounts) {
  for (const agent::launch::BindMount& mount : mounts) {
    if (std::string error = makeMountPoint(mount); !error.empty()) return error;
    if (::mount(mount.source.c_str(), mount.target.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0) {
      return "cannot mount " + mount.source + " on " + mount.target + ": " + lastError();
    }
    const unsigned long readOnly = MS_REMOUNT | MS_BIND | MS_RDONLY;
    if (mount.readOnly && ::mount(nullptr, mount.target.c_str(), nullptr, readOnly, nullptr) != 0) {
      return "cannot make " + mount.target + " read-only: " + lastError();
    }
  }
  return {};
}

std::string switchUser(const agent::launch::UserIds& user) {
  if (setgroups(user.groups.size(), user.groups.data()) != 0) return "cannot set the groups of the user: " + lastError();
  if (setgid(user.gid) != 0) return "cannot switch to group " + std::to_string(user.gid) + ": " + lastError();
  if (setuid(user.uid) != 0) return "cannot switch to user " + std::to_string(user.uid) + ": " + lastError();
  return {};
}

std::string makeMountsSlave() {
  if (mount(nullptr, "/", nullptr, MS_REC | MS_SLAVE, nullptr) != 0) {
    return "cannot make the container's mounts private: " + lastError();
  }
  return {};
}

std::string mountProc() {
  if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0) {
    return "cannot mount /proc: " + lastError();
  }
  return {};
}

std::string exec(const std::string& executable, const std::vector<std::string>& argv,
                 const std::vector<std::string>* environment) {
  std::vector<char*> args = agent::launch::cStrings(argv);
  const bool search = executable.find('/') == std::string::npos;
  if (environment == nullptr) {
    search ? execvp(executable.c_str(), args.data()) : execv(executable.c_str(), args.data());
  } else {
    std::vector<char*> envp = agent::launch::cStrings(*environment);
    search ? execvpe(executable.c_str(), args.data(), envp.data())
           : execve(executable.c_str(), args.data(), envp.data());
  }
  return "cannot execute " + executable + ": " + lastError();
}

std::vector<pid_t> childrenOfSelf() {
  std::vector<pid_t> out;
  const std::string self = std::to_string(getpid());
  if (FILE* file = std::fopen(("/proc/" + self + "/task/" + self + "/children").c_str(), "re")) {
    long pid = 0;
    while (std::fscanf(file, "%ld", &pid) == 1) out.push_back(static_cast<pid_t>(pid));
    std::fclose(file);
    return out;
  }
  // A kernel without CONFIG_PROC_CHILDREN: our children by their parent pid.
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return out;
  while (dirent* entry = readdir(proc)) {
    char* end = nullptr;
    long pid = std::strtol(entry->d_name, &end, 10);
    if (end == entry->d_name || *end != '\0') continue;
    FILE* stat = std::fopen(("/proc/" + std::string(entry->d_name) + "/stat").c_str(), "re");
    if (stat == nullptr) continue;
    char line[512];
    const bool read = std::fgets(line, sizeof(line), stat) != nullptr;
    std::fclose(stat);
    const char* close = read ? std::strrchr(line, ')') : nullptr;
    char state = 0;
    long parent = 0;
    if (close != nullptr && std::sscanf(close + 1, " %c %ld", &state, &parent) == 2 && parent == getpid()) {
      out.push_back(static_cast<pid_t>(pid));
    }
  }
  closedir(proc);
  return out;
}

}  // namespace mezzo::launch_setup
