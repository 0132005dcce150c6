#include "agent/cgroup_files.hpp"

#include <fcntl.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "mezzo/common/strings.hpp"

namespace mezzo::agent {

namespace {

constexpr uint64_t kMinCpuShares = 2;
constexpr uint64_t kMinCfsQuotaMicros = 1000;
constexpr int kKillRounds = 50;
constexpr auto kKillPause = std::chrono::milliseconds(10);

template <typename Number>
std::optional<Number> parseWhole(std::string_view text) {
  text = trim(text);
  Number value{};
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace

Status writeControl(const std::string& file, const std::string& value) {
  // Plain write(2): the kernel's answer (EBUSY, EINVAL, ...) is the message.
  // A memory limit write gives up with EINTR when a signal is pending while
  // it reclaims (the agent gets SIGCHLD all the time): try again, boundedly.
  constexpr int kAttempts = 100;
  int fd = -1;
  for (int attempt = 0; attempt < kAttempts && fd < 0; ++attempt) {
    fd = ::open(file.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0 && errno != EINTR) break;
  }
  if (fd < 0) return Status::ioError("Cannot open " + file + ": " + std::strerror(errno));
  ssize_t written = -1;
  int error = 0;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    written = ::write(fd, value.data(), value.size());
    error = errno;
    if (written >= 0 || error != EINTR) break;
  }
  ::close(fd);
  if (written != static_cast<ssize_t>(value.size())) {
    return Status::ioError("Cannot write '" + value + "' to " + file + ": " + std::strerror(written < 0 ? error : EIO));
  }
  return Status::ok();
}

std::optional<std::string> readControl(const std::string& file) {
  std::ifstream in(file);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::map<std::string, uint64_t> parseFlatKeyed(std::string_view text) {
  std::map<std::string, uint64_t> values;
  for (std::string_view line : split(text, '\n')) {
    line = trim(line);
    size_t space = line.find(' ');
    if (space == std::string_view::npos) continue;
    if (auto value = parseWhole<uint64_t>(line.substr(space + 1))) values[std::string(line.substr(0, space))] = *value;
  }
  return values;
}

std::map<std::string, uint64_t> readFlatKeyed(const std::string& file) {
  auto text = readControl(file);
  return text ? parseFlatKeyed(*text) : std::map<std::string, uint64_t>();
}

std::optional<uint64_t> readNumber(const std::string& file) {
  auto text = readControl(file);
  if (!text) return std::nullopt;
  return parseWhole<uint64_t>(*text);
}

std::optional<uint64_t> lookup(const std::map<std::string, uint64_t>& values, const std::string& key) {
  auto it = values.find(key);
  return it == values.end() ? std::nullopt : std::optional<uint64_t>(it->second);
}

std::vector<pid_t> parsePids(std::string_view text) {
  std::vector<pid_t> pids;
  for (std::string_view line : split(text, '\n')) {
    if (auto pid = parseWhole<pid_t>(line)) pids.push_back(*pid);
  }
  return pids;
}

std::vector<pid_t> readPids(const std::string& file) {
  auto text = readControl(file);
  return text ? parsePids(*text) : std::vector<pid_t>();
}

uint64_t cpuShares(double cpus) {
  return std::max<uint64_t>(kMinCpuShares, static_cast<uint64_t>(std::llround(cpus * 1024)));
}

uint64_t cfsQuotaMicros(double cpus) {
  return std::max<uint64_t>(kMinCfsQuotaMicros, static_cast<uint64_t>(std::llround(cpus * kCfsPeriodMicros)));
}

bool killUntilEmpty(const std::function<bool()>& empty, const std::function<void()>& killAll) {
  for (int round = 0; round < kKillRounds; ++round) {
    if (empty()) return true;
    killAll();
    std::this_thread::sleep_for(kKillPause);
  }
  return empty();
}

Result<int> watchFileModifications(const std::string& file) {
  int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) return Status::ioError(std::string("inotify_init1 failed: ") + std::strerror(errno));
  if (::inotify_add_watch(fd, file.c_str(), IN_MODIFY | IN_DELETE_SELF) < 0) {
    Status error = Status::ioError("Cannot watch " + file + ": " + std::strerror(errno));
    ::close(fd);
    return error;
  }
  return fd;
}

}  // namespace mezzo::agent
