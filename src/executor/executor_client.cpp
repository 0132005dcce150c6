// ExecutorClient: subscription with retries, the event stream, the
// serialized queue of calls and the acknowledgement bookkeeping.
#include "executor/executor_client.hpp"

#include <spdlog/spdlog.h>

#include <utility>

#include "mezzo/common/codec.hpp"
#include "mezzo/common/ids.hpp"

namespace mezzo::executor {

namespace {

using Call = v1::executor::Call;
using Event = v1::executor::Event;

constexpr auto kMinBackoff = std::chrono::milliseconds(250);
constexpr auto kCallTimeout = std::chrono::seconds(10);
// The agent accepts both media types (as Mesos's does); binary protobuf is
// what Mesos's own executors speak, and it spares a short-lived executor
// building protobuf's descriptors (JSON needs them), a few ms per task.
constexpr MediaType kWireFormat = MediaType::kProtobuf;

}  // namespace

ExecutorClient::ExecutorClient(boost::asio::io_context& io, ExecutorEnvironment env, Handlers handlers)
    : io_(io), env_(std::move(env)), handlers_(std::move(handlers)), resubscribeTimer_(io) {}

ExecutorClient::~ExecutorClient() { close(); }

void ExecutorClient::start() {
  disconnectedSince_ = std::chrono::steady_clock::now();
  subscribe();
}

void ExecutorClient::close() {
  if (closed_) return;
  closed_ = true;
  ++generation_;
  ++callGeneration_;
  calls_.clear();
  resubscribeTimer_.cancel();
  if (auto stream = std::move(stream_)) stream->close();
}

bool ExecutorClient::frameworkHasCapability(v1::FrameworkInfo::Capability::Type type) const {
  if (!frameworkInfo_) return false;
  for (const auto& capability : frameworkInfo_->capabilities()) {
    if (capability.type() == type) return true;
  }
  return false;
}

Call ExecutorClient::newCall(Call::Type type) const {
  Call call;
  call.set_type(type);
  call.mutable_framework_id()->set_value(env_.frameworkId);
  call.mutable_executor_id()->set_value(env_.executorId);
  return call;
}

Call ExecutorClient::subscribeCall() const {
  Call call = newCall(Call::SUBSCRIBE);
  auto* subscribe = call.mutable_subscribe();
  for (const auto& [id, task] : unacknowledgedTasks_) *subscribe->add_unacknowledged_tasks() = task;
  for (const Call::Update& update : unacknowledged_) *subscribe->add_unacknowledged_updates() = update;
  return call;
}

void ExecutorClient::subscribe() {
  if (closed_) return;
  const uint64_t generation = ++generation_;
  if (auto old = std::move(stream_)) old->close();
  decoder_ = RecordIoDecoder();
  lastSubscribeStatus_ = 0;
  subscribed_ = false;
  // Updates made while disconnected travel inside SUBSCRIBE; no need to POST them again.
  std::erase_if(calls_, [](const Call& call) { return call.type() == Call::UPDATE; });

  net::ClientRequest request;
  request.target = "/api/v1/executor";
  const std::string mediaType(mediaTypeName(kWireFormat));
  request.headers = {{"Content-Type", mediaType}, {"Accept", mediaType}};
  request.body = encodeMessage(kWireFormat, subscribeCall());
  request.timeout = kCallTimeout;
  net::HttpStream::Callbacks callbacks;
  callbacks.onResponse = [this, generation](const net::ClientResponse& head) { onSubscribeResponse(generation, head); };
  callbacks.onData = [this, generation](std::string_view data) { onData(generation, data); };
  callbacks.onClose = [this, generation](const Status& status) { onClosed(generation, status); };
  stream_ = net::HttpStream::open(io_, env_.agent, std::move(request), std::move(callbacks));
}

void ExecutorClient::onSubscribeResponse(uint64_t generation, const net::ClientResponse& head) {
  if (generation != generation_) return;
  lastSubscribeStatus_ = head.status;
  if (head.status != 200) spdlog::warn("Agent refused SUBSCRIBE: HTTP {} {}", head.status, head.body);
}

void ExecutorClient::onData(uint64_t generation, std::string_view data) {
  if (generation != generation_) return;
  auto records = decoder_.feed(data);
  if (!records) {
    spdlog::error("Malformed event stream from the agent: {}", records.error());
    auto stream = stream_;
    stream->close();
    return;
  }
  for (const std::string& record : *records) {
    Event event;
    Status decoded = decodeMessage(kWireFormat, record, &event);
    if (!decoded) {
      spdlog::error("Unparseable event from the agent: {}", decoded.message());
      continue;
    }
    handleEvent(event);
    if (generation != generation_ || closed_) return;
  }
}

void ExecutorClient::agentLost(const std::string& why) {
  close();
  if (handlers_.onAgentLost) handlers_.onAgentLost(why);
}

void ExecutorClient::onClosed(uint64_t generation, const Status& status) {
  if (generation != generation_ || closed_) return;
  ++generation_;
  subscribed_ = false;
  calls_.clear();
  callInFlight_ = false;
  ++callGeneration_;
  // The agent does not know this executor (any more): nobody is left to report to.
  if (lastSubscribeStatus_ == 400 || lastSubscribeStatus_ == 403 || lastSubscribeStatus_ == 404) {
    return agentLost("the agent refused this executor");
  }
  auto now = std::chrono::steady_clock::now();
  if (!disconnectedSince_) disconnectedSince_ = now;
  spdlog::warn("Disconnected from the agent at {}: {}", env_.agent.toString(),
               status.isOk() ? "stream ended" : status.message());
  if (now - *disconnectedSince_ > env_.reconnectWindow()) return agentLost("the agent stayed unreachable");
  scheduleResubscribe();
}

void ExecutorClient::scheduleResubscribe() {
  backoff_ = backoff_ == Duration::zero()
                 ? Duration(kMinBackoff)
                 : std::min(backoff_ * 2, std::max(env_.subscriptionBackoffMax, Duration(kMinBackoff)));
  resubscribeTimer_.expires_after(std::chrono::duration_cast<std::chrono::milliseconds>(backoff_));
  resubscribeTimer_.async_wait([this](boost::system::error_code ec) {
    if (!ec) subscribe();
  });
}

void ExecutorClient::rememberTask(const v1::TaskInfo& task) { unacknowledgedTasks_[task.task_id().value()] = task; }

void ExecutorClient::sendStatus(v1::TaskStatus status) {
  Call::Update update;
  status.set_source(v1::TaskStatus::SOURCE_EXECUTOR);
  status.set_uuid(randomUuidBytes());
  status.set_timestamp(toEpochSeconds(SystemClock().now()));
  status.mutable_executor_id()->set_value(env_.executorId);
  *update.mutable_status() = std::move(status);
  unacknowledged_.push_back(update);
  Call call = newCall(Call::UPDATE);
  *call.mutable_update() = std::move(update);
  sendCall(std::move(call));
}

void ExecutorClient::sendMessage(const std::string& data) {
  Call call = newCall(Call::MESSAGE);
  call.mutable_message()->set_data(data);
  sendCall(std::move(call));
}

void ExecutorClient::whenIdle(std::function<void()> done) {
  if (!callInFlight_) return done();
  whenIdle_ = std::move(done);
}

void ExecutorClient::sendCall(Call call) {
  if (closed_) return;
  calls_.push_back(std::move(call));
  sendNextCall();
}

// One call at a time: each POST is its own connection, and the agent must
// see a task's updates in the order they were made.
void ExecutorClient::sendNextCall() {
  if (callInFlight_ || calls_.empty() || !subscribed_) return;
  callInFlight_ = true;
  const uint64_t generation = callGeneration_;
  net::ClientRequest request;
  request.target = "/api/v1/executor";
  request.headers = {{"Content-Type", std::string(mediaTypeName(kWireFormat))}};
  request.body = encodeMessage(kWireFormat, calls_.front());
  request.timeout = kCallTimeout;
  const Call::Type type = calls_.front().type();
  net::httpRequest(io_, env_.agent, std::move(request), [this, generation, type](Result<net::ClientResponse> response) {
    if (generation != callGeneration_) return;
    // (Enum names only here: the first one builds the protobuf descriptors, which costs a start-up.)
    if (!response) {
      spdlog::warn("{} call failed: {}", Call::Type_Name(type), response.error());
    } else if (response->status != 202) {
      spdlog::warn("Agent answered {} with HTTP {}: {}", Call::Type_Name(type), response->status, response->body);
    }
    calls_.pop_front();
    callInFlight_ = false;
    if (auto done = std::exchange(whenIdle_, nullptr)) return done();
    sendNextCall();
  });
}

void ExecutorClient::handleEvent(const Event& event) {
  switch (event.type()) {
    case Event::SUBSCRIBED:
      spdlog::info("Subscribed to agent {} as executor {}", env_.agent.toString(), env_.executorId);
      subscribed_ = true;
      backoff_ = Duration::zero();
      disconnectedSince_.reset();
      frameworkInfo_ = event.subscribed().framework_info();
      sendNextCall();
      break;
    case Event::ERROR:
      spdlog::error("Agent reported an error: {}", event.error().message());
      return;
    case Event::HEARTBEAT:
      return;
    case Event::ACKNOWLEDGED: {
      const auto& ack = event.acknowledged();
      std::erase_if(unacknowledged_, [&](const Call::Update& update) { return update.status().uuid() == ack.uuid(); });
      unacknowledgedTasks_.erase(ack.task_id().value());
      if (handlers_.onAcknowledged) handlers_.onAcknowledged(ack.task_id());
      return;
    }
    default:
      break;
  }
  if (handlers_.onEvent) handlers_.onEvent(event);
}

}  // namespace mezzo::executor
