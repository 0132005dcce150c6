// ZooKeeperServer: a real standalone ZooKeeper (Debian's `zookeeper`
// package) started by a test in a temp dir on a free loopback port, as
// platform-notes.md describes; killed and removed when destroyed.
//
// Thread-safety: use from the test's thread.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>

namespace mezzo::testing {

class ZooKeeperServer {
 public:
  ZooKeeperServer();
  ~ZooKeeperServer();
  ZooKeeperServer(const ZooKeeperServer&) = delete;
  ZooKeeperServer& operator=(const ZooKeeperServer&) = delete;

  // False when java or the zookeeper jars are missing or it did not come up.
  bool available() const { return available_; }
  // zk://127.0.0.1:<port><path>
  std::string url(const std::string& path) const;
  uint16_t port() const { return port_; }

 private:
  bool start();  // spawns the server on port_ in dir_; false when not installed
  void stop();   // kills it and removes dir_

  uint16_t port_ = 0;
  std::filesystem::path dir_;
  pid_t pid_ = -1;
  bool available_ = false;
};

}  // namespace mezzo::testing
