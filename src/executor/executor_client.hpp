// ExecutorClient: the agent side of any Mezzo executor, a reusable client of
// the public v1 executor API (protobuf over POST /api/v1/executor,
// mesos-reference.md §2). The command executor, the default executor and
// test executors are built on it.
//
// It SUBSCRIBEs (retried with backoff while the agent is unreachable, up to
// the environment's reconnect window), reads the event stream, and sends
// UPDATE and MESSAGE calls one at a time in order. Every update gets a fresh
// uuid and is kept until the agent answers ACKNOWLEDGED; unacknowledged
// updates, and launched tasks none of whose updates were acknowledged yet,
// travel inside the next SUBSCRIBE after a disconnection.
//
// Every event but ACKNOWLEDGED, ERROR (logged) and HEARTBEAT goes to
// `Handlers::onEvent` (SUBSCRIBED after the client has noted it). `onAgentLost` is called once when the agent refused
// the executor or stayed unreachable: the executor should kill its tasks
// and exit.
//
// Thread-safety: everything runs on the one io_context thread passed in.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "executor/executor_env.hpp"
#include "mezzo/common/recordio.hpp"
#include "mezzo/net/http_client.hpp"
#include "mezzo/v1/executor/executor.pb.h"

namespace mezzo::executor {

class ExecutorClient {
 public:
  struct Handlers {
    std::function<void(const v1::executor::Event&)> onEvent;
    std::function<void(const v1::TaskID&)> onAcknowledged;  // after the bookkeeping
    std::function<void(const std::string& why)> onAgentLost;
  };

  ExecutorClient(boost::asio::io_context& io, ExecutorEnvironment env, Handlers handlers);
  ~ExecutorClient();

  void start();
  // Closes the stream and drops queued calls; nothing is sent afterwards.
  void close();

  // Remembers a launched task until one of its updates is acknowledged.
  void rememberTask(const v1::TaskInfo& task);
  // Sends an UPDATE for `status` (uuid, timestamp, source, executor_id are
  // filled in) and keeps it until acknowledged.
  void sendStatus(v1::TaskStatus status);
  void sendMessage(const std::string& data);

  bool allAcknowledged() const { return unacknowledged_.empty(); }
  bool callInFlight() const { return callInFlight_; }
  // Runs `done` once no call is in flight (at once if none is).
  void whenIdle(std::function<void()> done);
  const std::optional<v1::FrameworkInfo>& frameworkInfo() const { return frameworkInfo_; }
  bool frameworkHasCapability(v1::FrameworkInfo::Capability::Type type) const;
  const ExecutorEnvironment& environment() const { return env_; }

 private:
  void subscribe();
  void onSubscribeResponse(uint64_t generation, const net::ClientResponse& head);
  void onData(uint64_t generation, std::string_view data);
  void onClosed(uint64_t generation, const Status& status);
  void scheduleResubscribe();
  v1::executor::Call subscribeCall() const;
  v1::executor::Call newCall(v1::executor::Call::Type type) const;
  void sendCall(v1::executor::Call call);
  void sendNextCall();
  void handleEvent(const v1::executor::Event& event);
  void agentLost(const std::string& why);

  boost::asio::io_context& io_;
  ExecutorEnvironment env_;
  Handlers handlers_;

  std::shared_ptr<net::HttpStream> stream_;
  uint64_t generation_ = 0;
  RecordIoDecoder decoder_;
  unsigned lastSubscribeStatus_ = 0;
  bool subscribed_ = false;
  bool closed_ = false;
  Duration backoff_{};
  std::optional<std::chrono::steady_clock::time_point> disconnectedSince_;
  boost::asio::steady_timer resubscribeTimer_;
  std::deque<v1::executor::Call> calls_;
  bool callInFlight_ = false;
  uint64_t callGeneration_ = 0;
  std::function<void()> whenIdle_;

  std::optional<v1::FrameworkInfo> frameworkInfo_;
  std::map<std::string, v1::TaskInfo> unacknowledgedTasks_;
  std::vector<v1::executor::Call::Update> unacknowledged_;
};

}  // namespace mezzo::executor
