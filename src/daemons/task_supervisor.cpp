#include "daemons/task_supervisor.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <deque>
#include <unordered_map>
#include <unordered_set>

#include "agent/launch_helper.hpp"
#include "agent/supervisor_protocol.hpp"
#include "daemons/launch_setup.hpp"

namespace mezzo::task_supervisor {

namespace {

namespace protocol = agent::supervisor;

constexpr int kListeningFd = 3;
// Sessions of ended tasks remembered for killing their re-parented leftovers.
constexpr size_t kEndedSessionsKept = 4096;
// An agent that stops reading is dropped rather than buffered without end.
constexpr size_t kMaxUnsentBytes = 64u << 20;

std::string lastError() { return std::strerror(errno); }

void warn(const std::string& what) { std::fprintf(stderr, "mezzo-launch --supervisor: %s\n", what.c_str()); }

// In the forked child: everything between fork and exec. Returns only on
// failure, with the reason.
std::string setUpAndExec(const protocol::LaunchMessage& launch, const agent::launch::Request& request,
                         bool clonedNamespaces) {
  const int input = open("/dev/null", O_RDONLY);
  if (input < 0 || dup2(input, STDIN_FILENO) < 0) return "cannot open /dev/null: " + lastError();
  for (auto [path, target] : {std::pair{&launch.stdoutPath, STDOUT_FILENO}, {&launch.stderrPath, STDERR_FILENO}}) {
    if (path->empty()) continue;
    const int fd = open(path->c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd < 0 || dup2(fd, target) < 0) return "cannot open " + *path + ": " + lastError();
    if (fd != target) close(fd);
  }
  if (input != STDIN_FILENO) close(input);
  if (!launch.workingDirectory.empty() && chdir(launch.workingDirectory.c_str()) != 0) {
    return "cannot enter " + launch.workingDirectory + ": " + lastError();
  }
  if (std::string error = launch_setup::joinCgroups(request.cgroupProcsFiles); !error.empty()) return error;
  if (std::string error = launch_setup::setRlimits(request.rlimits); !error.empty()) return error;
  if (request.mountNamespace) {
    if (!clonedNamespaces && unshare(CLONE_NEWNS) != 0) return "cannot create a mount namespace: " + lastError();
    if (std::string error = launch_setup::makeMountsSlave(); !error.empty()) return error;
  }
  if (std::string error = launch_setup::bindMounts(request.mounts); !error.empty()) return error;
  if (request.pidNamespace) {
    if (std::string error = launch_setup::mountProc(); !error.empty()) return error;
  }
  if (request.user) {
    if (std::string error = launch_setup::switchUser(*request.user); !error.empty()) return error;
  }
  return launch_setup::exec(request.executable, request.argv, &launch.environment);
}

class Supervisor {
 public:
  explicit Supervisor(std::string socketPath) : socketPath_(std::move(socketPath)) {}

  int run();

 private:
  struct Task {
    std::string containerId;
    std::string statusFile;
  };

  bool setUp();
  void acceptAgent();
  void readAgent();
  void dropAgent();
  void send(const protocol::Fields& fields);
  void flush();
  void handle(const protocol::Fields& fields);
  void launch(const protocol::LaunchMessage& launch);
  void signalTask(const std::string& containerId, int signal);
  void reapChildren();
  std::unordered_set<std::string> drainLaunchFailures();
  void rememberEndedSession(pid_t session);
  void killOrphansOfEndedSessions();
  void finish(pid_t pid, int waitStatus, bool launchFailed);
  void end(const Task& task, const protocol::TaskEnd& how);

