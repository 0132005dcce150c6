// The command executor's side of the v1 executor API: SUBSCRIBE with
// retries, the event stream, and the serialized queue of other calls.
#include <spdlog/spdlog.h>

#include "executor/command_executor.hpp"
#include "mezzo/common/codec.hpp"

namespace mezzo::executor {

namespace {

using Call = v1::executor::Call;
using Event = v1::executor::Event;

constexpr auto kMinBackoff = std::chrono::milliseconds(250);
constexpr auto kCallTimeout = std::chrono::seconds(10);

}  // namespace

Call CommandExecutor::newCall(Call::Type type) const {
  Call call;
  call.set_type(type);
  call.mutable_framework_id()->set_value(env_.frameworkId);
  call.mutable_executor_id()->set_value(env_.executorId);
  return call;
}

Call CommandExecutor::subscribeCall() const {
  Call call = newCall(Call::SUBSCRIBE);
  auto* subscribe = call.mutable_subscribe();
  if (task_ && taskUnacknowledged_) *subscribe->add_unacknowledged_tasks() = *task_;
  for (const Call::Update& update : unacknowledged_) *subscribe->add_unacknowledged_updates() = update;
  return call;
}

void CommandExecutor::subscribe() {
  if (exiting_) return;
  const uint64_t generation = ++generation_;
  if (auto old = std::move(stream_)) old->close();
  decoder_ = RecordIoDecoder();
  lastSubscribeStatus_ = 0;
  subscribed_ = false;
  // Updates made while disconnected travel inside SUBSCRIBE; no need to POST them again.
  std::erase_if(calls_, [](const Call& call) { return call.type() == Call::UPDATE; });

  net::ClientRequest request;
  request.target = "/api/v1/executor";
  request.headers = {{"Content-Type", std::string(kJsonMediaType)}, {"Accept", std::string(kJsonMediaType)}};
  request.body = encodeMessage(MediaType::kJson, subscribeCall());
  request.timeout = kCallTimeout;
  net::HttpStream::Callbacks callbacks;
  callbacks.onResponse = [this, generation](const net::ClientResponse& head) {
    onSubscribeResponse(generation, head);
  };
  callbacks.onData = [this, generation](std::string_view data) { onData(generation, data); };
  callbacks.onClose = [this, generation](const Status& status) { onClosed(generation, status); };
  stream_ = net::HttpStream::open(io_, env_.agent, std::move(request), std::move(callbacks));
}

void CommandExecutor::onSubscribeResponse(uint64_t generation, const net::ClientResponse& head) {
  if (generation != generation_) return;
  lastSubscribeStatus_ = head.status;
  if (head.status != 200) spdlog::warn("Agent refused SUBSCRIBE: HTTP {} {}", head.status, head.body);
}

void CommandExecutor::onData(uint64_t generation, std::string_view data) {
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
    Status decoded = decodeMessage(MediaType::kJson, record, &event);
    if (!decoded) {
      spdlog::error("Unparseable event from the agent: {}", decoded.message());
      continue;
    }
    handleEvent(event);
    if (generation != generation_ || exiting_) return;
  }
}

void CommandExecutor::onClosed(uint64_t generation, const Status& status) {
  if (generation != generation_ || exiting_) return;
  ++generation_;
  subscribed_ = false;
  calls_.clear();
  callInFlight_ = false;
  ++callGeneration_;
  // The agent does not know this executor (any more): nobody is left to report to.
  if (lastSubscribeStatus_ == 400 || lastSubscribeStatus_ == 403 || lastSubscribeStatus_ == 404) {
    spdlog::error("The agent refused this executor; killing the task and exiting");
    if (taskPid_ > 0) ::killpg(taskPid_, SIGKILL);
    return exit(1);
  }
  auto now = std::chrono::steady_clock::now();
  if (!disconnectedSince_) disconnectedSince_ = now;
  spdlog::warn("Disconnected from the agent at {}: {}", env_.agent.toString(),
               status.isOk() ? "stream ended" : status.message());
  if (now - *disconnectedSince_ > env_.reconnectWindow()) {
    spdlog::error("The agent stayed unreachable; killing the task and exiting");
    if (taskPid_ > 0) ::killpg(taskPid_, SIGKILL);
    return exit(1);
  }
  scheduleResubscribe();
}

