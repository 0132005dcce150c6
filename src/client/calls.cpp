#include "mezzo/client/calls.hpp"

namespace mezzo::client::calls {

namespace {

Call ofType(Call::Type type) {
  Call call;
  call.set_type(type);
  return call;
}

template <typename Field, typename Items>
void append(Field* field, const Items& items) {
  for (const auto& item : items) *field->Add() = item;
}

}  // namespace

Call subscribe(const v1::FrameworkInfo& framework, const std::optional<v1::FrameworkID>& frameworkId) {
  Call call = ofType(Call::SUBSCRIBE);
  v1::FrameworkInfo* info = call.mutable_subscribe()->mutable_framework_info();
  *info = framework;
  if (frameworkId) {
    *call.mutable_framework_id() = *frameworkId;
    *info->mutable_id() = *frameworkId;
  } else if (framework.has_id()) {
    *call.mutable_framework_id() = framework.id();
  }
  return call;
}

Call accept(const std::vector<v1::OfferID>& offerIds, const std::vector<v1::Offer::Operation>& operations,
            const std::optional<v1::Filters>& filters) {
  Call call = ofType(Call::ACCEPT);
  Call::Accept* accept = call.mutable_accept();
  append(accept->mutable_offer_ids(), offerIds);
  append(accept->mutable_operations(), operations);
  if (filters) *accept->mutable_filters() = *filters;
  return call;
}

Call launch(const v1::Offer& offer, std::vector<v1::TaskInfo> tasks, const std::optional<v1::Filters>& filters) {
  v1::Offer::Operation operation;
  operation.set_type(v1::Offer::Operation::LAUNCH);
  for (v1::TaskInfo& task : tasks) {
    if (!task.has_agent_id()) *task.mutable_agent_id() = offer.agent_id();
    *operation.mutable_launch()->add_task_infos() = std::move(task);
  }
  return accept({offer.id()}, {operation}, filters);
}

Call decline(const std::vector<v1::OfferID>& offerIds, const std::optional<v1::Filters>& filters) {
  Call call = ofType(Call::DECLINE);
  append(call.mutable_decline()->mutable_offer_ids(), offerIds);
  if (filters) *call.mutable_decline()->mutable_filters() = *filters;
  return call;
}

Call revive(const std::vector<std::string>& roles) {
  Call call = ofType(Call::REVIVE);
  append(call.mutable_revive()->mutable_roles(), roles);
  return call;
}

Call suppress(const std::vector<std::string>& roles) {
  Call call = ofType(Call::SUPPRESS);
  append(call.mutable_suppress()->mutable_roles(), roles);
  return call;
}

Call kill(const v1::TaskID& taskId, const std::optional<v1::AgentID>& agentId) {
  Call call = ofType(Call::KILL);
  *call.mutable_kill()->mutable_task_id() = taskId;
  if (agentId) *call.mutable_kill()->mutable_agent_id() = *agentId;
  return call;
}

Call shutdown(const v1::ExecutorID& executorId, const v1::AgentID& agentId) {
  Call call = ofType(Call::SHUTDOWN);
  *call.mutable_shutdown()->mutable_executor_id() = executorId;
  *call.mutable_shutdown()->mutable_agent_id() = agentId;
  return call;
}

std::optional<Call> acknowledge(const v1::TaskStatus& status) {
  if (!status.has_uuid() || status.uuid().empty() || !status.has_agent_id()) return std::nullopt;
  Call call = ofType(Call::ACKNOWLEDGE);
  Call::Acknowledge* ack = call.mutable_acknowledge();
  *ack->mutable_agent_id() = status.agent_id();
  *ack->mutable_task_id() = status.task_id();
  ack->set_uuid(status.uuid());
  return call;
}

Call reconcile(const std::vector<Call::Reconcile::Task>& tasks) {
  Call call = ofType(Call::RECONCILE);
  call.mutable_reconcile();  // present even when empty: implicit reconciliation
  append(call.mutable_reconcile()->mutable_tasks(), tasks);
  return call;
}

Call message(const v1::AgentID& agentId, const v1::ExecutorID& executorId, std::string data) {
  Call call = ofType(Call::MESSAGE);
  *call.mutable_message()->mutable_agent_id() = agentId;
  *call.mutable_message()->mutable_executor_id() = executorId;
  call.mutable_message()->set_data(std::move(data));
  return call;
}

Call request(const std::vector<v1::Request>& requests) {
  Call call = ofType(Call::REQUEST);
  call.mutable_request();
  append(call.mutable_request()->mutable_requests(), requests);
  return call;
}

Call teardown() { return ofType(Call::TEARDOWN); }

}  // namespace mezzo::client::calls
