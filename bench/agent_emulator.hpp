// AgentEmulator: many agents in one process, speaking the internal agent
// protocol (proto/mezzo/internal/agent_protocol.proto) to a real master, for
// the re-registration benchmark (bench/reregistration_bench.cpp).
//
// Each emulated agent opens `POST /internal/v1/agent` with a REGISTER call
// (cpus:16;mem:16384; when re-registering: its id, one framework and its
// tasks, TASK_RUNNING, cpus:1;mem:128 each) and keeps the RecordIO event
// stream open; it answers PING with PONG (protocol version 2) and notes
// REGISTERED. At most `concurrency` registrations are in flight at a time
// (sent, REGISTERED not yet received); a refused or broken registration is
// retried after 200 ms, at most 20 times. Each open stream is one socket, so
// the process needs `agents` plus a few hundred open files.
//
// Thread-safety: every member function must run on the io_context's thread
// (post to it); counters() may be read from any thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "mezzo/common/recordio.hpp"
#include "mezzo/net/http_client.hpp"

namespace mezzo::bench {

struct EmulatorOptions {
  size_t agents = 10'000;
  size_t tasksPerAgent = 10;
  size_t concurrency = 1'000;
};

class AgentEmulator {
 public:
  enum class Mode { kNewAgents, kReregisterWithTasks };

  AgentEmulator(boost::asio::io_context& io, net::Endpoint master, EmulatorOptions options);
  ~AgentEmulator();

  // (Re-)registers every agent; `done` runs once all have their REGISTERED
  // (or gave up: see failed()).
  void registerAll(Mode mode, std::function<void()> done);
  // Closes every stream (the agents "lose" the master).
  void closeAll();

  size_t registered() const { return registered_.load(); }
  size_t failed() const { return failed_.load(); }
  size_t pongs() const { return pongs_.load(); }
  // When the last REGISTERED of the current round arrived.
  std::chrono::steady_clock::time_point lastRegistered() const { return lastRegistered_; }

 private:
  struct Agent;
  void startMore();
  void connect(Agent& agent);
  void onRecords(Agent& agent, std::string_view data);
  void onRegistrationOver(Agent& agent, bool ok);
  void retryLater(Agent& agent);
  void pong(const Agent& agent);
  std::string registerBody(const Agent& agent) const;

  boost::asio::io_context& io_;
  net::Endpoint master_;
  EmulatorOptions options_;
  Mode mode_ = Mode::kNewAgents;
  std::vector<std::unique_ptr<Agent>> agents_;
  std::deque<size_t> waiting_;  // agents not yet started this round
  size_t inFlight_ = 0;
  size_t finished_ = 0;
  std::function<void()> done_;
  std::atomic<size_t> registered_{0};
  std::atomic<size_t> failed_{0};
  std::atomic<size_t> pongs_{0};
  std::chrono::steady_clock::time_point lastRegistered_{};
};

}  // namespace mezzo::bench
