// mezzo-launch: joins cgroups, sets rlimits, enters namespaces, then execs
// the given program (see agent/launch_helper.hpp); or, with
// --supervisor=<socket>, runs the agent's task supervisor
// (task_supervisor.hpp). Started by the agent with posix_spawn;
// single-threaded, small, and links nothing of Mezzo, so its forks are
// cheap and safe.
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

#include "agent/launch_helper.hpp"
#include "daemons/launch_setup.hpp"
#include "daemons/task_supervisor.hpp"

namespace {

// Exits with kSetupFailedExitCode when a set-up step failed.
void check(const std::string& error) {
  if (error.empty()) return;
  std::fprintf(stderr, "mezzo-launch: %s\n", error.c_str());
  std::fflush(stderr);
  _exit(mezzo::agent::launch::kSetupFailedExitCode);
}

// The container's init in its new pid namespace.
pid_t child = -1;

void forwardSignal(int signal) {
  if (child > 0) kill(child, signal);
}

constexpr int kForwardedSignals[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

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

// Forks the program as pid 1 of the new pid namespace and stays as its
// parent: passes termination signals on and ends as it ends.
[[noreturn]] void forkContainerInit(const mezzo::agent::launch::Request& request) {
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
  if (pid < 0) check(std::string("cannot fork the program: ") + std::strerror(errno));
  if (pid == 0) {
    for (int signal : kForwardedSignals) ::signal(signal, SIG_DFL);
    sigprocmask(SIG_SETMASK, &previous, nullptr);
    check(mezzo::launch_setup::mountProc());
    if (request.user) check(mezzo::launch_setup::switchUser(*request.user));
    check(mezzo::launch_setup::exec(request.executable, request.argv, nullptr));
  }
  child = pid;
  sigprocmask(SIG_SETMASK, &previous, nullptr);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) check(std::string("cannot wait for the program: ") + std::strerror(errno));
  }
  exitLike(status);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace mezzo::agent::launch;
  if (argc == 2 && std::string_view(argv[1]).starts_with(kSupervisorOption)) {
    return mezzo::task_supervisor::run(std::string(argv[1] + kSupervisorOption.size()));
  }
  std::string error;
  auto request = parseArguments(argc, argv, &error);
  if (!request) check(error);
  check(mezzo::launch_setup::joinCgroups(request->cgroupProcsFiles));
  check(mezzo::launch_setup::setRlimits(request->rlimits));
  int flags = 0;
  if (request->mountNamespace) flags |= CLONE_NEWNS;
  if (request->pidNamespace) flags |= CLONE_NEWPID;  // only the next child is inside it
  if (flags != 0) {
    if (unshare(flags) != 0) check(std::string("cannot create namespaces: ") + std::strerror(errno));
    check(mezzo::launch_setup::makeMountsSlave());
  }
  check(mezzo::launch_setup::bindMounts(request->mounts));
  if (request->pidNamespace) forkContainerInit(*request);
  if (request->user) check(mezzo::launch_setup::switchUser(*request->user));
  check(mezzo::launch_setup::exec(request->executable, request->argv, nullptr));
}
