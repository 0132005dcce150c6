// The subscription side of Scheduler: connecting, redirects, the event
// stream, the watchdog and reconnection. Calls are in scheduler_calls.cpp.
#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>

#include "client/scheduler_impl.hpp"
#include "mezzo/client/calls.hpp"
#include "mezzo/client/redirect.hpp"

namespace mezzo::client {

namespace asio = boost::asio;
using Event = v1::scheduler::Event;

Scheduler::Impl::Impl(asio::io_context& io, SchedulerOptions options, SchedulerCallbacks callbacks)
    : io_(io),
      options_(std::move(options)),
      callbacks_(std::move(callbacks)),
      backoff_(options_.initialBackoff, options_.maxBackoff, options_.jitterSeed),
      watchdogTimer_(io),
      reconnectTimer_(io) {
  if (options_.master.starts_with("zk://")) {
    auto url = ha::parseZooKeeperUrl(options_.master);
    auto group = url ? ha::ZooKeeperGroup::create(io_, *url, std::chrono::seconds(10))
                     : Result<std::shared_ptr<ha::ZooKeeperGroup>>(url.status());
    if (group) {
      zooKeeper_ = *group;
      detector_ = ha::makeZooKeeperDetector(zooKeeper_);
      leaderKnown_ = false;
    } else {
      configError_ = group.status();
    }
  } else if (auto master = net::parseEndpoint(options_.master)) {
    configuredMaster_ = *master;
  } else {
    configError_ = master.status();
  }
  endpoint_ = configuredMaster_;
  path_ = options_.path;
  if (options_.framework.has_id()) frameworkId_ = options_.framework.id();
}

void Scheduler::Impl::start() {
  if (state_ != State::kIdle && state_ != State::kStopped) return;
  if (!configError_.isOk()) {
    lastError_ = configError_;
    state_ = State::kStopped;
    asio::post(io_, [weak = weak_from_this(), message = configError_.message()] {
      if (auto self = weak.lock(); self && self->callbacks_.onError) self->callbacks_.onError(message);
    });
    return;
  }
  state_ = State::kIdle;
  fatalError_.reset();
  stopAfterClose_ = false;
  pendingRedirect_.reset();
  endpoint_ = configuredMaster_;
  path_ = options_.path;
  redirects_ = 0;
  backoff_.reset();
  startDetector();
  if (!leaderKnown_) {
    waitingForLeader_ = true;  // connect() once ZooKeeper names a leader
    return;
  }
  connect();
}

void Scheduler::Impl::startDetector() {
  if (!detector_ || detectorStarted_) return;
  detectorStarted_ = true;
  detector_->start([weak = weak_from_this()](const std::optional<v1::MasterInfo>& leader) {
    auto self = weak.lock();
    if (!self) return;
    self->leaderKnown_ = leader.has_value();
    if (!leader) return;
    self->configuredMaster_ = net::Endpoint{leader->hostname(), static_cast<uint16_t>(leader->port())};
    spdlog::info("Leading master is {}", self->configuredMaster_.toString());
    if (self->waitingForLeader_ && self->state_ == State::kIdle) {
      self->waitingForLeader_ = false;
      self->endpoint_ = self->configuredMaster_;
      self->connect();
    }
  });
}

void Scheduler::Impl::stop() {
  state_ = State::kStopped;
  closeStream();
  reconnectTimer_.cancel();
}

void Scheduler::Impl::reconnect() {
  if (state_ == State::kStopped) return start();
  if (!stream_) return;  // a reconnection is already pending
  closeStream();
  onStreamClosed(Status::unavailable("Reconnection requested"));
}

void Scheduler::Impl::closeStream() {
  ++generation_;  // callbacks of the old stream are ignored from now on
  watchdogTimer_.cancel();
  // Closed on the next turn of the loop: we may be inside one of the
  // stream's own callbacks, whose state close() destroys.
  if (auto stream = std::move(stream_)) asio::post(io_, [stream] { stream->close(); });
}

void Scheduler::Impl::connect() {
  if (state_ == State::kStopped) return;
  uint64_t generation = ++generation_;
  state_ = State::kConnecting;
  streamId_.clear();
  decoder_.reset();

  net::ClientRequest request;
  request.target = path_;
  request.headers = {{"Content-Type", std::string(mediaTypeName(options_.contentType))},
                     {"Accept", std::string(mediaTypeName(options_.contentType))}};
  request.body = encodeMessage(options_.contentType, calls::subscribe(options_.framework, frameworkId_));
  request.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(options_.subscribeTimeout);

  spdlog::debug("Subscribing to master at {}{}", endpoint_.toString(), path_);
  auto weak = weak_from_this();
  auto current = [weak, generation]() -> std::shared_ptr<Impl> {
    auto self = weak.lock();
    return self && self->generation_ == generation ? self : nullptr;
  };
  net::HttpStream::Callbacks callbacks;
  callbacks.onResponse = [current](const net::ClientResponse& head) {
    if (auto self = current()) self->onHead(head);
  };
  callbacks.onData = [current](std::string_view data) {
    if (auto self = current()) self->onData(data);
  };
  callbacks.onClose = [current](const Status& status) {
    if (auto self = current()) {
      self->stream_.reset();
      self->onStreamClosed(status);
    }
  };
  lastActivity_ = std::chrono::steady_clock::now();
  stream_ = net::HttpStream::open(io_, endpoint_, std::move(request), std::move(callbacks));
  armWatchdog();
}

void Scheduler::Impl::onHead(const net::ClientResponse& head) {
  lastActivity_ = std::chrono::steady_clock::now();
  if (head.status == 307 || head.status == 301 || head.status == 302 || head.status == 308) {
    auto target = parseRedirectLocation(head.header("Location"), endpoint_, options_.path);
    if (!target) {
      fatalError_ = "SUBSCRIBE redirected to an unusable location: " + target.error();
    } else if (++redirects_ > options_.maxRedirects) {
      fatalError_ = "SUBSCRIBE redirected more than " + std::to_string(options_.maxRedirects) + " times";
    } else {
      spdlog::info("Master at {} redirected to {}", endpoint_.toString(), target->endpoint.toString());
      pendingRedirect_ = std::move(*target);
    }
    return;  // the stream's onClose follows
  }
  if (head.status != 200) {
    std::string message = "SUBSCRIBE answered HTTP " + std::to_string(head.status);
    if (!head.body.empty()) message += ": " + head.body;
    // 4xx: the master understood and refused; retrying would not help.
    if (head.status / 100 == 4) fatalError_ = message;
    lastError_ = Status::unavailable(message);
    return;
  }
  streamId_ = head.header("Mesos-Stream-Id");
  if (streamId_.empty()) {
    lastError_ = Status::unavailable("SUBSCRIBE response carries no Mesos-Stream-Id");
    closeStream();
    return onStreamClosed(lastError_);
  }
  auto type = parseContentType(head.header("Content-Type"));
  decoder_.emplace(type.value_or(options_.contentType));
  state_ = State::kConnected;
}

void Scheduler::Impl::onData(std::string_view data) {
  lastActivity_ = std::chrono::steady_clock::now();
  if (!decoder_) return;
  auto events = decoder_->feed(data);
  if (!events) {
    spdlog::warn("Dropping the event stream from {}: {}", endpoint_.toString(), events.error());
    closeStream();
    return onStreamClosed(events.status());
  }
  uint64_t generation = generation_;
  for (const Event& event : *events) {
    dispatch(event);
    // A callback may have stopped or reconnected us: the rest is stale.
    if (generation != generation_) return;
  }
}

void Scheduler::Impl::dispatch(const Event& event) {
  switch (event.type()) {
    case Event::SUBSCRIBED: {
      frameworkId_ = event.subscribed().framework_id();
      *options_.framework.mutable_id() = *frameworkId_;
      double seconds = event.subscribed().heartbeat_interval_seconds();
      heartbeat_ = seconds > 0 ? secondsToDuration(seconds) : options_.defaultHeartbeatInterval;
      masterInfo_ = event.subscribed().master_info();
      state_ = State::kSubscribed;
      backoff_.reset();
      redirects_ = 0;
      lastError_ = Status::ok();
      armWatchdog();
      spdlog::info("Subscribed to master at {} as framework {}", endpoint_.toString(), frameworkId_->value());
      if (callbacks_.onSubscribed) callbacks_.onSubscribed(*frameworkId_, heartbeat_);
      return;
    }
    case Event::OFFERS:
      if (callbacks_.onOffers) {
        callbacks_.onOffers(std::vector<v1::Offer>(event.offers().offers().begin(), event.offers().offers().end()));
      }
      return;
    case Event::RESCIND:
      if (callbacks_.onRescind) callbacks_.onRescind(event.rescind().offer_id());
      return;
    case Event::UPDATE:
      if (callbacks_.onUpdate) callbacks_.onUpdate(event.update().status());
      return;
    case Event::MESSAGE:
      if (callbacks_.onMessage) {
        callbacks_.onMessage(event.message().agent_id(), event.message().executor_id(), event.message().data());
      }
      return;
    case Event::FAILURE:
      if (callbacks_.onFailure) callbacks_.onFailure(event.failure());
      return;
    case Event::ERROR:
      spdlog::warn("Master sent ERROR: {}", event.error().message());
      lastError_ = Status::failedPrecondition(event.error().message());
      stop();
      if (callbacks_.onError) callbacks_.onError(event.error().message());
      return;
    case Event::HEARTBEAT:
      if (callbacks_.onHeartbeat) callbacks_.onHeartbeat();
      return;
    default:
      spdlog::debug("Ignoring scheduler event of type {}", static_cast<int>(event.type()));
      return;
  }
}

void Scheduler::Impl::onStreamClosed(const Status& status) {
  const bool wasSubscribed = state_ == State::kSubscribed;
  watchdogTimer_.cancel();
  streamId_.clear();
  decoder_.reset();
  if (state_ == State::kStopped) return;

  if (fatalError_) {
    std::string message = std::move(*fatalError_);
    fatalError_.reset();
    lastError_ = Status::failedPrecondition(message);
    state_ = State::kStopped;
    spdlog::warn("{}", message);
    if (callbacks_.onError) callbacks_.onError(message);
    return;
  }
  if (stopAfterClose_) {
    state_ = State::kStopped;
    return;
  }
  if (pendingRedirect_) {
    endpoint_ = pendingRedirect_->endpoint;
    path_ = pendingRedirect_->path;
    pendingRedirect_.reset();
    state_ = State::kIdle;
    asio::post(io_, [weak = weak_from_this(), generation = generation_] {
      auto self = weak.lock();
      if (self && self->generation_ == generation && self->state_ == State::kIdle) self->connect();
    });
    return;
  }

  if (!status.isOk() || lastError_.isOk()) {
    lastError_ = status.isOk() ? Status::unavailable("Master closed the event stream") : status;
  }
  state_ = State::kIdle;
  // After a failure, go back to the configured master: the leader we were
  // redirected to may be the one that went away.
  endpoint_ = configuredMaster_;
  path_ = options_.path;
  redirects_ = 0;
  Duration delay = backoff_.next();
  if (wasSubscribed) {
    spdlog::warn("Lost the subscription to the master: {}", lastError_.message());
    if (callbacks_.onDisconnected) callbacks_.onDisconnected(lastError_);
    if (state_ != State::kIdle) return;  // the callback stopped or restarted us
  } else {
    spdlog::debug("Subscription attempt failed: {}", lastError_.message());
  }
  spdlog::debug("Re-subscribing in {} ms", std::chrono::duration_cast<std::chrono::milliseconds>(delay).count());
  reconnectTimer_.expires_after(delay);
  reconnectTimer_.async_wait([weak = weak_from_this(), generation = generation_](boost::system::error_code ec) {
    if (ec) return;
    auto self = weak.lock();
    if (self && self->generation_ == generation && self->state_ == State::kIdle) self->connect();
  });
}

Duration Scheduler::Impl::watchdogTimeout() const {
  Duration interval = state_ == State::kSubscribed ? heartbeat_ : options_.defaultHeartbeatInterval;
  return interval * std::max(1, options_.missedHeartbeats);
}

void Scheduler::Impl::armWatchdog() {
  auto deadline = lastActivity_ + watchdogTimeout();
  watchdogTimer_.expires_at(deadline);
  watchdogTimer_.async_wait([weak = weak_from_this(), generation = generation_](boost::system::error_code ec) {
    if (ec) return;
    auto self = weak.lock();
    if (!self || self->generation_ != generation || !self->stream_) return;
    if (std::chrono::steady_clock::now() - self->lastActivity_ < self->watchdogTimeout()) {
      return self->armWatchdog();
    }
    auto silence = std::chrono::duration_cast<std::chrono::milliseconds>(self->watchdogTimeout());
    self->closeStream();
    self->onStreamClosed(Status::unavailable("No data from the master for " + std::to_string(silence.count()) +
                                             " ms (missed heartbeats)"));
  });
}

// ---------------------------------------------------------------- facade

Scheduler::Scheduler(asio::io_context& io, SchedulerOptions options, SchedulerCallbacks callbacks)
    : impl_(std::make_shared<Impl>(io, std::move(options), std::move(callbacks))) {}

Scheduler::Scheduler(asio::io_context& io, std::string master, v1::FrameworkInfo framework,
                     SchedulerCallbacks callbacks, MediaType contentType)
    : Scheduler(
          io,
          [&] {
            SchedulerOptions options;
            options.master = std::move(master);
            options.framework = std::move(framework);
            options.contentType = contentType;
            return options;
          }(),
          std::move(callbacks)) {}

Scheduler::~Scheduler() { impl_->stop(); }

void Scheduler::start() { impl_->start(); }
void Scheduler::stop() { impl_->stop(); }
void Scheduler::reconnect() { impl_->reconnect(); }
bool Scheduler::subscribed() const { return impl_->state_ == Impl::State::kSubscribed; }
bool Scheduler::stopped() const { return impl_->state_ == Impl::State::kStopped; }
std::optional<v1::FrameworkID> Scheduler::frameworkId() const { return impl_->frameworkId_; }
const std::string& Scheduler::streamId() const { return impl_->streamId_; }
const net::Endpoint& Scheduler::masterEndpoint() const { return impl_->endpoint_; }
const v1::MasterInfo& Scheduler::masterInfo() const { return impl_->masterInfo_; }
const Status& Scheduler::lastError() const { return impl_->lastError_; }

}  // namespace mezzo::client
