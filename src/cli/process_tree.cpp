#include "cli/process_tree.hpp"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

namespace mezzo::cli {

namespace {

// Sent to the guarded child when its parent dies (PR_SET_PDEATHSIG).
constexpr int kParentDiedSignal = SIGUSR2;

// The parent pid in /proc/<pid>/stat ("pid (comm) state ppid ..."; comm may
// hold spaces and parentheses), or -1.
pid_t readParentOf(const std::string& pid) {
  std::ifstream in("/proc/" + pid + "/stat");
  std::string stat;
  std::getline(in, stat);
  size_t end = stat.rfind(')');
  if (end == std::string::npos) return -1;
  char state = 0;
  int parent = -1;
  if (std::sscanf(stat.c_str() + end + 1, " %c %d", &state, &parent) != 2) return -1;
  return parent;
}

void signalAll(const std::vector<pid_t>& pids, int signal) {
  for (pid_t pid : pids) ::kill(pid, signal);
}

void reapAll() {
  while (::waitpid(-1, nullptr, WNOHANG) > 0) {
  }
}

std::vector<pid_t> ownDescendants() { return descendantsOf(::getpid(), readProcessParents()); }

// In the guarded child: waits for the parent's death on a thread of its own
// (the main thread may be anywhere), then kills the tree and exits.
void watchForParentDeath(pid_t parent) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, kParentDiedSignal);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  ::prctl(PR_SET_PDEATHSIG, kParentDiedSignal);
  std::thread([set] {
    int signal = 0;
    while (sigwait(&set, &signal) != 0) {
    }
    std::cerr << "mezzo local: its parent process died; killing the cluster" << std::endl;
    killDescendants(std::chrono::milliseconds(0));
    std::_Exit(137);
  }).detach();
  if (::getppid() != parent) ::kill(::getpid(), kParentDiedSignal);  // died before the prctl
}

}  // namespace

std::vector<pid_t> descendantsOf(pid_t root, const ParentMap& parents) {
  std::multimap<pid_t, pid_t> children;
  for (auto [pid, parent] : parents) children.emplace(parent, pid);
  std::vector<pid_t> found;
  std::vector<pid_t> frontier = {root};
  std::set<pid_t> seen = {root};
  while (!frontier.empty()) {
    pid_t next = frontier.back();
    frontier.pop_back();
    auto [begin, end] = children.equal_range(next);
    for (auto it = begin; it != end; ++it) {
      if (!seen.insert(it->second).second) continue;
      found.push_back(it->second);
      frontier.push_back(it->second);
    }
  }
  return found;
}

ParentMap readProcessParents() {
  ParentMap parents;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", error)) {
    std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    pid_t parent = readParentOf(name);
    if (parent >= 0) parents[static_cast<pid_t>(std::stol(name))] = parent;
  }
  return parents;
}

void killDescendants(std::chrono::milliseconds grace) {
  using Clock = std::chrono::steady_clock;
  std::vector<pid_t> pids = ownDescendants();
  if (grace.count() > 0 && !pids.empty()) {
    signalAll(pids, SIGTERM);
    auto deadline = Clock::now() + grace;
    while (!pids.empty() && Clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      reapAll();
      pids = ownDescendants();
    }
  }
  // Processes that fork while being killed, and orphans re-parented to us as
  // their parents die, show up in the next round.
  auto deadline = Clock::now() + std::chrono::seconds(5);
  while (!pids.empty() && Clock::now() < deadline) {
    signalAll(pids, SIGKILL);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    reapAll();
    pids = ownDescendants();
  }
  reapAll();
}

void reapAdoptedChildren(const std::set<pid_t>& owned) {
  const pid_t self = ::getpid();
  for (auto [pid, parent] : readProcessParents()) {
    if (parent == self && !owned.contains(pid)) ::waitpid(pid, nullptr, WNOHANG);
  }
}

int runInGuardedChild(const std::function<int()>& body) {
  sigset_t forwarded;
  sigemptyset(&forwarded);
  for (int signal : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&forwarded, signal);
  sigset_t waited = forwarded;
  sigaddset(&waited, SIGCHLD);
  sigset_t previous;
  pthread_sigmask(SIG_BLOCK, &waited, &previous);
  const pid_t parent = ::getpid();
  std::cout.flush();
  const pid_t child = ::fork();
  if (child < 0) {
    pthread_sigmask(SIG_SETMASK, &previous, nullptr);
    return body();
  }
  if (child == 0) {
    // The stop signals stay blocked: the body takes them when it is ready.
    sigset_t mask = previous;
    for (int signal : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&mask, signal);
    pthread_sigmask(SIG_SETMASK, &mask, nullptr);
    watchForParentDeath(parent);
    int code = body();
    std::cout.flush();
    std::exit(code);
  }
  while (true) {
    int signal = 0;
    if (sigwait(&waited, &signal) != 0) continue;
    if (signal != SIGCHLD) {
      ::kill(child, signal);
      continue;
    }
    int status = 0;
    if (::waitpid(child, &status, WNOHANG) != child) continue;
    pthread_sigmask(SIG_SETMASK, &previous, nullptr);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
}

}  // namespace mezzo::cli
