// One-shot leader lookup for command-line tools: asks ZooKeeper once which
// master leads under a zk:// URL and returns its MasterInfo (the CLI then
// talks to that master's HTTP endpoints directly).
//
// Thread-safety: blocking; runs its own io_context on the calling thread.
#pragma once

#include <string>

#include "mezzo/common/clock.hpp"
#include "mezzo/common/status.hpp"
#include "mezzo/v1/mesos.pb.h"

namespace mezzo::ha {

// kUnavailable when no leader is known within `timeout`.
Result<v1::MasterInfo> lookUpLeader(const std::string& zkUrl, Duration timeout);

// `master` unchanged unless it is a zk:// URL, which becomes the leader's "host:port".
Result<std::string> resolveMasterAddress(const std::string& master, Duration timeout);

}  // namespace mezzo::ha