void CommandExecutor::scheduleResubscribe() {
  backoff_ = backoff_ == Duration::zero() ? Duration(kMinBackoff)
                                          : std::min(backoff_ * 2, std::max(env_.subscriptionBackoffMax,
                                                                            Duration(kMinBackoff)));
  resubscribeTimer_.expires_after(std::chrono::duration_cast<std::chrono::milliseconds>(backoff_));
  resubscribeTimer_.async_wait([this](boost::system::error_code ec) {
    if (!ec) subscribe();
  });
}

void CommandExecutor::sendCall(Call call) {
  calls_.push_back(std::move(call));
  sendNextCall();
}

// One call at a time: each POST is its own connection, and the agent must
// see a task's updates in the order they were made.
void CommandExecutor::sendNextCall() {
  if (callInFlight_ || calls_.empty() || !subscribed_) return;
  callInFlight_ = true;
  const uint64_t generation = callGeneration_;
  net::ClientRequest request;
  request.target = "/api/v1/executor";
  request.headers = {{"Content-Type", std::string(kJsonMediaType)}};
  request.body = encodeMessage(MediaType::kJson, calls_.front());
  request.timeout = kCallTimeout;
  std::string type = Call::Type_Name(calls_.front().type());
  net::httpRequest(io_, env_.agent, std::move(request), [this, generation, type](Result<net::ClientResponse> response) {
    if (generation != callGeneration_) return;
    if (!response) {
      spdlog::warn("{} call failed: {}", type, response.error());
    } else if (response->status != 202) {
      spdlog::warn("Agent answered {} with HTTP {}: {}", type, response->status, response->body);
    }
    calls_.pop_front();
    callInFlight_ = false;
    if (exitAfterCall_) {
      spdlog::warn("The terminal update was not acknowledged in time; exiting after the agent answered");
      return exit(0);
    }
    sendNextCall();
  });
}

void CommandExecutor::handleEvent(const Event& event) {
  switch (event.type()) {
    case Event::SUBSCRIBED:
      spdlog::info("Subscribed to agent {} as executor {}", env_.agent.toString(), env_.executorId);
      subscribed_ = true;
      backoff_ = Duration::zero();
      disconnectedSince_.reset();
      frameworkInfo_ = event.subscribed().framework_info();
      sendNextCall();
      return;
    case Event::LAUNCH:
      return launch(event.launch().task());
    case Event::KILL: {
      std::optional<v1::KillPolicy> policy;
      if (event.kill().has_kill_policy()) policy = event.kill().kill_policy();
      return kill(event.kill().task_id(), policy, std::nullopt);
    }
    case Event::ACKNOWLEDGED:
      return acknowledged(event.acknowledged());
    case Event::SHUTDOWN:
      spdlog::info("Received SHUTDOWN from the agent");
      return shutdown(env_.shutdownGracePeriod);
    case Event::MESSAGE:
      spdlog::info("Received a framework message of {} bytes", event.message().data().size());
      return;
    case Event::ERROR:
      spdlog::error("Agent reported an error: {}", event.error().message());
      return;
    case Event::HEARTBEAT:
      return;
    case Event::LAUNCH_GROUP:
      spdlog::error("The command executor cannot run task groups");
      return;
    default:
      spdlog::warn("Ignoring unknown event type {}", static_cast<int>(event.type()));
      return;
  }
}

void CommandExecutor::acknowledged(const Event::Acknowledged& ack) {
  std::erase_if(unacknowledged_, [&](const Call::Update& update) { return update.status().uuid() == ack.uuid(); });
  if (task_ && ack.task_id().value() == task_->task_id().value()) taskUnacknowledged_ = false;
  finishIfDone();
}

}  // namespace mezzo::executor
