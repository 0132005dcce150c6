// CheckRunner: runs one task check (a CheckInfo: COMMAND, HTTP or TCP)
// again and again, as Mesos's checks/checker_process.cpp does, and hands
// each raw outcome to its owner: HealthChecker judges them, TaskChecker
// reports them.
//
// After `delay_seconds` it runs one probe at a time (check_probes.hpp),
// each bounded by `timeout_seconds` (0: no bound); the next starts
// `interval_seconds` after the previous one ended. HTTP: GET
// http://127.0.0.1:<port><path> ([::1] for IPv6); TCP: connect to
// 127.0.0.1:<port>; COMMAND: the command, spawned like task commands in
// `workingDirectory`. An outcome is a CheckStatusInfo (HTTP status code,
// TCP succeeded true/false, COMMAND exit code) or, as in Mesos, an error
// when there is none (timeout, HTTP connection failure, command killed by a
// signal or not started).
//
// stop() ends checking for good (a running command probe is killed); no
// callback comes after it, nor after the runner is destroyed.
//
// Thread-safety: everything runs on the one io_context thread passed in.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <memory>
#include <string>

#include "executor/child_watcher.hpp"
#include "mezzo/common/clock.hpp"
#include "mezzo/common/status.hpp"
#include "mezzo/v1/mesos.pb.h"

namespace mezzo::executor {

class CheckRunner : public std::enable_shared_from_this<CheckRunner> {
 public:
  using OnResult = std::function<void(const Result<v1::CheckStatusInfo>&)>;

  struct Options {
    v1::CheckInfo check;  // valid (validateCheckInfo)
    v1::NetworkInfo::Protocol protocol = v1::NetworkInfo::IPv4;
    std::string name;  // for logs: "HTTP health check of task web"
    std::string workingDirectory;
  };

  // Starts now: the first probe runs after the check's delay.
  static std::shared_ptr<CheckRunner> start(boost::asio::io_context& io, ChildWatcher& children, Options options,
                                            OnResult onResult);

  CheckRunner(boost::asio::io_context& io, ChildWatcher& children, Options options, OnResult onResult);
  ~CheckRunner();
  CheckRunner(const CheckRunner&) = delete;
  CheckRunner& operator=(const CheckRunner&) = delete;

  void stop();

 private:
  void schedule(Duration after);
  void runProbe();
  void probed(const Result<v1::CheckStatusInfo>& outcome);
  void killCommandProbe() noexcept;

  boost::asio::io_context& io_;
  ChildWatcher& children_;
  Options options_;
  OnResult onResult_;
  boost::asio::steady_timer timer_;
  pid_t commandProbe_ = -1;  // process group of a running COMMAND probe
  uint64_t round_ = 0;       // tells the current probe's answer from a stale one
  bool stopped_ = false;
};

// Seconds from a check, bounded (0 to one year) so that timers cannot overflow.
Duration checkSeconds(double seconds);

}  // namespace mezzo::executor
