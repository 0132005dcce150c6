#include "harness/scheduler_session.hpp"

#include <future>

#include "mezzo/common/recordio.hpp"
#include "mezzo/common/resources.hpp"

namespace mezzo::testing {

SchedulerSession::SchedulerSession(net::Endpoint master, MediaType mediaType)
    : master_(std::move(master)), mediaType_(mediaType) {
  work_.emplace(io_.get_executor());
  thread_ = std::thread([this] { io_.run(); });
}

SchedulerSession::~SchedulerSession() {
  disconnect();
  work_.reset();
  io_.stop();
  thread_.join();
}

unsigned SchedulerSession::subscribe(const Call& call, std::chrono::milliseconds timeout) {
  {
    std::lock_guard lock(mutex_);
    headReceived_ = false;
    closed_ = false;
    status_ = 0;
  }
  net::ClientRequest request;
  request.target = "/api/v1/scheduler";
  request.headers = {{"Content-Type", std::string(mediaTypeName(mediaType_))},
                     {"Accept", std::string(mediaTypeName(mediaType_))}};
  request.body = encodeMessage(mediaType_, call);
  boost::asio::post(io_, [this, request]() mutable {
    auto decoder = std::make_shared<RecordIoDecoder>();
    stream_ = net::HttpStream::open(
        io_, master_, request,
        {[this](const net::ClientResponse& head) {
           std::lock_guard lock(mutex_);
           status_ = head.status;
           headReceived_ = true;
           if (head.status == 200) streamId_ = head.header("Mesos-Stream-Id");
           changed_.notify_all();
         },
         [this, decoder](std::string_view data) {
           auto records = decoder->feed(data);
           if (!records) return;
           for (const std::string& record : *records) {
             Event event;
             if (!decodeMessage(mediaType_, record, &event)) continue;
             std::lock_guard lock(mutex_);
             if (event.type() == Event::SUBSCRIBED) frameworkId_ = event.subscribed().framework_id().value();
             events_.push_back(event);
             history_.push_back(event);
             changed_.notify_all();
           }
         },
         [this](const Status&) {
           std::lock_guard lock(mutex_);
           closed_ = true;
           headReceived_ = true;
           changed_.notify_all();
         }});
  });
  std::unique_lock lock(mutex_);
  changed_.wait_for(lock, timeout, [&] { return headReceived_; });
  return status_;
}

void SchedulerSession::disconnect() {
  std::promise<void> done;
  boost::asio::post(io_, [this, &done] {
    if (stream_) stream_->close();
    stream_.reset();
    done.set_value();
  });
  done.get_future().wait_for(std::chrono::seconds(5));
}

bool SchedulerSession::streamClosed() {
  std::lock_guard lock(mutex_);
  return closed_;
}

std::optional<Event> SchedulerSession::waitFor(const std::function<bool(const Event&)>& match,
                                               std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock lock(mutex_);
  while (true) {
    while (!events_.empty()) {
      Event event = std::move(events_.front());
      events_.pop_front();
      if (match(event)) return event;
    }
    if (changed_.wait_until(lock, deadline) == std::cv_status::timeout && events_.empty()) return std::nullopt;
  }
}

std::optional<Event> SchedulerSession::waitForType(Event::Type type, std::chrono::milliseconds timeout) {
  return waitFor([type](const Event& event) { return event.type() == type; }, timeout);
}

std::optional<v1::TaskStatus> SchedulerSession::waitForUpdate(const std::string& taskId,
                                                              std::chrono::milliseconds timeout) {
  auto event = waitFor(
      [&](const Event& e) { return e.type() == Event::UPDATE && e.update().status().task_id().value() == taskId; },
      timeout);
  if (!event) return std::nullopt;
  return event->update().status();
}

std::vector<v1::TaskStatus> SchedulerSession::followTask(const std::string& taskId, v1::TaskState until,
                                                         std::chrono::milliseconds timeout) {
  std::vector<v1::TaskStatus> seen;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    auto status = waitForUpdate(taskId, left);
    if (!status) break;
    seen.push_back(*status);
    if (status->has_uuid()) acknowledge(*status);
    if (status->state() == until) break;
  }
  return seen;
}

