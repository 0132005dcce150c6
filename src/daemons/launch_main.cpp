// mezzo-launch: joins cgroups, sets rlimits, enters namespaces, then execs
// the given program (see agent/launch_helper.hpp). Started by the agent with
// posix_spawn; single-threaded, small, and links nothing of Mezzo, so its
// one fork() (for a pid namespace) is cheap and safe.
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

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

pid_t containerInit = -1;

void forwardSignal(int signal) {
  if (containerInit > 0) kill(containerInit, signal);
}

// The parent side of a pid namespace: pass termination signals on to the
// container's pid 1 and end the way it ends.
[[noreturn]] void superviseContainerInit(pid_t child) {
  containerInit = child;
  struct sigaction forward {};
  forward.sa_handler = forwardSignal;
  sigemptyset(&forward.sa_mask);
  for (int signal : {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2}) sigaction(signal, &forward, nullptr);
  int status = 0;
  while (waitpid(child, &status, 0) < 0) {
    if (errno != EINTR) fail("cannot wait for the container: " + lastError());
  }
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

}  // namespace

int main(int argc, char** argv) {
  using namespace mezzo::agent::launch;
  std::string error;
  auto request = parseArguments(argc, argv, &error);
  if (!request) fail(error);
  joinCgroups(request->cgroupProcsFiles);
  setRlimits(request->rlimits);
  enterNamespaces(*request);
  if (!request->pidNamespace) exec(*request);

  const pid_t child = fork();
  if (child < 0) fail("cannot fork the container's init: " + lastError());
  if (child > 0) superviseContainerInit(child);
  // pid 1 of the new namespace: a /proc that shows the namespace.
  if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0) {
    fail("cannot mount /proc: " + lastError());
  }
  exec(*request);
}
