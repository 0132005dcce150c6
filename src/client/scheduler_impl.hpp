// Private state of client::Scheduler, shared by scheduler.cpp (subscription,
// stream, reconnection) and scheduler_calls.cpp (calls).
//
// Invariants: `generation_` changes whenever the current stream is replaced
// or abandoned; asynchronous completions carry the generation they belong to
// and are ignored when it is stale. Asynchronous work holds only weak
// references to the Impl, so nothing runs after the Scheduler is destroyed.
//
// Thread-safety: as client::Scheduler (one io_context thread).
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <optional>

#include "mezzo/client/backoff.hpp"
#include "mezzo/client/event_stream.hpp"
#include "mezzo/client/redirect.hpp"
#include "ha/zookeeper.hpp"
#include "mezzo/client/scheduler.hpp"

namespace mezzo::client {

class Scheduler::Impl : public std::enable_shared_from_this<Scheduler::Impl> {
 public:
  enum class State {
    kIdle,        // not connected; a (re)connection may be pending
    kConnecting,  // SUBSCRIBE sent, no 200 yet
    kConnected,   // 200 received, SUBSCRIBED not yet
    kSubscribed,
    kStopped,
  };

  Impl(boost::asio::io_context& io, SchedulerOptions options, SchedulerCallbacks callbacks);

  void start();
  void stop();
  void reconnect();
  void send(v1::scheduler::Call call, CallCallback done);
  // Sends TEARDOWN and stops once it is answered.
  void teardown(CallCallback done);

  boost::asio::io_context& io_;
  SchedulerOptions options_;
  SchedulerCallbacks callbacks_;
  net::Endpoint configuredMaster_;
  Status configError_;
  // With a zk:// master: the leader comes from ZooKeeper (configuredMaster_
  // follows it); connecting waits until a leader is known.
  std::shared_ptr<ha::ZooKeeperGroup> zooKeeper_;
  std::unique_ptr<ha::Detector> detector_;
  bool leaderKnown_ = true;
  bool waitingForLeader_ = false;
  bool detectorStarted_ = false;
  net::Endpoint endpoint_;
  std::string path_;
  State state_ = State::kIdle;
  uint64_t generation_ = 0;
  std::shared_ptr<net::HttpStream> stream_;
  std::optional<EventStreamDecoder<v1::scheduler::Event>> decoder_;
  std::string streamId_;
  std::optional<v1::FrameworkID> frameworkId_;
  v1::MasterInfo masterInfo_;
  Duration heartbeat_ = std::chrono::seconds(15);
  std::chrono::steady_clock::time_point lastActivity_;
  Backoff backoff_;
  boost::asio::steady_timer watchdogTimer_;
  boost::asio::steady_timer reconnectTimer_;
  int redirects_ = 0;
  std::optional<RedirectTarget> pendingRedirect_;
  std::optional<std::string> fatalError_;
  bool stopAfterClose_ = false;
  Status lastError_;

 private:
  void connect();
  void startDetector();
  void closeStream();
  void onHead(const net::ClientResponse& head);
  void onData(std::string_view data);
  void dispatch(const v1::scheduler::Event& event);
  void onStreamClosed(const Status& status);
  Duration watchdogTimeout() const;
  void armWatchdog();
};

}  // namespace mezzo::client
