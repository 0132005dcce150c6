// A bare v1 scheduler client for tests, written from the wire spec rather
// than on top of our client library, so that the tests check the master
// against the protocol and not against our own client.
//
// SchedulerSession opens SUBSCRIBE on a background io thread, decodes the
// RecordIO stream (JSON or protobuf) into Events and queues them; test code
// waits for events with a timeout and sends calls (each on its own
// connection) with the Mesos-Stream-Id and framework id filled in.
//
// Thread-safety: methods are called from the test thread; the event queue is
// guarded by a mutex shared with the io thread.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

#include "mezzo/common/codec.hpp"
#include "mezzo/net/http_client.hpp"
#include "mezzo/v1/scheduler/scheduler.pb.h"

namespace mezzo::testing {

using v1::scheduler::Call;
using v1::scheduler::Event;

class SchedulerSession {
 public:
  explicit SchedulerSession(net::Endpoint master, MediaType mediaType = MediaType::kJson);
  ~SchedulerSession();

  // Sends SUBSCRIBE and waits for the response head. Returns the HTTP status
  // (200 on success, with the stream id and framework id recorded once
  // SUBSCRIBED arrives).
  unsigned subscribe(const Call& call, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Closes the subscription connection (as a crashed scheduler would).
  void disconnect();

  // Waits for the next event that satisfies `match`, discarding others
  // that come before it only if `discard` is true.
  std::optional<Event> waitFor(const std::function<bool(const Event&)>& match,
                               std::chrono::milliseconds timeout = std::chrono::seconds(15));
  std::optional<Event> waitForType(Event::Type type, std::chrono::milliseconds timeout = std::chrono::seconds(15));
  // The next UPDATE for `taskId` (any state).
  std::optional<v1::TaskStatus> waitForUpdate(const std::string& taskId,
                                              std::chrono::milliseconds timeout = std::chrono::seconds(15));
  // Waits for UPDATEs of `taskId` until `state` (acknowledging each with a uuid).
  std::vector<v1::TaskStatus> followTask(const std::string& taskId, v1::TaskState until,
                                         std::chrono::milliseconds timeout = std::chrono::seconds(20));
  std::vector<Event> eventsSoFar();

  // Sends a call with framework_id and Mesos-Stream-Id set; returns the response.
  Result<net::ClientResponse> call(Call call);
  Status acknowledge(const v1::TaskStatus& status);

  const std::string& streamId() const { return streamId_; }
  const std::string& frameworkId() const { return frameworkId_; }
  bool streamClosed();
  const net::Endpoint& master() const { return master_; }

 private:
  void onData(std::string_view data);

  net::Endpoint master_;
  MediaType mediaType_;
  boost::asio::io_context io_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  std::thread thread_;
  std::shared_ptr<net::HttpStream> stream_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Event> events_;
  std::vector<Event> history_;
  std::string buffer_;
  std::string streamId_;
  std::string frameworkId_;
  unsigned status_ = 0;
  bool headReceived_ = false;
  bool closed_ = false;
};

// The first offer of the next non-empty OFFERS event.
std::optional<v1::Offer> waitForOffer(SchedulerSession& session,
                                      std::chrono::milliseconds timeout = std::chrono::seconds(15));

Call subscribeCall(const std::string& name, double failoverTimeout = 0,
                   std::vector<v1::FrameworkInfo::Capability::Type> capabilities = {},
                   const std::string& frameworkId = "");
// A command task using `resources` out of `offer`.
v1::TaskInfo commandTask(const std::string& id, const v1::Offer& offer, const std::string& command,
                         const std::string& resources = "cpus:0.1;mem:32");
Call launchCall(const v1::Offer& offer, const std::vector<v1::TaskInfo>& tasks);
// KILL of `taskId` on the offer's agent.
Call killCall(const std::string& taskId, const v1::Offer& offer);

}  // namespace mezzo::testing
