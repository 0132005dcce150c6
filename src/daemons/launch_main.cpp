// mezzo-launch: joins cgroups, sets rlimits, enters namespaces, then execs
// the given program (see agent/launch_helper.hpp). Started by the agent with
// posix_spawn; single-threaded, small, and links nothing of Mezzo, so its
// one fork() (for a pid namespace or a supervised program) is cheap and safe.
#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "agent/launch_helper.hpp"

namespace {

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "mezzo-launch: %s\n", what.c_str());
  std::fflush(stderr);
  _exit(mezzo::agent::launch::kSetupFailedExitCode);
}

std::string lastError() { return std::strerror(errno); }

void joinCgroups(const std::vector<std::string>& procsFiles) {
  const std::string pid = std::to_string(getpid());
  for (const std::string& file : procsFiles) {
    FILE* procs = std::fopen(file.c_str(), "we");
    if (procs == nullptr) fail("cannot open " + file + ": " + lastError());
    const bool written = std::fputs(pid.c_str(), procs) >= 0;
    if (std::fclose(procs) != 0 || !written) fail("cannot join " + file + ": " + lastError());
  }
}

void setRlimits(const std::vector<std::pair<std::string, uint64_t>>& rlimits) {
  for (const auto& [name, value] : rlimits) {
    rlimit limit{static_cast<rlim_t>(value), static_cast<rlim_t>(value)};
    if (setrlimit(*mezzo::agent::launch::rlimitResource(name), &limit) != 0) {
      fail("cannot set rlimit " + name + ": " + lastError());
    }
  }
}

// New mount (and pid) namespaces for this process; with a pid namespace
// only the next child is inside it.
void enterNamespaces(const mezzo::agent::launch::Request& request) {
  int flags = 0;
  if (request.mountNamespace) flags |= CLONE_NEWNS;
  if (request.pidNamespace) flags |= CLONE_NEWPID;
  if (flags == 0) return;
  if (unshare(flags) != 0) fail("cannot create namespaces: " + lastError());
  // Slave: mounts made in the container stay there, the host's still arrive.
  if (mount(nullptr, "/", nullptr, MS_REC | MS_SLAVE, nullptr) != 0) {
    fail("cannot make the container's mounts private: " + lastError());
  }
}

[[noreturn]] void exec(mezzo::agent::launch::Request& request) {
  std::vector<char*> args;
  for (std::string& arg : request.argv) args.push_back(arg.data());
  args.push_back(nullptr);
  if (request.executable.find('/') == std::string::npos) {
    execvp(request.executable.c_str(), args.data());
  } else {
    execv(request.executable.c_str(), args.data());
  }
  fail("cannot execute " + request.executable + ": " + lastError());
}

// The forked child: the container's init (pid namespace) or the supervised
// program (--supervise), which leads its own process group.
pid_t child = -1;
bool signalChildGroup = false;

void forwardSignal(int signal) {
  if (child <= 0) return;
  if (!signalChildGroup) {
    kill(child, signal);
  } else {
    killpg(child, signal == SIGUSR1 ? SIGKILL : signal);
  }
}

constexpr int kForwardedSignals[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

// The pids of our live and zombie children.
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

// After the supervised program ended: SIGKILL its group, then, round by
// round, every process re-parented to us (descendants that left the group
// or the session) until none is left. Bounded: a pids limit caps the rest.
void killLeftovers(pid_t program) {
  killpg(program, SIGKILL);
  for (int round = 0; round < 10000; ++round) {
    std::vector<pid_t> children = childrenOfSelf();
    if (children.empty()) return;
    for (pid_t pid : children) kill(pid, SIGKILL);
    for (pid_t pid : children) {
      while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
      }
    }
  }
}

void writeStatusFile(const std::string& path, int waitStatus) {
  const std::string temporary = path + ".tmp";
  const std::string text = std::to_string(waitStatus) + "\n";
  int fd = open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  bool written = fd >= 0 && write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  if (fd >= 0 && close(fd) != 0) written = false;
  if (!written || rename(temporary.c_str(), path.c_str()) != 0) {
    std::fprintf(stderr, "mezzo-launch: cannot write the status file %s: %s\n", path.c_str(), lastError().c_str());
  }
}

// Waits for `program` (reaping re-parented orphans on the way as a subreaper).
int waitForChild(pid_t program, bool subreaper) {
  int status = 0;
  for (;;) {
    pid_t pid = waitpid(subreaper ? -1 : program, &status, 0);
    if (pid == program) return status;
    if (pid < 0 && errno != EINTR) fail("cannot wait for the program: " + lastError());
  }
}

// Ends this process the way the program ended: same exit code, or the same
// signal raised on itself.
[[noreturn]] void exitLike(int status) {
  if (WIFEXITED(status)) _exit(WEXITSTATUS(status));
  const int signal = WTERMSIG(status);
  ::signal(signal, SIG_DFL);
  sigset_t unblock;
  sigemptyset(&unblock);
  sigaddset(&unblock, signal);
  sigprocmask(SIG_UNBLOCK, &unblock, nullptr);
  kill(getpid(), signal);
  _exit(128 + signal);
}

// Forks the program (as pid 1 of a new pid namespace, or supervised) and
// stays as its parent: passes termination signals on and ends as it ends.
[[noreturn]] void forkAndSupervise(mezzo::agent::launch::Request& request) {
  const bool supervise = !request.statusFile.empty();
  if (supervise && prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) fail("cannot become a subreaper: " + lastError());
  // Blocked across the fork: a signal sent right after our start is
  // forwarded once the child exists, never lost.
  sigset_t forwarded;
  sigset_t previous;
  sigemptyset(&forwarded);
  for (int signal : kForwardedSignals) sigaddset(&forwarded, signal);
  sigprocmask(SIG_BLOCK, &forwarded, &previous);
  struct sigaction forward {};
  forward.sa_handler = forwardSignal;
  sigemptyset(&forward.sa_mask);
  for (int signal : kForwardedSignals) sigaction(signal, &forward, nullptr);

  const pid_t pid = fork();
  if (pid < 0) fail("cannot fork the program: " + lastError());
  if (pid == 0) {
    for (int signal : kForwardedSignals) ::signal(signal, SIG_DFL);
    sigprocmask(SIG_SETMASK, &previous, nullptr);
    if (supervise) setpgid(0, 0);
    // pid 1 of the new namespace: a /proc that shows the namespace.
    if (request.pidNamespace && mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0) {
      fail("cannot mount /proc: " + lastError());
    }
    exec(request);
  }
  if (supervise) setpgid(pid, pid);  // whichever of us is first; the other fails harmlessly
  child = pid;
  signalChildGroup = supervise;
  sigprocmask(SIG_SETMASK, &previous, nullptr);
  const int status = waitForChild(pid, supervise);
  if (supervise) {
    // In a pid namespace the kernel has already killed the rest with its init.
    if (!request.pidNamespace) killLeftovers(pid);
    writeStatusFile(request.statusFile, status);
  }
  exitLike(status);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace mezzo::agent::launch;
  std::string error;
  auto request = parseArguments(argc, argv, &error);
  if (!request) fail(error);
  joinCgroups(request->cgroupProcsFiles);
  setRlimits(request->rlimits);
  enterNamespaces(*request);
  if (!request->pidNamespace && request->statusFile.empty()) exec(*request);
  forkAndSupervise(*request);
}
