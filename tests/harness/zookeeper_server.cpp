#include "harness/zookeeper_server.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <vector>

#include "ha/zookeeper_server_setup.hpp"
#include "harness/process.hpp"

extern char** environ;

namespace mezzo::testing {

namespace fs = std::filesystem;

ZooKeeperServer::ZooKeeperServer() {
  // A free port may be taken by a concurrent test before ZooKeeper binds it:
  // then the server exits and we try again on another port.
  for (int attempt = 0; attempt < 3 && !available_; ++attempt) {
    stop();
    port_ = freePort();
    dir_ = fs::temp_directory_path() / ("mezzo-zk-" + std::to_string(port_));
    if (!start()) return;  // not installed: retrying cannot help
    available_ = ha::waitForZooKeeper(port_, std::chrono::seconds(20), [this] {
      if (::waitpid(pid_, nullptr, WNOHANG) == 0) return true;
      pid_ = -1;  // reaped: never signal that pid again
      return false;
    });
  }
}

bool ZooKeeperServer::start() {
  auto config = ha::writeStandaloneZooKeeperConfig(dir_, port_);
  if (!config) return false;
  auto command = ha::zooKeeperServerCommand(*config);
  if (!command) return false;
  std::vector<char*> argv;
  for (auto& arg : *command) argv.push_back(arg.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  std::string log = (dir_ / "server.log").string();
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  bool spawned = posix_spawnp(&pid_, argv[0], &actions, nullptr, argv.data(), environ) == 0;
  posix_spawn_file_actions_destroy(&actions);
  if (!spawned) pid_ = -1;
  return spawned;
}

void ZooKeeperServer::stop() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  pid_ = -1;
  if (!dir_.empty()) {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }
}

ZooKeeperServer::~ZooKeeperServer() { stop(); }

std::string ZooKeeperServer::url(const std::string& path) const {
  return "zk://127.0.0.1:" + std::to_string(port_) + path;
}

}  // namespace mezzo::testing
