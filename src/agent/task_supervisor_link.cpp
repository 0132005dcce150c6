#include "agent/task_supervisor_link.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "agent/process.hpp"

namespace mezzo::agent {

namespace {

constexpr int kHelloTimeoutMs = 5000;

std::string lastError() { return std::strerror(errno); }

// Runs `operation` (bind or connect) on `fd` with the address of `path`.
template <typename Operation>
bool withAddress(const std::string& path, Operation operation) {
  sockaddr_un address{};
  int directoryFd = -1;
  bool ok = supervisor::socketAddress(path, &address, &directoryFd) &&
            operation(reinterpret_cast<sockaddr*>(&address), static_cast<socklen_t>(sizeof(address))) == 0;
  const int saved = errno;
  if (directoryFd >= 0) close(directoryFd);
  errno = saved;
  return ok;
}

}  // namespace

TaskSupervisorLink::TaskSupervisorLink(boost::asio::io_context& io, std::string socketPath, std::string helperPath)
    : io_(io), socketPath_(std::move(socketPath)), helperPath_(std::move(helperPath)), socket_(io) {}

TaskSupervisorLink::~TaskSupervisorLink() = default;

Result<std::map<std::string, pid_t>> TaskSupervisorLink::connect(bool startIfAbsent) {
  disconnect();
  auto fd = connectToRunning();
  if (!fd && startIfAbsent) fd = startSupervisor();
  if (!fd) return fd.status();
  // The first frame lists the live tasks; anything after it stays in reader_.
  reader_ = {};
  std::optional<supervisor::Fields> hello;
  bool error = false;
  while (!(hello = reader_.next(&error)) && !error) {
    pollfd entry{*fd, POLLIN, 0};
    const int ready = poll(&entry, 1, kHelloTimeoutMs);
    char buffer[4096];
    const ssize_t n = ready == 1 ? read(*fd, buffer, sizeof(buffer)) : -1;
    if (n <= 0) {
      if (ready == 0) errno = ETIMEDOUT;
      const std::string why = n == 0 ? std::string("it closed the connection") : lastError();
      close(*fd);
      return Status::unavailable("No answer from the task supervisor on " + socketPath_ + ": " + why);
    }
    reader_.append(buffer, static_cast<size_t>(n));
  }
  if (error || hello->empty() || (*hello)[0] != supervisor::kLive || hello->size() % 2 != 1) {
    close(*fd);
    return Status::unavailable("Unexpected greeting from the task supervisor on " + socketPath_);
  }
  std::map<std::string, pid_t> live;
  for (size_t i = 1; i + 1 < hello->size(); i += 2) {
    live[(*hello)[i]] = static_cast<pid_t>(std::strtol((*hello)[i + 1].c_str(), nullptr, 10));
  }
  boost::system::error_code ec;
  socket_.assign(boost::asio::local::stream_protocol(), *fd, ec);
  if (ec) {
    close(*fd);
    return Status::ioError("Cannot watch the task supervisor's socket: " + ec.message());
  }
  return live;
}

Result<int> TaskSupervisorLink::connectToRunning() const {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status::ioError("socket: " + lastError());
  if (!withAddress(socketPath_,
                   [fd](const sockaddr* address, socklen_t size) { return ::connect(fd, address, size); })) {
    const std::string why = lastError();
    close(fd);
    return Status::unavailable("No task supervisor on " + socketPath_ + ": " + why);
  }
  return fd;
}

Result<int> TaskSupervisorLink::startSupervisor() const {
  ::unlink(socketPath_.c_str());  // left by a supervisor that is gone
  int listener = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listener >= 0 && listener == SpawnOptions::kInheritedFdNumber) {
    const int moved = fcntl(listener, F_DUPFD_CLOEXEC, SpawnOptions::kInheritedFdNumber + 1);
    close(listener);
    listener = moved;
  }
  if (listener < 0) return Status::ioError("socket: " + lastError());
  const bool bound = withAddress(
      socketPath_, [listener](const sockaddr* address, socklen_t size) { return ::bind(listener, address, size); });
  if (!bound || ::listen(listener, 64) != 0) {
    const std::string why = lastError();
    close(listener);
    return Status::ioError("Cannot listen on " + socketPath_ + ": " + why);
  }
  ::chmod(socketPath_.c_str(), 0600);  // it starts processes: the agent's user only
  SpawnOptions spawn;
  spawn.path = helperPath_;
  spawn.argv = {"mezzo-launch", "--supervisor=" + socketPath_};
  spawn.grouping = SpawnOptions::Grouping::kNewSession;  // outlives the agent
  spawn.inheritedFd = listener;
  auto pid = spawnProcess(spawn);
  close(listener);
  if (!pid) return pid.status();
  return connectToRunning();
}

void TaskSupervisorLink::listen(Callbacks callbacks) {
  callbacks_ = std::move(callbacks);
  // Events that came with the greeting first.
  boost::asio::post(io_, [this] {
    if (!connected()) return;
    readNext();
  });
}

void TaskSupervisorLink::launch(const supervisor::LaunchMessage& launch) { send(supervisor::encodeLaunch(launch)); }

void TaskSupervisorLink::signal(const std::string& containerId, int signal) {
  send({std::string(supervisor::kSignal), containerId, std::to_string(signal)});
}

void TaskSupervisorLink::send(const supervisor::Fields& fields) {
  if (!connected()) return;
  unsent_ += supervisor::encodeFrame(fields);
  if (writing_.empty()) writeNext();
}

void TaskSupervisorLink::writeNext() {
  writing_.swap(unsent_);
  unsent_.clear();
  if (writing_.empty()) return;
  boost::asio::async_write(socket_, boost::asio::buffer(writing_), [this](boost::system::error_code ec, size_t) {
    writing_.clear();
    if (ec) return;  // the read side reports the loss
    writeNext();
  });
}

void TaskSupervisorLink::readNext() {
  // Frames already buffered go out before more bytes are read.
  bool error = false;
  while (auto fields = reader_.next(&error)) {
    const supervisor::Fields& f = *fields;
    if (f.size() == 3 && f[0] == supervisor::kStarted && callbacks_.started) {
      callbacks_.started(f[1], static_cast<pid_t>(std::strtol(f[2].c_str(), nullptr, 10)));
    } else if (f.size() == 4 && f[0] == supervisor::kExited && callbacks_.exited) {
      callbacks_.exited(
          f[1], {.waitStatus = static_cast<int>(std::strtol(f[2].c_str(), nullptr, 10)), .launchFailed = f[3] == "1"});
    }
    if (!connected()) return;
  }
  if (error) {
    disconnect();
    if (callbacks_.lost) callbacks_.lost();
    return;
  }
  socket_.async_read_some(boost::asio::buffer(readBuffer_), [this](boost::system::error_code ec, size_t n) {
    if (ec) {
      if (ec == boost::asio::error::operation_aborted) return;
      disconnect();
      if (callbacks_.lost) callbacks_.lost();
      return;
    }
    reader_.append(readBuffer_.data(), n);
    readNext();
  });
}

void TaskSupervisorLink::disconnect() {
  boost::system::error_code ignored;
  if (socket_.is_open()) socket_.close(ignored);
  unsent_.clear();
}

}  // namespace mezzo::agent
