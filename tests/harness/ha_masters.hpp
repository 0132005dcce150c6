// Test harness: a real ZooKeeper and three mezzo-master processes contending
// for leadership under one --zk path, with helpers to find the leader once
// every live master agrees on it.
//
// Thread-safety: use from the test's thread.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "harness/process.hpp"
#include "harness/zookeeper_server.hpp"

namespace mezzo::testing {

class HaMasters {
 public:
  // `extraFlags` are added to every master's command line.
  explicit HaMasters(std::vector<std::string> extraFlags = {}, size_t count = 3,
                     std::string sessionTimeout = "2secs");
  ~HaMasters();

  // False when ZooKeeper could not be started (tests skip with that reason).
  bool available() const { return zookeeper_.available(); }
  std::string zkUrl() const { return zookeeper_.url("/mezzo"); }
  const std::filesystem::path& dir() const { return dir_; }
  size_t size() const { return ports_.size(); }
  net::Endpoint endpoint(size_t i) const { return {"127.0.0.1", ports_.at(i)}; }
  DaemonProcess& process(size_t i) { return *processes_.at(i); }
  void start(size_t i);

  // Index of the one master whose /state says elected, once exactly one does
  // and every live master names it as leader.
  std::optional<size_t> waitForLeader(std::chrono::milliseconds timeout);

 private:
  ZooKeeperServer zookeeper_;
  std::filesystem::path dir_;
  std::vector<std::string> extraFlags_;
  std::string sessionTimeout_;
  std::vector<uint16_t> ports_;
  std::vector<std::unique_ptr<DaemonProcess>> processes_;
};

}  // namespace mezzo::testing
