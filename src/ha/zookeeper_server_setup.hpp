// How to run a standalone ZooKeeper from Debian's `zookeeper` package, for
// `mezzo local --ha` and the test harness (platform-notes.md): the server's
// command line, a minimal zoo.cfg on loopback, and a readiness probe (the
// `srvr` four-letter command answers with a `Mode:` line once it serves).
//
// Thread-safety: stateless functions.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "mezzo/common/status.hpp"

namespace mezzo::ha {

// Writes `dir`/zoo.cfg (data in `dir`/data, client port on 127.0.0.1) and
// returns its path. tickTime 500 ms allows session timeouts from 1 s.
Result<std::filesystem::path> writeStandaloneZooKeeperConfig(const std::filesystem::path& dir, uint16_t port);

// argv of the server (argv[0] is the full path of `java` from PATH), or an
// error naming the missing package when the jars or java are not installed.
Result<std::vector<std::string>> zooKeeperServerCommand(const std::filesystem::path& config);

// True once a ZooKeeper on 127.0.0.1:port serves requests; never waits
// longer than `timeout` for the answer.
bool zooKeeperServing(uint16_t port, std::chrono::milliseconds timeout = std::chrono::seconds(2));
// Polls zooKeeperServing() until true or `timeout`; gives up at once when
// `serverRunning` (if given) says the server process has exited, e.g. because
// another process took its port.
bool waitForZooKeeper(uint16_t port, std::chrono::milliseconds timeout,
                      const std::function<bool()>& serverRunning = {});

}  // namespace mezzo::ha
