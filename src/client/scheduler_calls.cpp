// The call side of Scheduler: every call is its own POST carrying the stream
// id and the framework id, answered 202 (mesos-reference.md §1.1 step 3).
#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>

#include "client/scheduler_impl.hpp"
#include "mezzo/client/calls.hpp"

namespace mezzo::client {

namespace asio = boost::asio;
using Call = v1::scheduler::Call;

namespace {

Status statusForResponse(const net::ClientResponse& response, Call::Type type) {
  std::string message = Call::Type_Name(type) + " answered HTTP " + std::to_string(response.status);
  if (!response.body.empty()) message += ": " + response.body;
  switch (response.status) {
    case 202:
      return Status::ok();
    case 400:
      return Status::invalidArgument(message);
    case 403:
      return Status::permissionDenied(message);
    case 404:
      return Status::notFound(message);
    case 503:
      return Status::unavailable(message);
    default:
      return Status::internal(message);
  }
}

}  // namespace

void Scheduler::Impl::send(Call call, CallCallback done) {
  const Call::Type type = call.type();
  auto weak = weak_from_this();
  auto finish = [weak, type, done = std::move(done)](const Status& status) {
    auto self = weak.lock();
    if (!self) return;
    if (!status.isOk()) spdlog::debug("Call {} failed: {}", Call::Type_Name(type), status.message());
    if (done) {
      done(status);
    } else if (!status.isOk() && self->callbacks_.onCallFailed) {
      self->callbacks_.onCallFailed(type, status);
    }
  };
  if (state_ != State::kSubscribed || streamId_.empty() || !frameworkId_) {
    Status status = Status::failedPrecondition(Call::Type_Name(type) + " not sent: not subscribed");
    asio::post(io_, [finish, status] { finish(status); });
    return;
  }
  *call.mutable_framework_id() = *frameworkId_;
  net::ClientRequest request;
  request.target = path_;
  request.headers = {{"Content-Type", std::string(mediaTypeName(options_.contentType))},
                     {"Mesos-Stream-Id", streamId_}};
  request.body = encodeMessage(options_.contentType, call);
  request.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(options_.callTimeout);
  net::httpRequest(io_, endpoint_, std::move(request), [finish, type](Result<net::ClientResponse> response) {
    finish(response ? statusForResponse(*response, type) : response.status());
  });
}

void Scheduler::Impl::teardown(CallCallback done) {
  // The master ends our stream once the framework is gone: that must not
  // trigger a re-subscription.
  stopAfterClose_ = true;
  send(calls::teardown(), [weak = weak_from_this(), done = std::move(done)](const Status& status) {
    if (auto self = weak.lock()) self->stop();
    if (done) done(status);
  });
}

void Scheduler::accept(const std::vector<v1::OfferID>& offerIds, const std::vector<v1::Offer::Operation>& operations,
                       const std::optional<v1::Filters>& filters, CallCallback done) {
  impl_->send(calls::accept(offerIds, operations, filters), std::move(done));
}

void Scheduler::launch(const v1::Offer& offer, std::vector<v1::TaskInfo> tasks,
                       const std::optional<v1::Filters>& filters, CallCallback done) {
  impl_->send(calls::launch(offer, std::move(tasks), filters), std::move(done));
}

void Scheduler::decline(const std::vector<v1::OfferID>& offerIds, const std::optional<v1::Filters>& filters,
                        CallCallback done) {
  impl_->send(calls::decline(offerIds, filters), std::move(done));
}

void Scheduler::revive(const std::vector<std::string>& roles, CallCallback done) {
  impl_->send(calls::revive(roles), std::move(done));
}

void Scheduler::suppress(const std::vector<std::string>& roles, CallCallback done) {
  impl_->send(calls::suppress(roles), std::move(done));
}

void Scheduler::kill(const v1::TaskID& taskId, const std::optional<v1::AgentID>& agentId, CallCallback done) {
  impl_->send(calls::kill(taskId, agentId), std::move(done));
}

void Scheduler::shutdown(const v1::ExecutorID& executorId, const v1::AgentID& agentId, CallCallback done) {
  impl_->send(calls::shutdown(executorId, agentId), std::move(done));
}

bool Scheduler::acknowledge(const v1::TaskStatus& status, CallCallback done) {
  auto call = calls::acknowledge(status);
  if (!call) return false;
  impl_->send(std::move(*call), std::move(done));
  return true;
}

void Scheduler::reconcile(const std::vector<Call::Reconcile::Task>& tasks, CallCallback done) {
  impl_->send(calls::reconcile(tasks), std::move(done));
}

void Scheduler::message(const v1::AgentID& agentId, const v1::ExecutorID& executorId, std::string data,
                        CallCallback done) {
  impl_->send(calls::message(agentId, executorId, std::move(data)), std::move(done));
}

void Scheduler::request(const std::vector<v1::Request>& requests, CallCallback done) {
  impl_->send(calls::request(requests), std::move(done));
}

void Scheduler::teardown(CallCallback done) { impl_->teardown(std::move(done)); }

void Scheduler::send(Call call, CallCallback done) { impl_->send(std::move(call), std::move(done)); }

}  // namespace mezzo::client
