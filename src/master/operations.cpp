// Offer operations Mezzo does not implement (RESERVE, UNRESERVE, CREATE,
// DESTROY, GROW_VOLUME, SHRINK_VOLUME, CREATE_DISK, DESTROY_DISK): an
// operation with an id is answered UPDATE_OPERATION_STATUS OPERATION_ERROR
// (accept.cpp refuses the whole ACCEPT for one without an id), and the
// scheduler calls RECONCILE_OPERATIONS and ACKNOWLEDGE_OPERATION_STATUS.
//
// As the statuses Mesos's master makes itself, ours carry no uuid: they are
// not retried and need no acknowledgement. The master keeps the last status
// of the newest kMaxOperationsPerFramework operations of each framework so
// that RECONCILE_OPERATIONS can answer for them; anything else is
// OPERATION_UNKNOWN.
#include <spdlog/spdlog.h>

#include "master/master_core.hpp"

namespace mezzo::master {

namespace {

constexpr size_t kMaxOperationsPerFramework = 1000;

v1::scheduler::Event operationStatusEvent(v1::OperationStatus status) {
  v1::scheduler::Event event;
  event.set_type(v1::scheduler::Event::UPDATE_OPERATION_STATUS);
  *event.mutable_update_operation_status()->mutable_status() = std::move(status);
  return event;
}

}  // namespace

bool isLaunchOperation(const v1::Offer::Operation& operation) {
  return operation.type() == v1::Offer::Operation::LAUNCH || operation.type() == v1::Offer::Operation::LAUNCH_GROUP;
}

void MasterCore::answerUnsupportedOperation(FrameworkRecord& framework, const v1::OperationID& id,
                                            const std::optional<AgentId>& agent, const std::string& message,
                                            TimePoint now) {
  spdlog::info("Operation {} of framework {}: OPERATION_ERROR: {}", id.value(), framework.id.value(), message);
  v1::OperationStatus status;
  *status.mutable_operation_id() = id;
  status.set_state(v1::OPERATION_ERROR);
  status.set_message(message);
  if (agent) status.mutable_agent_id()->set_value(agent->value());
  const bool added = framework.operations.insert_or_assign(id.value(), status).second;
  if (added) framework.operationOrder.push_back(id.value());
  while (framework.operationOrder.size() > kMaxOperationsPerFramework) {
    framework.operations.erase(framework.operationOrder.front());
    framework.operationOrder.pop_front();
  }
  sendToFramework(framework, operationStatusEvent(std::move(status)));
  (void)now;
}

Status MasterCore::reconcileOperations(FrameworkRecord& framework,
                                       const v1::scheduler::Call::ReconcileOperations& reconcile) {
  if (reconcile.operations_size() == 0) {  // implicit: every operation the master knows
    for (const std::string& id : framework.operationOrder) {
      sendToFramework(framework, operationStatusEvent(framework.operations.at(id)));
    }
    return Status::ok();
  }
  for (const auto& asked : reconcile.operations()) {
    auto known = framework.operations.find(asked.operation_id().value());
    if (known != framework.operations.end()) {
      sendToFramework(framework, operationStatusEvent(known->second));
      continue;
    }
    v1::OperationStatus status;
    *status.mutable_operation_id() = asked.operation_id();
    status.set_state(v1::OPERATION_UNKNOWN);
    if (asked.has_agent_id()) *status.mutable_agent_id() = asked.agent_id();
    if (asked.has_resource_provider_id()) *status.mutable_resource_provider_id() = asked.resource_provider_id();
    sendToFramework(framework, operationStatusEvent(std::move(status)));
  }
  return Status::ok();
}

Status MasterCore::acknowledgeOperationStatus(FrameworkRecord& framework,
                                              const v1::scheduler::Call::AcknowledgeOperationStatus& ack) {
  if (ack.uuid().size() != 16) {
    return Status::invalidArgument("Failed to parse 'acknowledge_operation_status.uuid': not a 16-byte UUID");
  }
  if (!ack.has_operation_id()) {
    return Status::invalidArgument("Expecting 'acknowledge_operation_status.operation_id' to be present");
  }
  // Every status the master sent carried no uuid, so no status of ours
  // awaits this acknowledgement: ignored, as Mesos ignores unknown ones.
  spdlog::info("Ignoring acknowledgement of operation {} of framework {}: no status awaits it",
               ack.operation_id().value(), framework.id.value());
  return Status::ok();
}

}  // namespace mezzo::master
