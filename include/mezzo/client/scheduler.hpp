// Scheduler: Mezzo's C++ client of the v1 scheduler HTTP API
// (mesos-reference.md §1), the base of every framework we ship.
//
// What it does for the framework:
// - SUBSCRIBE (POST /api/v1/scheduler with Accept), following 307 redirects
//   from non-leading masters (`Location: //host:port/path`, a few hops);
// - keeps the `Mesos-Stream-Id` and decodes the RecordIO event stream (JSON
//   or protobuf) into one callback per event type;
// - a watchdog drops the stream after `missedHeartbeats` heartbeat intervals
//   without a byte; any lost stream is re-subscribed after an exponential,
//   jittered backoff (1 s doubling to 15 s by default), with the framework id
//   the master gave, so a framework with a failover_timeout keeps its tasks;
// - sends every other call as its own POST carrying the stream id and the
//   framework id, and reports any answer but 202 to the call's callback (or,
//   without one, to SchedulerCallbacks::onCallFailed).
//
// Lifecycle: start() subscribes; stop() closes the stream and stays stopped
// (the master keeps the framework for its failover_timeout); teardown() asks
// the master to remove the framework, then stops. An ERROR event or a SUBSCRIBE
// refused with a 4xx is fatal: onError is called and the scheduler stops
// (start() may be called again). Calls made while not subscribed fail with
// kFailedPrecondition.
//
// Thread-safety: not synchronised. Construct, call and destroy a Scheduler on
// the thread that runs its io_context; every callback runs on that thread.
// Callbacks may call any method (including stop()) but must not destroy the
// Scheduler; no callback runs after the Scheduler is destroyed.
#pragma once

#include <boost/asio/io_context.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "mezzo/common/clock.hpp"
#include "mezzo/common/codec.hpp"
#include "mezzo/common/status.hpp"
#include "mezzo/common/task_states.hpp"
#include "mezzo/net/http_client.hpp"
#include "mezzo/v1/scheduler/scheduler.pb.h"

namespace mezzo::client {

struct SchedulerOptions {
  std::string master = "127.0.0.1:5050";  // host:port (http:// tolerated)
  // Set framework.id to fail over to an existing framework.
  v1::FrameworkInfo framework;
  MediaType contentType = MediaType::kJson;  // of calls and of the event stream
  Duration initialBackoff = std::chrono::seconds(1);
  Duration maxBackoff = std::chrono::seconds(15);
  uint64_t jitterSeed = 0;  // 0: random
  int maxRedirects = 5;
  int missedHeartbeats = 5;
  // Heartbeat interval assumed until SUBSCRIBED says otherwise.
  Duration defaultHeartbeatInterval = std::chrono::seconds(15);
  // Connect plus the response head of SUBSCRIBE.
  Duration subscribeTimeout = std::chrono::seconds(10);
  Duration callTimeout = std::chrono::seconds(15);
  std::string path = "/api/v1/scheduler";
};

struct SchedulerCallbacks {
  std::function<void(const v1::FrameworkID& id, Duration heartbeatInterval)> onSubscribed;
  std::function<void(const std::vector<v1::Offer>& offers)> onOffers;
  std::function<void(const v1::OfferID& offerId)> onRescind;
  // Acknowledge with Scheduler::acknowledge(status) once handled.
  std::function<void(const v1::TaskStatus& status)> onUpdate;
  std::function<void(const v1::AgentID& agent, const v1::ExecutorID& executor, const std::string& data)> onMessage;
  std::function<void(const v1::scheduler::Event::Failure& failure)> onFailure;
  // Fatal (ERROR event, refused SUBSCRIBE, too many redirects); the scheduler
  // has stopped when this runs.
  std::function<void(const std::string& message)> onError;
  std::function<void()> onHeartbeat;
  // An established subscription was lost; a re-subscription follows after
  // the backoff unless stop() is called.
  std::function<void(const Status& reason)> onDisconnected;
  // A call sent without its own callback was not answered 202.
  std::function<void(v1::scheduler::Call::Type type, const Status& status)> onCallFailed;
};

// True for the terminal task states (see mezzo/common/task_states.hpp).
using mezzo::isTerminalState;

class Scheduler {
 public:
  // Called with the outcome of a call: OK for 202; kInvalidArgument (400),
  // kPermissionDenied (403), kNotFound (404), kUnavailable (503, no answer),
  // kFailedPrecondition (not subscribed), kInternal (anything else). The
  // message holds the HTTP status and the master's explanation.
  using CallCallback = std::function<void(const Status& status)>;

  Scheduler(boost::asio::io_context& io, SchedulerOptions options, SchedulerCallbacks callbacks);
  Scheduler(boost::asio::io_context& io, std::string master, v1::FrameworkInfo framework, SchedulerCallbacks callbacks,
            MediaType contentType = MediaType::kJson);
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  void start();
  void stop();
  // Drops the current stream as a network failure would (onDisconnected,
  // backoff, re-subscribe with the same framework id).
  void reconnect();

  bool subscribed() const;
  bool stopped() const;
  // Set once the master assigned one (or given in the options).
  std::optional<v1::FrameworkID> frameworkId() const;
  const std::string& streamId() const;
  // The master currently talked to (after redirects).
  const net::Endpoint& masterEndpoint() const;
  // MasterInfo from the last SUBSCRIBED.
  const v1::MasterInfo& masterInfo() const;
  // Why the last connection attempt or stream ended.
  const Status& lastError() const;

  void accept(const std::vector<v1::OfferID>& offerIds, const std::vector<v1::Offer::Operation>& operations,
              const std::optional<v1::Filters>& filters = std::nullopt, CallCallback done = {});
  void launch(const v1::Offer& offer, std::vector<v1::TaskInfo> tasks,
              const std::optional<v1::Filters>& filters = std::nullopt, CallCallback done = {});
  void decline(const std::vector<v1::OfferID>& offerIds, const std::optional<v1::Filters>& filters = std::nullopt,
               CallCallback done = {});
  void revive(const std::vector<std::string>& roles = {}, CallCallback done = {});
  void suppress(const std::vector<std::string>& roles = {}, CallCallback done = {});
  void kill(const v1::TaskID& taskId, const std::optional<v1::AgentID>& agentId = std::nullopt, CallCallback done = {});
  void shutdown(const v1::ExecutorID& executorId, const v1::AgentID& agentId, CallCallback done = {});
  // Sends ACKNOWLEDGE when the status carries a uuid; returns whether it did.
  bool acknowledge(const v1::TaskStatus& status, CallCallback done = {});
  void reconcile(const std::vector<v1::scheduler::Call::Reconcile::Task>& tasks = {}, CallCallback done = {});
  void message(const v1::AgentID& agentId, const v1::ExecutorID& executorId, std::string data, CallCallback done = {});
  void request(const std::vector<v1::Request>& requests, CallCallback done = {});
  // Removes the framework; the scheduler stops once the master answered.
  void teardown(CallCallback done = {});
  // Any call; framework_id is filled in.
  void send(v1::scheduler::Call call, CallCallback done = {});

 private:
  class Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace mezzo::client
