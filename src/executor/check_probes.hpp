// One run of a task check, the way Mesos's checkers probe tasks that share
// the executor's network (checks/checker_process.cpp): an HTTP GET, a TCP
// connect or a command. Each probe reports its raw outcome (status code,
// connected, wait status) or why it could not be made; judging the outcome
// is the caller's business (HealthChecker).
//
// Every probe calls `done` exactly once, always later from the io_context
// (never inside the call), and ends within its timeout.
//
// Thread-safety: call and get called back on the io_context's thread.
#pragma once

#include <sys/types.h>

#include <boost/asio/io_context.hpp>
#include <functional>
#include <string>

#include "executor/child_watcher.hpp"
#include "mezzo/common/clock.hpp"
#include "mezzo/common/status.hpp"
#include "mezzo/net/http_client.hpp"
#include "mezzo/v1/mesos.pb.h"

namespace mezzo::executor {

// GET http://<endpoint><path> ("/" when empty); 3xx answers are followed
// (as curl -L does for Mesos) up to 5 times within the same timeout. Gives
// the final status code.
void probeHttp(boost::asio::io_context& io, const net::Endpoint& endpoint, const std::string& path, Duration timeout,
               std::function<void(Result<unsigned>)> done);

// OK once a TCP connection to `endpoint` is established (it is closed at once).
void probeTcp(boost::asio::io_context& io, const net::Endpoint& endpoint, Duration timeout,
              std::function<void(Status)> done);

// Spawns `command` like task commands (own process group, executor's
// environment plus the command's) and gives its wait status; past `timeout`
// its process group gets SIGKILL and the probe fails. Returns the probe's
// pid (its process group), or -1 when it could not start.
pid_t probeCommand(boost::asio::io_context& io, ChildWatcher& children, const v1::CommandInfo& command,
                   const std::string& workingDirectory, Duration timeout, std::function<void(Result<int>)> done);

}  // namespace mezzo::executor