std::vector<Event> SchedulerSession::eventsSoFar() {
  std::lock_guard lock(mutex_);
  return history_;
}

Result<net::ClientResponse> SchedulerSession::call(Call call) {
  if (!call.has_framework_id() && !frameworkId_.empty()) call.mutable_framework_id()->set_value(frameworkId_);
  net::ClientRequest request;
  request.target = "/api/v1/scheduler";
  request.headers = {{"Content-Type", std::string(mediaTypeName(mediaType_))},
                     {"Mesos-Stream-Id", streamId_}};
  request.body = encodeMessage(mediaType_, call);
  return net::httpRequestSync(master_, request);
}

Status SchedulerSession::acknowledge(const v1::TaskStatus& status) {
  Call ack;
  ack.set_type(Call::ACKNOWLEDGE);
  *ack.mutable_acknowledge()->mutable_agent_id() = status.agent_id();
  *ack.mutable_acknowledge()->mutable_task_id() = status.task_id();
  ack.mutable_acknowledge()->set_uuid(status.uuid());
  auto response = call(ack);
  if (!response) return response.status();
  if (response->status != 202) return Status::internal("ACKNOWLEDGE got " + std::to_string(response->status));
  return Status::ok();
}

std::optional<v1::Offer> waitForOffer(SchedulerSession& session, std::chrono::milliseconds timeout) {
  auto event = session.waitFor(
      [](const Event& e) { return e.type() == Event::OFFERS && e.offers().offers_size() > 0; }, timeout);
  if (!event) return std::nullopt;
  return event->offers().offers(0);
}

Call subscribeCall(const std::string& name, double failoverTimeout,
                   std::vector<v1::FrameworkInfo::Capability::Type> capabilities, const std::string& frameworkId) {
  Call call;
  call.set_type(Call::SUBSCRIBE);
  auto* info = call.mutable_subscribe()->mutable_framework_info();
  info->set_user("root");
  info->set_name(name);
  info->set_failover_timeout(failoverTimeout);
  for (auto capability : capabilities) info->add_capabilities()->set_type(capability);
  if (!frameworkId.empty()) {
    call.mutable_framework_id()->set_value(frameworkId);
    info->mutable_id()->set_value(frameworkId);
  }
  return call;
}

v1::TaskInfo commandTask(const std::string& id, const v1::Offer& offer, const std::string& command,
                         const std::string& resources) {
  v1::TaskInfo task;
  task.set_name(id);
  task.mutable_task_id()->set_value(id);
  *task.mutable_agent_id() = offer.agent_id();
  task.mutable_command()->set_value(command);
  auto parsed = Resources::parse(resources);
  Resources allocation = *parsed;
  if (offer.has_allocation_info()) allocation = allocation.withAllocationRole(offer.allocation_info().role());
  allocation.toProto(task.mutable_resources());
  return task;
}

Call killCall(const std::string& taskId, const v1::Offer& offer) {
  Call call;
  call.set_type(Call::KILL);
  call.mutable_kill()->mutable_task_id()->set_value(taskId);
  *call.mutable_kill()->mutable_agent_id() = offer.agent_id();
  return call;
}

Call launchCall(const v1::Offer& offer, const std::vector<v1::TaskInfo>& tasks) {
  Call call;
  call.set_type(Call::ACCEPT);
  *call.mutable_accept()->add_offer_ids() = offer.id();
  auto* operation = call.mutable_accept()->add_operations();
  operation->set_type(v1::Offer::Operation::LAUNCH);
  for (const auto& task : tasks) *operation->mutable_launch()->add_task_infos() = task;
  call.mutable_accept()->mutable_filters()->set_refuse_seconds(0);
  return call;
}

}  // namespace mezzo::testing