  std::string socketPath_;
  ino_t socketInode_ = 0;
  int agent_ = -1;
  bool hadAgent_ = false;
  int childSignals_ = -1;
  int failuresRead_ = -1;
  int failuresWrite_ = -1;
  sigset_t originalMask_{};
  protocol::FrameReader reader_;
  std::string unsent_;
  std::unordered_map<pid_t, Task> tasks_;
  std::unordered_map<std::string, pid_t> pids_;
  std::deque<pid_t> endedOrder_;
  std::unordered_set<pid_t> endedSessions_;
};

bool Supervisor::setUp() {
  struct stat socketStat {};
  if (fcntl(kListeningFd, F_GETFD) < 0) {
    warn("no listening socket on descriptor 3");
    return false;
  }
  fcntl(kListeningFd, F_SETFD, FD_CLOEXEC);
  fcntl(kListeningFd, F_SETFL, O_NONBLOCK);
  if (stat(socketPath_.c_str(), &socketStat) == 0) socketInode_ = socketStat.st_ino;
  if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) warn("cannot become a subreaper: " + lastError());
  // Long-lived: do not keep the agent's working directory (or its mount) busy.
  if (chdir("/") != 0) warn("cannot enter /: " + lastError());
  signal(SIGPIPE, SIG_IGN);
  sigset_t childMask;
  sigemptyset(&childMask);
  sigaddset(&childMask, SIGCHLD);
  sigprocmask(SIG_BLOCK, &childMask, &originalMask_);
  sigdelset(&originalMask_, SIGCHLD);
  childSignals_ = signalfd(-1, &childMask, SFD_NONBLOCK | SFD_CLOEXEC);
  int failures[2];
  if (childSignals_ < 0 || pipe2(failures, O_CLOEXEC | O_NONBLOCK) != 0) {
    warn("cannot set up: " + lastError());
    return false;
  }
  failuresRead_ = failures[0];
  failuresWrite_ = failures[1];
  return true;
}

int Supervisor::run() {
  if (!setUp()) return 1;
  while (!(hadAgent_ && agent_ < 0 && tasks_.empty())) {
    pollfd fds[3] = {{kListeningFd, POLLIN, 0}, {childSignals_, POLLIN, 0}, {agent_, POLLIN, 0}};
    if (!unsent_.empty()) fds[2].events |= POLLOUT;
    const nfds_t count = agent_ >= 0 ? 3 : 2;
    if (poll(fds, count, -1) < 0) {
      if (errno == EINTR) continue;
      warn("poll failed: " + lastError());
      return 1;
    }
    if (fds[1].revents != 0) reapChildren();
    if (fds[0].revents != 0) acceptAgent();
    if (count == 3 && agent_ == fds[2].fd) {
      if ((fds[2].revents & (POLLIN | POLLHUP | POLLERR)) != 0) readAgent();
      if (agent_ >= 0 && (fds[2].revents & POLLOUT) != 0) flush();
    }
  }
  struct stat now {};
  if (socketInode_ != 0 && stat(socketPath_.c_str(), &now) == 0 && now.st_ino == socketInode_) {
    unlink(socketPath_.c_str());
  }
  return 0;
}

void Supervisor::acceptAgent() {
  const int connection = accept4(kListeningFd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
  if (connection < 0) return;
  if (agent_ >= 0) close(agent_);  // a restarted agent replaces the old connection
  agent_ = connection;
  hadAgent_ = true;
  reader_ = {};
  unsent_.clear();
  protocol::Fields live{std::string(protocol::kLive)};
  for (const auto& [pid, task] : tasks_) {
    live.push_back(task.containerId);
    live.push_back(std::to_string(pid));
  }
  send(live);
}

void Supervisor::dropAgent() {
  close(agent_);
  agent_ = -1;
  unsent_.clear();
}

void Supervisor::readAgent() {
  char buffer[64 * 1024];
  for (;;) {
    const ssize_t n = read(agent_, buffer, sizeof(buffer));
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) return dropAgent();
    if (n < 0) break;
    reader_.append(buffer, static_cast<size_t>(n));
    if (static_cast<size_t>(n) < sizeof(buffer)) break;
  }
  bool error = false;
  while (auto fields = reader_.next(&error)) {
    handle(*fields);
    if (agent_ < 0) return;
  }
  if (error) {
    warn("oversized frame from the agent; dropping the connection");
    dropAgent();
  }
}

void Supervisor::send(const protocol::Fields& fields) {
  if (agent_ < 0) return;
  unsent_ += protocol::encodeFrame(fields);
  if (unsent_.size() > kMaxUnsentBytes) {
    warn("the agent does not read; dropping the connection");
    return dropAgent();
  }
  flush();
}

void Supervisor::flush() {
  while (!unsent_.empty()) {
    const ssize_t n = ::send(agent_, unsent_.data(), unsent_.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;  // polled for POLLOUT
    if (n < 0) return dropAgent();
    unsent_.erase(0, static_cast<size_t>(n));
  }
}

void Supervisor::handle(const protocol::Fields& fields) {
  if (fields.empty()) return;
  if (fields[0] == protocol::kLaunch) {
    if (auto launch = protocol::decodeLaunch(fields)) return this->launch(*launch);
  } else if (fields[0] == protocol::kSignal && fields.size() == 3) {
    return signalTask(fields[1], std::atoi(fields[2].c_str()));
  }
  warn("ignoring a malformed '" + fields[0] + "' message");
}

void Supervisor::launch(const protocol::LaunchMessage& launch) {
  std::string error;
  auto request = agent::launch::parseArguments(launch.launchArguments, &error);
  if (!request || pids_.contains(launch.containerId)) {
    if (request) error = "container " + launch.containerId + " is already running";
    warn(error);
    return end({launch.containerId, launch.statusFile},
               {.waitStatus = agent::launch::kSetupFailedExitCode << 8, .launchFailed = true});
  }
  // A pid namespace is made by clone() so that the child is its pid 1.
  const bool cloneNamespaces = request->pidNamespace;
  const pid_t pid = cloneNamespaces ? static_cast<pid_t>(syscall(SYS_clone, CLONE_NEWPID | CLONE_NEWNS | SIGCHLD,
                                                                 nullptr, nullptr, nullptr, nullptr))
                                    : fork();
  if (pid == 0) {
    sigprocmask(SIG_SETMASK, &originalMask_, nullptr);
    signal(SIGPIPE, SIG_DFL);
    setsid();
    error = setUpAndExec(launch, *request, cloneNamespaces);
    std::fprintf(stderr, "mezzo-launch: %s\n", error.c_str());
    std::fflush(stderr);
    const std::string record = launch.containerId + "\n";  // one write below PIPE_BUF: atomic
    (void)!write(failuresWrite_, record.data(), record.size());
    _exit(agent::launch::kSetupFailedExitCode);
  }
  if (pid < 0) {
    warn("cannot fork: " + lastError());
    return end({launch.containerId, launch.statusFile},
               {.waitStatus = agent::launch::kSetupFailedExitCode << 8, .launchFailed = true});
  }
  tasks_[pid] = Task{launch.containerId, launch.statusFile};
  pids_[launch.containerId] = pid;
  endedSessions_.erase(pid);  // a reused pid names a new session
  send({std::string(protocol::kStarted), launch.containerId, std::to_string(pid)});
}

void Supervisor::signalTask(const std::string& containerId, int signal) {
  auto it = pids_.find(containerId);
  if (it != pids_.end() && signal > 0) killpg(it->second, signal);
}

void Supervisor::reapChildren() {
  signalfd_siginfo info{};
  while (read(childSignals_, &info, sizeof(info)) == sizeof(info)) {
  }
  std::vector<std::pair<pid_t, int>> ended;
  bool reaped = false;
  int status = 0;
  pid_t pid = 0;
  while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
    reaped = true;
    if (tasks_.contains(pid)) ended.emplace_back(pid, status);
  }
  if (!reaped) return;
  // Failure records were written before those children exited.
  const std::unordered_set<std::string> failures = drainLaunchFailures();
  for (const auto& [task, ignored] : ended) {
    killpg(task, SIGKILL);  // the rest of its group
    rememberEndedSession(task);
  }
  if (!endedSessions_.empty()) killOrphansOfEndedSessions();
  for (const auto& [task, waitStatus] : ended) finish(task, waitStatus, failures.contains(tasks_.at(task).containerId));
}

std::unordered_set<std::string> Supervisor::drainLaunchFailures() {
  std::unordered_set<std::string> failures;
  std::string text;
  char buffer[4096];
  ssize_t n = 0;
  while ((n = read(failuresRead_, buffer, sizeof(buffer))) > 0) text.append(buffer, static_cast<size_t>(n));
  size_t start = 0;
  for (size_t end = text.find('\n'); end != std::string::npos; start = end + 1, end = text.find('\n', start)) {
    failures.insert(text.substr(start, end - start));
  }
  return failures;
}

void Supervisor::rememberEndedSession(pid_t session) {
  if (!endedSessions_.insert(session).second) return;
  endedOrder_.push_back(session);
  if (endedOrder_.size() > kEndedSessionsKept) {
    endedSessions_.erase(endedOrder_.front());
    endedOrder_.pop_front();
  }
}

// Processes of an ended task's session that left its group and whose
// parents died are re-parented to us (a subreaper): kill them too.
void Supervisor::killOrphansOfEndedSessions() {
  for (pid_t child : launch_setup::childrenOfSelf()) {
    if (tasks_.contains(child)) continue;
    const pid_t session = getsid(child);
    if (session > 0 && endedSessions_.contains(session)) kill(child, SIGKILL);
  }
}

void Supervisor::finish(pid_t pid, int waitStatus, bool launchFailed) {
  auto node = tasks_.extract(pid);
  pids_.erase(node.mapped().containerId);
  end(node.mapped(), {.waitStatus = waitStatus, .launchFailed = launchFailed});
}

void Supervisor::end(const Task& task, const protocol::TaskEnd& how) {
  // Written in place (no rename: one inode per task is enough); a reader
  // takes a file without its final newline for one not written yet.
  const std::string text = protocol::statusFileText(how);
  const int fd = open(task.statusFile.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  const bool written = fd >= 0 && write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  if (fd >= 0 && close(fd) != 0) warn("cannot close " + task.statusFile + ": " + lastError());
  if (!written) warn("cannot write the status file " + task.statusFile + ": " + lastError());
  send(
      {std::string(protocol::kExited), task.containerId, std::to_string(how.waitStatus), how.launchFailed ? "1" : "0"});
}

}  // namespace

int run(const std::string& socketPath) { return Supervisor(socketPath).run(); }

}  // namespace mezzo::task_supervisor
