// ChildProcess: a daemon started by the CLI (`mezzo local`) with posix_spawn,
// in its own process group (so a terminal's Ctrl-C reaches only `mezzo`, which
// then stops its children in order), with stdin from /dev/null and stdout and
// stderr appended to a log file. Plus the small OS helpers the CLI needs.
//
// Thread-safety: use a ChildProcess from one thread.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "mezzo/common/status.hpp"

namespace mezzo::cli {

class ChildProcess {
 public:
  static Result<std::unique_ptr<ChildProcess>> spawn(const std::string& binary, const std::vector<std::string>& args,
                                                     const std::string& logFile);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  const std::string& logFile() const { return logFile_; }
  // Reaps the child if it ended (without blocking); true while it runs.
  bool running();
  // "exited with status 1", "killed by signal 9"; empty while running.
  std::string describeExit() const;
  // SIGTERM to the process group, up to `grace` to exit, then SIGKILL.
  void stop(std::chrono::milliseconds grace = std::chrono::milliseconds(5000));

 private:
  ChildProcess(pid_t pid, std::string logFile) : pid_(pid), logFile_(std::move(logFile)) {}

  pid_t pid_;
  std::string logFile_;
  std::optional<int> waitStatus_;
};

// Directory of the running executable (from /proc/self/exe).
std::string selfExecutableDir();
// A loopback TCP port that was free a moment ago.
Result<uint16_t> freePort();
// True if 127.0.0.1:port can be bound now.
bool portAvailable(uint16_t port);
// The last `lines` lines of a text file (empty if unreadable).
std::string tailFile(const std::string& path, size_t lines);

}  // namespace mezzo::cli
