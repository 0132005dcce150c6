#include "harness/zookeeper_server.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <vector>

#include "ha/zookeeper_server_setup.hpp"
#include "harness/process.hpp"

extern char** environ;

namespace mezzo::testing {

namespace fs = std::filesystem;

ZooKeeperServer::ZooKeeperServer()
    : port_(freePort()), dir_(fs::temp_directory_path() / ("mezzo-zk-" + std::to_string(port_))) {
  auto config = ha::writeStandaloneZooKeeperConfig(dir_, port_);
  if (!config) return;
  auto command = ha::zooKeeperServerCommand(*config);
  if (!command) return;
  std::vector<char*> argv;
  for (auto& arg : *command) argv.push_back(arg.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  std::string log = (dir_ / "server.log").string();
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  available_ = posix_spawnp(&pid_, argv[0], &actions, nullptr, argv.data(), environ) == 0;
  posix_spawn_file_actions_destroy(&actions);
  if (available_) available_ = ha::waitForZooKeeper(port_, std::chrono::seconds(15));
}

ZooKeeperServer::~ZooKeeperServer() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  std::error_code ignored;
  fs::remove_all(dir_, ignored);
}

std::string ZooKeeperServer::url(const std::string& path) const {
  return "zk://127.0.0.1:" + std::to_string(port_) + path;
}

}  // namespace mezzo::testing
