// The protocol between the agent and its task supervisor (`mezzo-launch
// --supervisor`, task_supervisor.cpp), which starts and waits for the
// command tasks the agent runs without an executor (supervised_tasks.cpp).
//
// One Unix stream socket, one agent connected at a time. Every message is a
// frame: a 4-byte length (host byte order; both ends are on one machine)
// followed by that many bytes of NUL-terminated fields, the first naming
// the message.
//
// agent -> supervisor
//   launch  <container id> <status file> <working dir> <stdout> <stderr>
//           <n> <n launch arguments (launch_helper.hpp: options, --,
//           executable, argv)> <environment entries...>
//   signal  <container id> <signal number>    (to the task's process group)
// supervisor -> agent
//   live    (<container id> <pid>)...          (first frame of a connection)
//   started <container id> <pid>
//   exited  <container id> <wait status> <1 if the container could not be
//           set up (the task never ran), else 0>
//
// The supervisor writes `exited`'s status and flag to the status file
// before sending it, so an agent that was down learns how the task ended.
// Status file text: "<wait status>\n", or "<wait status> launch-failed\n".
//
// Header-only and standard-library-only: the supervisor is a small static
// binary.
//
// Thread-safety: stateless functions; FrameReader is not thread-safe.
#pragma once

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mezzo::agent::supervisor {

inline constexpr std::string_view kLaunch = "launch";
inline constexpr std::string_view kSignal = "signal";
inline constexpr std::string_view kLive = "live";
inline constexpr std::string_view kStarted = "started";
inline constexpr std::string_view kExited = "exited";
inline constexpr std::string_view kLaunchFailedMarker = "launch-failed";
// A frame longer than this is a protocol error (environments are small).
inline constexpr uint32_t kMaxFrameBytes = 4u << 20;

using Fields = std::vector<std::string>;

inline std::string encodeFrame(const Fields& fields) {
  std::string body;
  for (const std::string& field : fields) {
    body.append(field);
    body.push_back('\0');
  }
  const auto length = static_cast<uint32_t>(body.size());
  std::string frame(sizeof(length), '\0');
  std::memcpy(frame.data(), &length, sizeof(length));
  return frame + body;
}

// Accumulates bytes from a stream and cuts them into frames.
class FrameReader {
 public:
  void append(const char* data, size_t size) { buffer_.append(data, size); }
  // The next complete frame's fields; nullopt when more bytes are needed.
  // Sets *error (and returns nullopt) on an oversized frame.
  std::optional<Fields> next(bool* error) {
    *error = false;
    uint32_t length = 0;
    if (buffer_.size() - offset_ < sizeof(length)) return compact();
    std::memcpy(&length, buffer_.data() + offset_, sizeof(length));
    if (length > kMaxFrameBytes) {
      *error = true;
      return std::nullopt;
    }
    if (buffer_.size() - offset_ < sizeof(length) + length) return compact();
    std::string_view body(buffer_.data() + offset_ + sizeof(length), length);
    offset_ += sizeof(length) + length;
    Fields fields;
    while (!body.empty()) {
      size_t end = body.find('\0');
      if (end == std::string_view::npos) end = body.size();
      fields.emplace_back(body.substr(0, end));
      body.remove_prefix(std::min(body.size(), end + 1));
    }
    return fields;
  }

 private:
  std::optional<Fields> compact() {
    buffer_.erase(0, offset_);
    offset_ = 0;
    return std::nullopt;
  }
  std::string buffer_;
  size_t offset_ = 0;
};

// What the agent asks the supervisor to start.
struct LaunchMessage {
  std::string containerId;
  std::string statusFile;
  std::string workingDirectory;
  std::string stdoutPath;
  std::string stderrPath;
  std::vector<std::string> launchArguments;  // launch::toArguments()
  std::vector<std::string> environment;      // "NAME=value"
};

inline Fields encodeLaunch(const LaunchMessage& launch) {
  Fields fields{std::string(kLaunch),
                launch.containerId,
                launch.statusFile,
                launch.workingDirectory,
                launch.stdoutPath,
                launch.stderrPath,
                std::to_string(launch.launchArguments.size())};
  fields.insert(fields.end(), launch.launchArguments.begin(), launch.launchArguments.end());
  fields.insert(fields.end(), launch.environment.begin(), launch.environment.end());
  return fields;
}

inline std::optional<LaunchMessage> decodeLaunch(const Fields& fields) {
  constexpr size_t kFixed = 7;
  if (fields.size() < kFixed || fields[0] != kLaunch) return std::nullopt;
  const size_t count = std::strtoul(fields[6].c_str(), nullptr, 10);
  if (fields.size() < kFixed + count) return std::nullopt;
  LaunchMessage launch{fields[1], fields[2], fields[3], fields[4], fields[5], {}, {}};
  launch.launchArguments.assign(fields.begin() + kFixed, fields.begin() + kFixed + count);
  launch.environment.assign(fields.begin() + kFixed + count, fields.end());
  return launch;
}

// How a supervised task ended, as its status file tells.
struct TaskEnd {
  int waitStatus = 0;
  bool launchFailed = false;
};

inline std::string statusFileText(const TaskEnd& end) {
  return std::to_string(end.waitStatus) + (end.launchFailed ? " " + std::string(kLaunchFailedMarker) : "") + "\n";
}

// nullopt: not (completely) written.
inline std::optional<TaskEnd> parseStatusFileText(std::string_view text) {
  if (text.empty() || text.back() != '\n') return std::nullopt;
  TaskEnd end;
  char* rest = nullptr;
  const std::string line(text.substr(0, text.size() - 1));
  end.waitStatus = static_cast<int>(std::strtol(line.c_str(), &rest, 10));
  if (rest == line.c_str()) return std::nullopt;
  end.launchFailed = std::string_view(rest) == " " + std::string(kLaunchFailedMarker);
  return end;
}

// A sockaddr_un for `path`. Paths longer than sun_path go through
// /proc/self/fd/<fd of their directory>; `directoryFd` receives that
// descriptor (close it after bind/connect), or -1.
inline bool socketAddress(const std::string& path, sockaddr_un* address, int* directoryFd) {
  *directoryFd = -1;
  std::memset(address, 0, sizeof(*address));
  address->sun_family = AF_UNIX;
  std::string usable = path;
  if (usable.size() >= sizeof(address->sun_path)) {
    const size_t slash = path.rfind('/');
    if (slash == std::string::npos) return false;
    *directoryFd = ::open(path.substr(0, slash).c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (*directoryFd < 0) return false;
    usable = "/proc/self/fd/" + std::to_string(*directoryFd) + path.substr(slash);
    if (usable.size() >= sizeof(address->sun_path)) return false;
  }
  std::memcpy(address->sun_path, usable.c_str(), usable.size() + 1);
  return true;
}

}  // namespace mezzo::agent::supervisor
