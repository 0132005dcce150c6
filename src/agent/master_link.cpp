// The agent's side of the internal agent protocol: the registration stream
// (REGISTER, then a RecordIO stream of AgentEvents), reconnection with
// backoff, the heartbeat watchdog, the serialized queue of other AgentCalls
// (each its own POST carrying Mesos-Stream-Id, answered 202), and delivery of
// status updates from the StatusUpdateManager.
#include <spdlog/spdlog.h>

#include <filesystem>

#include "agent/agent_daemon.hpp"
#include "mezzo/version.hpp"

namespace mezzo::agent {

namespace {

constexpr int kMissedHeartbeatsBeforeReconnect = 5;
constexpr auto kCallTimeout = std::chrono::seconds(10);
// At most this many queued calls go in one BATCH request (well under the
// master's body limit).
constexpr size_t kMaxCallsPerBatch = 500;

std::chrono::steady_clock::duration toSteady(Duration duration) {
  return std::chrono::duration_cast<std::chrono::steady_clock::duration>(duration);
}

}  // namespace

void AgentDaemon::onLeaderChanged(const std::optional<v1::MasterInfo>& leader) {
  leaderKnown_ = leader.has_value();
  if (!leader) {
    spdlog::warn("No leading master known");
    return;
  }
  net::Endpoint endpoint{leader->hostname(), static_cast<uint16_t>(leader->port())};
  if (registered_ && endpoint.host == master_.host && endpoint.port == master_.port) return;
  spdlog::info("Leading master is {}", endpoint.toString());
  master_ = endpoint;
  reconnectBackoff_ = Duration::zero();
  reconnectTimer_.cancel();
  connectToMaster();
}

void AgentDaemon::shutdownByMaster(const std::string& why) {
  if (stopping_) return;
  spdlog::warn("The master asked this agent to shut down ({}); killing every executor and exiting", why);
  std::error_code ec;
  std::filesystem::remove(checkpointer_.metaDir() + "/slaves/latest", ec);
  if (ec) spdlog::error("Could not forget the agent id: {}", ec.message());
  stopAndDestroy(ExecutorsToDestroy::kAll);
}

void AgentDaemon::connectToMaster() {
  if (stopping_ || !leaderKnown_) return;
  const uint64_t generation = ++masterGeneration_;
  if (auto old = std::move(masterStream_)) old->close();  // its callbacks are ignored now
  masterDecoder_ = RecordIoDecoder();
  masterStreamId_.clear();
  registered_ = false;
  dropMasterCalls();

  net::ClientRequest request;
  request.target = "/internal/v1/agent";
  request.headers = {{"Content-Type", std::string(kProtobufMediaType)},
                     {"Accept", std::string(kProtobufMediaType)}};
  request.body = registerCall().SerializeAsString();
  request.timeout = kCallTimeout;

  net::HttpStream::Callbacks callbacks;
  callbacks.onResponse = [this, generation](const net::ClientResponse& head) {
    if (generation != masterGeneration_) return;
    if (head.status == 403) {
      // Refused for good: this agent id was marked gone.
      return shutdownByMaster(head.body);
    }
    if (head.status != 200) {
      spdlog::warn("Master {} refused registration: HTTP {} {}", master_.toString(), head.status, head.body);
      return;
    }
    masterStreamId_ = head.header("Mesos-Stream-Id");
  };
  callbacks.onData = [this, generation](std::string_view data) { onMasterData(generation, data); };
  callbacks.onClose = [this, generation](const Status& status) { onMasterClosed(generation, status); };
  spdlog::info("{} with master {}", agentId_.empty() ? "Registering" : "Re-registering", master_.toString());
  masterStream_ = net::HttpStream::open(io_, master_, std::move(request), std::move(callbacks));
}

void AgentDaemon::onMasterData(uint64_t generation, std::string_view data) {
  if (generation != masterGeneration_) return;
  auto records = masterDecoder_.feed(data);
  if (!records) {
    spdlog::error("Malformed event stream from the master: {}", records.error());
    auto stream = masterStream_;
    stream->close();
    return;
  }
  for (const std::string& record : *records) {
    internal::AgentEvent event;
    if (!event.ParseFromString(record)) {
      spdlog::error("Unparseable event from the master; reconnecting");
      auto stream = masterStream_;
      stream->close();
      return;
    }
    if (!registered_ && event.type() != internal::AgentEvent::REGISTERED) {
      spdlog::warn("Ignoring {} received before REGISTERED", internal::AgentEvent::Type_Name(event.type()));
      continue;
    }
    lastMasterEvent_ = std::chrono::steady_clock::now();
    handleMasterEvent(event);
    if (generation != masterGeneration_) return;  // the handler reconnected
  }
}

void AgentDaemon::onMasterClosed(uint64_t generation, const Status& status) {
  if (generation != masterGeneration_) return;
  if (registered_) {
    spdlog::warn("Lost the master connection: {}", status.isOk() ? "stream ended" : status.message());
  } else {
    spdlog::warn("Registration with master {} failed: {}", master_.toString(),
                 status.isOk() ? "stream ended" : status.message());
  }
  ++masterGeneration_;  // nothing of the old stream counts any more
  registered_ = false;
  masterStreamId_.clear();
  dropMasterCalls();
  heartbeatTimer_.cancel();
  statusRetryTimer_.cancel();
  scheduleReconnect();
}

void AgentDaemon::scheduleReconnect() {
  if (stopping_) return;
  reconnectBackoff_ = reconnectBackoff_ == Duration::zero()
                          ? flags_.registrationBackoffMin
                          : std::min(reconnectBackoff_ * 2, flags_.registrationBackoffMax);
  reconnectTimer_.expires_after(toSteady(reconnectBackoff_));
  reconnectTimer_.async_wait([this](boost::system::error_code ec) {
    if (!ec) connectToMaster();
  });
}

void AgentDaemon::watchMasterHeartbeats() {
  const uint64_t generation = masterGeneration_;
  heartbeatTimer_.expires_after(toSteady(masterHeartbeatInterval_));
  heartbeatTimer_.async_wait([this, generation](boost::system::error_code ec) {
    if (ec || generation != masterGeneration_ || !registered_) return;
    auto silence = std::chrono::steady_clock::now() - lastMasterEvent_;
    if (silence > toSteady(masterHeartbeatInterval_ * kMissedHeartbeatsBeforeReconnect)) {
      spdlog::warn("No heartbeat from the master for {} intervals; reconnecting", kMissedHeartbeatsBeforeReconnect);
      auto stream = masterStream_;
      stream->close();  // onMasterClosed schedules the reconnection
      return;
    }
    watchMasterHeartbeats();
  });
}

internal::AgentCall AgentDaemon::registerCall() const {
  internal::AgentCall call;
  call.set_protocol_version(internal::PROTOCOL_VERSION_CURRENT);
  call.set_type(internal::AgentCall::REGISTER);
  auto* reg = call.mutable_register_();
  *reg->mutable_agent_info() = info_;
  if (!agentId_.empty()) {
    reg->mutable_agent_info()->mutable_id()->set_value(agentId_);
    call.mutable_agent_id()->set_value(agentId_);
  }
  reg->set_version(kMezzoMesosVersion);
  reg->set_ip(flags_.ip);
  for (const auto& [frameworkId, framework] : frameworks_) {
    if (framework->terminating) continue;
    *reg->add_frameworks() = framework->info;
    for (const auto& [taskId, task] : framework->tasks) {
      v1::Task* reported = reg->add_tasks();
      *reported = task;
      if (const v1::TaskStatus* head = statusUpdates_.head(frameworkId, taskId)) {
        reported->set_status_update_state(head->state());
        reported->set_status_update_uuid(head->uuid());
      }
    }
    for (const auto& [executorId, executor] : framework->executors) {
      if (!executor->commandExecutor) *reg->add_executors() = executor->info;
    }
  }
  return call;
}

void AgentDaemon::sendToMaster(internal::AgentCall call) {
  if (!registered_) {
    spdlog::debug("Not registered; dropping {} for the master", internal::AgentCall::Type_Name(call.type()));
    return;
  }
  call.set_protocol_version(internal::PROTOCOL_VERSION_CURRENT);
  call.mutable_agent_id()->set_value(agentId_);
  masterCalls_.push_back(std::move(call));
  sendNextCall();
}

// One request in flight at a time, so that the master sees calls in the
// order the agent made them (each POST is its own connection); what queued
// up meanwhile goes as one BATCH.
void AgentDaemon::sendNextCall() {
  if (masterCallInFlight_ || masterCalls_.empty()) return;
  masterCallInFlight_ = true;
  const uint64_t generation = callGeneration_;
  const size_t count = std::min(masterCalls_.size(), kMaxCallsPerBatch);
  net::ClientRequest request;
  request.target = "/internal/v1/agent";
  request.headers = {{"Content-Type", std::string(kProtobufMediaType)}, {"Mesos-Stream-Id", masterStreamId_}};
  std::string type;
  if (count == 1) {
    request.body = masterCalls_.front().SerializeAsString();
    type = internal::AgentCall::Type_Name(masterCalls_.front().type());
  } else {
    internal::AgentCall batch;
    batch.set_protocol_version(internal::PROTOCOL_VERSION_CURRENT);
    batch.set_type(internal::AgentCall::BATCH);
    batch.mutable_agent_id()->set_value(agentId_);
    for (size_t i = 0; i < count; ++i) *batch.add_calls() = masterCalls_[i];
    request.body = batch.SerializeAsString();
    type = "BATCH of " + std::to_string(count) + " calls";
  }
  request.timeout = kCallTimeout;
  net::httpRequest(io_, master_, std::move(request),
                   [this, generation, type, count](Result<net::ClientResponse> response) {
                     if (generation != callGeneration_) return;
                     if (!response) {
                       spdlog::warn("Sending {} to the master failed: {}", type, response.error());
                     } else if (response->status != 202) {
                       spdlog::warn("Master answered {} with HTTP {}: {}", type, response->status, response->body);
                     }
                     masterCalls_.erase(masterCalls_.begin(), masterCalls_.begin() + static_cast<long>(count));
                     masterCallInFlight_ = false;
                     sendNextCall();
                   });
}

void AgentDaemon::dropMasterCalls() {
  masterCalls_.clear();
  masterCallInFlight_ = false;
  ++callGeneration_;
}

void AgentDaemon::flushStatusUpdates() {
  if (!registered_) return;
  TimePoint now = clock_.now();
  for (OutgoingUpdate& update : statusUpdates_.takeDue(now)) {
    spdlog::info("Forwarding {} ({}) for task {} of framework {} to the master",
                 v1::TaskState_Name(update.status.state()), uuidBytesToString(update.status.uuid()),
                 update.status.task_id().value(), update.framework.value());
    internal::AgentCall call;
    call.set_type(internal::AgentCall::STATUS_UPDATE);
    call.mutable_status_update()->mutable_framework_id()->set_value(update.framework.value());
    *call.mutable_status_update()->mutable_status() = std::move(update.status);
    sendToMaster(std::move(call));
  }
  statusRetryTimer_.cancel();
  if (auto next = statusUpdates_.nextRetry()) {
    statusRetryTimer_.expires_after(toSteady(std::max(Duration::zero(), *next - now)));
    statusRetryTimer_.async_wait([this](boost::system::error_code ec) {
      if (!ec) flushStatusUpdates();
    });
  }
}

}  // namespace mezzo::agent
