#include "harness/process.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <random>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace mezzo::testing {

std::string binDir() {
  const char* dir = std::getenv("MEZZO_BIN_DIR");
  if (dir == nullptr) throw std::runtime_error("MEZZO_BIN_DIR is not set (run the tests through ctest)");
  return dir;
}

uint16_t freePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  socklen_t length = sizeof(address);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

std::filesystem::path makeTempDir(const std::string& prefix) {
  std::string pattern = "/tmp/" + prefix + "-XXXXXX";
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  if (::mkdtemp(buffer.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  return std::filesystem::path(buffer.data());
}

namespace {

// The test's environment with `overrides` ("NAME=value") replacing or
// adding variables.
std::vector<std::string> mergedEnvironment(const std::vector<std::string>& overrides) {
  std::vector<std::string> merged;
  auto nameOf = [](const std::string& entry) { return entry.substr(0, entry.find('=')); };
  for (char** entry = environ; *entry != nullptr; ++entry) {
    std::string current(*entry);
    bool replaced = std::any_of(overrides.begin(), overrides.end(),
                                [&](const std::string& next) { return nameOf(next) == nameOf(current); });
    if (!replaced) merged.push_back(std::move(current));
  }
  merged.insert(merged.end(), overrides.begin(), overrides.end());
  return merged;
}

}  // namespace

DaemonProcess::DaemonProcess(const std::string& binary, std::vector<std::string> args,
                             const std::filesystem::path& logFile, const std::vector<std::string>& environment)
    : logFile_(logFile) {
  std::string path = binDir() + "/" + binary;
  std::vector<char*> argv;
  argv.push_back(path.data());
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, logFile.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attributes, 0);
  std::vector<std::string> variables = mergedEnvironment(environment);
  std::vector<char*> envp;
  for (std::string& variable : variables) envp.push_back(variable.data());
  envp.push_back(nullptr);
  int error = posix_spawn(&pid_, path.c_str(), &actions, &attributes, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  if (error != 0) throw std::runtime_error("posix_spawn " + path + " failed: " + std::strerror(error));
}

DaemonProcess::~DaemonProcess() { stop(); }

bool DaemonProcess::running() {
  if (pid_ <= 0) return false;
  int status = 0;
  pid_t result = ::waitpid(pid_, &status, WNOHANG);
  if (result == pid_) {
    reaped(status);
    return false;
  }
  return true;
}

void DaemonProcess::reaped(int waitStatus) {
  pid_ = -1;
  exitCode_ = WIFEXITED(waitStatus) ? WEXITSTATUS(waitStatus) : 128 + WTERMSIG(waitStatus);
}

std::optional<int> DaemonProcess::waitForExit(std::chrono::milliseconds timeout) {
  waitUntil([&] { return !running(); }, timeout);
  return exitCode_;
}

void DaemonProcess::signal(int sig) {
  if (pid_ > 0) ::kill(pid_, sig);
}

void DaemonProcess::kill9() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

void DaemonProcess::stop(std::chrono::milliseconds grace) {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGCONT);
  ::kill(pid_, SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + grace;
  while (std::chrono::steady_clock::now() < deadline) {
    if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill9();
}

std::string DaemonProcess::log() const {
  std::ifstream in(logFile_);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

nlohmann::json getJson(const net::Endpoint& endpoint, const std::string& path) {
  net::ClientRequest request;
  request.method = boost::beast::http::verb::get;
  request.target = path;
  request.timeout = std::chrono::milliseconds(5000);
  auto response = net::httpRequestSync(endpoint, request);
  if (!response || response->status != 200) return nullptr;
  return nlohmann::json::parse(response->body, nullptr, false);
}

bool waitUntil(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return condition();
}

uint16_t waitForListeningPort(const DaemonProcess& daemon, std::chrono::milliseconds timeout) {
  static const std::regex kListening("listening on [0-9.]+:([0-9]+)");
  uint16_t port = 0;
  waitUntil(
      [&] {
        const std::string log = daemon.log();
        std::smatch match;
        if (std::regex_search(log, match, kListening)) port = static_cast<uint16_t>(std::stoi(match[1].str()));
        return port != 0;
      },
      timeout);
  return port;
}

// Daemons start on --port=0 and the harness reads the port they got from
// their log (a port picked in advance may be taken by a concurrent test
// before the daemon binds it); restarts reuse that port.
LocalCluster::LocalCluster(ClusterOptions options) : options_(std::move(options)) {
  workDir_ = makeTempDir("mezzo-test");
  // Tasks run as another user (--switch_user) must reach their sandboxes below it.
  std::filesystem::permissions(workDir_, std::filesystem::perms::owner_all | std::filesystem::perms::group_read |
                                             std::filesystem::perms::group_exec | std::filesystem::perms::others_read |
                                             std::filesystem::perms::others_exec);
  master_ = net::Endpoint{"127.0.0.1", 0};
  restartMaster();
  for (int i = 0; i < options_.agents; ++i) startAgent();
  if (!waitForAgents(static_cast<size_t>(options_.agents))) {
    throw std::runtime_error("agents did not register; master log:\n" + masterProcess_->log());
  }
}

void LocalCluster::restartMaster() {
  if (masterProcess_) masterProcess_->kill9();
  std::vector<std::string> args = {"--ip=127.0.0.1", "--port=" + std::to_string(master_.port),
                                   "--work_dir=" + (workDir_ / "master").string(), "--log_level=info",
                                   "--allocation_interval=100ms"};
  args.insert(args.end(), options_.masterFlags.begin(), options_.masterFlags.end());
  masterProcess_ = std::make_unique<DaemonProcess>("mezzo-master", args, workDir_ / "master.log");
  if (master_.port == 0) master_.port = waitForListeningPort(*masterProcess_, std::chrono::seconds(10));
  if (master_.port == 0 ||
      !waitUntil([&] { return getJson(master_, "/state").is_object(); }, std::chrono::seconds(10))) {
    throw std::runtime_error("master did not start: " + masterProcess_->log());
  }
}

LocalCluster::~LocalCluster() {
  for (auto& agent : agents_) {
    if (agent) agent->stop();
  }
  masterProcess_->stop();
  if (!std::getenv("MEZZO_KEEP_TEST_DIRS")) {
    std::error_code ignored;
    std::filesystem::remove_all(workDir_, ignored);
  }
}

void LocalCluster::startAgent(std::optional<size_t> index) {
  size_t i = index.value_or(agents_.size());
  if (i == agents_.size()) {
    agents_.emplace_back();
    agentPorts_.push_back(0);
  }
  if (agents_[i]) agents_[i]->stop();
  std::string name = "agent" + std::to_string(i);
  if (options_.prepareAgentWorkDir) options_.prepareAgentWorkDir(workDir_ / name);
  std::vector<std::string> args = {"--master=" + masterAddress(),
                                   "--ip=127.0.0.1",
                                   "--port=" + std::to_string(agentPorts_[i]),
                                   "--work_dir=" + (workDir_ / name).string(),
                                   "--resources=" + options_.agentResources,
                                   "--log_level=info"};
  args.insert(args.end(), options_.agentFlags.begin(), options_.agentFlags.end());
  agents_[i] = std::make_unique<DaemonProcess>("mezzo-agent", args, workDir_ / (name + ".log"));
  if (agentPorts_[i] == 0) agentPorts_[i] = waitForListeningPort(*agents_[i], std::chrono::seconds(10));
}

bool LocalCluster::waitForAgents(size_t count, std::chrono::milliseconds timeout) {
  return waitUntil(
      [&] {
        nlohmann::json state = getJson(master_, "/state");
        if (!state.is_object()) return false;
        return state.value("activated_slaves", 0) >= static_cast<int>(count);
      },
      timeout);
}

}  // namespace mezzo::testing
