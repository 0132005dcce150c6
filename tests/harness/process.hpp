// Test harness: real daemon processes on loopback.
//
// DaemonProcess starts a Mezzo binary (from $MEZZO_BIN_DIR) with posix_spawn,
// sends its output to a log file in the test's temp dir, and stops it
// (SIGTERM, then SIGKILL) when destroyed. LocalCluster starts one master and
// N agents and waits until the master lists every agent.
//
// Thread-safety: use from the test's main thread.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "mezzo/net/http_client.hpp"

namespace mezzo::testing {

std::string binDir();
// A port that was free a moment ago (bound to 0 and released).
uint16_t freePort();
// A fresh directory under /tmp removed by the caller (or left for debugging).
std::filesystem::path makeTempDir(const std::string& prefix);

class DaemonProcess {
 public:
  // `environment`: "NAME=value" entries set for the daemon on top of the
  // test's own environment (which they override).
  DaemonProcess(const std::string& binary, std::vector<std::string> args, const std::filesystem::path& logFile,
                const std::vector<std::string>& environment = {});
  ~DaemonProcess();
  DaemonProcess(const DaemonProcess&) = delete;
  DaemonProcess& operator=(const DaemonProcess&) = delete;

  pid_t pid() const { return pid_; }
  bool running();
  // SIGTERM, wait up to `grace`, then SIGKILL.
  void stop(std::chrono::milliseconds grace = std::chrono::milliseconds(3000));
  void kill9();
  void signal(int sig);
  std::string log() const;
  // The exit code once the process has exited by itself within `timeout`
  // (128 + signal number if a signal ended it); nullopt while it runs.
  std::optional<int> waitForExit(std::chrono::milliseconds timeout);

 private:
  void reaped(int waitStatus);

  pid_t pid_ = -1;
  std::optional<int> exitCode_;
  std::filesystem::path logFile_;
};

// The port of the first "listening on <ip>:<port>" line the daemon has
// logged, waiting up to `timeout` for it; 0 if none came.
uint16_t waitForListeningPort(const DaemonProcess& daemon, std::chrono::milliseconds timeout);

// GET path and parse JSON; returns null JSON on failure.
nlohmann::json getJson(const net::Endpoint& endpoint, const std::string& path);
bool waitUntil(const std::function<bool()>& condition, std::chrono::milliseconds timeout);

struct ClusterOptions {
  int agents = 1;
  std::string agentResources = "cpus:2;mem:1024;disk:1024;ports:[31000-31099]";
  std::vector<std::string> masterFlags;
  std::vector<std::string> agentFlags;
  // Runs before each agent starts, given its (not yet created) work dir:
  // e.g. mount a small filesystem there.
  std::function<void(const std::filesystem::path&)> prepareAgentWorkDir;

  ClusterOptions& withAgents(int count) {
    agents = count;
    return *this;
  }
  ClusterOptions& withAgentResources(std::string resources) {
    agentResources = std::move(resources);
    return *this;
  }
  ClusterOptions& withMasterFlag(std::string flag) {
    masterFlags.push_back(std::move(flag));
    return *this;
  }
  ClusterOptions& withAgentFlag(std::string flag) {
    agentFlags.push_back(std::move(flag));
    return *this;
  }
};

class LocalCluster {
 public:
  explicit LocalCluster(ClusterOptions options = {});
  ~LocalCluster();

  const net::Endpoint& master() const { return master_; }
  std::string masterAddress() const { return master_.toString(); }
  DaemonProcess& masterProcess() { return *masterProcess_; }
  DaemonProcess& agentProcess(size_t i) { return *agents_.at(i); }
  uint16_t agentPort(size_t i) const { return agentPorts_.at(i); }
  const std::filesystem::path& workDir() const { return workDir_; }
  // kill -9 the master and start it again with the same flags and work dir.
  void restartMaster();
  // Starts another agent (or restarts agent i when given).
  void startAgent(std::optional<size_t> index = std::nullopt);
  bool waitForAgents(size_t count, std::chrono::milliseconds timeout = std::chrono::seconds(15));

 private:
  ClusterOptions options_;
  std::filesystem::path workDir_;
  net::Endpoint master_;
  std::unique_ptr<DaemonProcess> masterProcess_;
  std::vector<std::unique_ptr<DaemonProcess>> agents_;
  std::vector<uint16_t> agentPorts_;
};

}  // namespace mezzo::testing
