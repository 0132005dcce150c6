// Scheduler API calls of MasterCore that concern a framework's lifecycle and
// its tasks' bookkeeping: SUBSCRIBE, TEARDOWN, disconnection and failover,
// SUPPRESS/REVIVE, RECONCILE, KILL, ACKNOWLEDGE, MESSAGE, SHUTDOWN.
#include <spdlog/spdlog.h>

#include "master/allocation_specs.hpp"
#include "master/master_core.hpp"

namespace mezzo::master {

namespace {

using Capability = v1::FrameworkInfo::Capability;
using Call = v1::scheduler::Call;

// The roles a framework subscribes with, per its MULTI_ROLE capability.
Result<std::set<std::string>> frameworkRoles(const v1::FrameworkInfo& info) {
  bool multiRole = false;
  for (const auto& capability : info.capabilities()) {
    if (capability.type() == Capability::MULTI_ROLE) multiRole = true;
  }
  std::set<std::string> roles;
  if (multiRole) {
    if (info.has_role()) {
      return Status::invalidArgument("'FrameworkInfo.role' must not be set when the MULTI_ROLE capability is given");
    }
    roles.insert(info.roles().begin(), info.roles().end());
    if (static_cast<int>(roles.size()) != info.roles_size()) {
      return Status::invalidArgument("'FrameworkInfo.roles' contains duplicate entries");
    }
  } else {
    if (info.roles_size() > 0) {
      return Status::invalidArgument("'FrameworkInfo.roles' must not be set without the MULTI_ROLE capability");
    }
    roles.insert(info.role());
  }
  for (const std::string& role : roles) {
    std::string error = validateRoleName(role);
    if (!error.empty()) return Status::invalidArgument(error);
  }
  return roles;
}

std::set<std::string> toRoleSet(const google::protobuf::RepeatedPtrField<std::string>& roles) {
  return {roles.begin(), roles.end()};
}

}  // namespace

Result<FrameworkId> MasterCore::subscribe(const Call& call, const std::string& streamId, TimePoint now) {
  if (!call.has_subscribe()) return Status::invalidArgument("Expecting 'subscribe' to be present");
  v1::FrameworkInfo info = call.subscribe().framework_info();
  if (call.has_framework_id() && info.has_id() && call.framework_id().value() != info.id().value()) {
    return Status::invalidArgument("'framework_id' differs from 'subscribe.framework_info.id'");
  }
  if (call.has_framework_id() && !info.has_id()) *info.mutable_id() = call.framework_id();
  auto roles = frameworkRoles(info);
  if (!roles) return roles.status();
  std::set<std::string> suppressed = toRoleSet(call.subscribe().suppressed_roles());
  for (const std::string& role : suppressed) {
    if (!roles->contains(role)) {
      return Status::invalidArgument("Suppressed role '" + role + "' is not contained in the framework's roles");
    }
  }
  if (info.has_id()) {
    for (const CompletedFramework& completed : completedFrameworks_) {
      if (completed.info.id().value() == info.id().value()) {
        return Status::permissionDenied("Framework " + info.id().value() + " has already been removed");
      }
    }
  }

  FrameworkId id = info.has_id() ? FrameworkId(info.id().value()) : ids_.nextFrameworkId();
  info.mutable_id()->set_value(id.value());
  auto specOr = frameworkSpecFor(info, *roles, suppressed,
                                 call.subscribe().has_offer_constraints() ? &call.subscribe().offer_constraints() : nullptr);
  if (!specOr) return specOr.status();
  const alloc::FrameworkSpec& spec = *specOr;

  auto existing = frameworks_.find(id);
  FrameworkRecord* framework = nullptr;
  if (existing != frameworks_.end()) {
    framework = existing->second.get();
    if (framework->connected) {
      // A newer subscription supersedes the older stream.
      sendError(framework->streamId, "Framework failed over");
      effects_.push_back(CloseStream{framework->streamId});
      frameworkStreams_.erase(framework->streamId);
    }
    rescindFrameworkOffers(*framework, /*notify=*/false, now);
    removeFrameworkInverseOffers(framework->id);
    // As in Mesos, changes of user and checkpoint are ignored on re-subscription.
    info.set_user(framework->info.user());
    info.set_checkpoint(framework->info.checkpoint());
    framework->reregisteredTime = now;
    allocator_.updateFramework(id, spec);
    allocator_.activateFramework(id);
    spdlog::info("Framework {} ({}) re-subscribed", id.value(), info.name());
  } else {
    auto record = std::make_unique<FrameworkRecord>();
    record->id = id;
    record->registeredTime = now;
    framework = record.get();
    frameworks_.emplace(id, std::move(record));
    allocator_.addFramework(id, spec, /*active=*/true);
    spdlog::info("Framework {} ({}) subscribed with roles {}", id.value(), info.name(),
                 fmt::join(*roles, ","));
  }
  if (!suppressed.empty()) allocator_.suppressRoles(id, suppressed);
  framework->info = info;
  framework->roles = *roles;
  framework->capabilities.clear();
  for (const auto& capability : info.capabilities()) framework->capabilities.insert(capability.type());
  framework->connected = true;
  framework->active = true;
  framework->recovered = false;
  framework->failoverDeadline.reset();
  framework->streamId = streamId;
  framework->nextHeartbeat = now + options_.heartbeatInterval;
  frameworkStreams_[streamId] = id;

  v1::scheduler::Event event;
  event.set_type(v1::scheduler::Event::SUBSCRIBED);
  event.mutable_subscribed()->mutable_framework_id()->set_value(id.value());
  event.mutable_subscribed()->set_heartbeat_interval_seconds(
      std::chrono::duration<double>(options_.heartbeatInterval).count());
  *event.mutable_subscribed()->mutable_master_info() = options_.masterInfo;
  sendToFramework(*framework, std::move(event));
  allocationWanted_ = true;
  return id;
}

FrameworkRecord* MasterCore::frameworkForStream(const Call& call, const std::string& streamId, Status* error) {
  if (!call.has_framework_id()) {
    *error = Status::invalidArgument("Expecting 'framework_id' to be present");
    return nullptr;
  }
  auto it = frameworks_.find(FrameworkId(call.framework_id().value()));
  if (it == frameworks_.end()) {
    *error = Status::notFound("Framework cannot be found");
    return nullptr;
  }
  FrameworkRecord& framework = *it->second;
  if (!framework.connected) {
    *error = Status::permissionDenied("Framework is not subscribed");
    return nullptr;
  }
  if (framework.streamId != streamId) {
    *error = Status::invalidArgument("The stream ID '" + streamId +
                                     "' included in this request didn't match the stream ID currently associated "
                                     "with framework ID " + framework.id.value());
    return nullptr;
  }
  return &framework;
}

Status MasterCore::handleCall(const Call& call, const std::string& streamId, TimePoint now) {
  if (!call.has_type() || call.type() == Call::UNKNOWN) {
    return Status::invalidArgument("Expecting 'type' to be present");
  }
  if (call.type() == Call::SUBSCRIBE) {
    return Status::invalidArgument("SUBSCRIBE must open its own stream");
  }
  Status error;
  FrameworkRecord* framework = frameworkForStream(call, streamId, &error);
  if (framework == nullptr) return error;
  ++counters_.schedulerCalls[Call::Type_Name(call.type())];

  auto require = [](bool present, const char* field) {
    return present ? Status::ok() : Status::invalidArgument(std::string("Expecting '") + field + "' to be present");
  };
  switch (call.type()) {
    case Call::TEARDOWN:
      removeFramework(framework->id, now);
      return Status::ok();
    case Call::ACCEPT:
      if (auto s = require(call.has_accept(), "accept"); !s) return s;
      return accept(*framework, call.accept(), now);
    case Call::DECLINE:
      if (auto s = require(call.has_decline(), "decline"); !s) return s;
      return decline(*framework, call.decline(), now);
    case Call::REVIVE:
    case Call::SUPPRESS: {
      const auto& roles = call.type() == Call::REVIVE ? call.revive().roles() : call.suppress().roles();
      for (const std::string& role : roles) {
        if (!framework->roles.contains(role)) {
          return Status::invalidArgument("Role '" + role + "' is not one of the framework's subscribed roles");
        }
      }
      if (call.type() == Call::REVIVE) {
        allocator_.reviveRoles(framework->id, toRoleSet(roles));
        allocationWanted_ = true;
      } else {
        allocator_.suppressRoles(framework->id, toRoleSet(roles));
      }
      return Status::ok();
    }
    case Call::KILL:
      if (auto s = require(call.has_kill(), "kill"); !s) return s;
      return kill(*framework, call.kill(), now);
    case Call::SHUTDOWN:
      if (auto s = require(call.has_shutdown(), "shutdown"); !s) return s;
      return shutdownExecutor(*framework, call.shutdown());
    case Call::ACKNOWLEDGE:
      if (auto s = require(call.has_acknowledge(), "acknowledge"); !s) return s;
      return acknowledge(*framework, call.acknowledge(), now);
    case Call::RECONCILE:
      if (auto s = require(call.has_reconcile(), "reconcile"); !s) return s;
      return reconcile(*framework, call.reconcile(), now);
    case Call::MESSAGE:
      if (auto s = require(call.has_message(), "message"); !s) return s;
      return sendFrameworkMessage(*framework, call.message());
    case Call::REQUEST:
      // Resource requests are advisory; the allocator does not use them.
      return require(call.has_request(), "request");
    case Call::ACCEPT_INVERSE_OFFERS:
      if (auto s = require(call.has_accept_inverse_offers(), "accept_inverse_offers"); !s) return s;
      return answerInverseOffers(*framework, call.accept_inverse_offers().inverse_offer_ids(),
                                 call.accept_inverse_offers().filters(), /*accepted=*/true, now);
    case Call::DECLINE_INVERSE_OFFERS:
      if (auto s = require(call.has_decline_inverse_offers(), "decline_inverse_offers"); !s) return s;
      return answerInverseOffers(*framework, call.decline_inverse_offers().inverse_offer_ids(),
                                 call.decline_inverse_offers().filters(), /*accepted=*/false, now);
    case Call::RECONCILE_OPERATIONS:
      if (auto s = require(call.has_reconcile_operations(), "reconcile_operations"); !s) return s;
      return reconcileOperations(*framework, call.reconcile_operations());
    case Call::ACKNOWLEDGE_OPERATION_STATUS:
      if (auto s = require(call.has_acknowledge_operation_status(), "acknowledge_operation_status"); !s) return s;
      return acknowledgeOperationStatus(*framework, call.acknowledge_operation_status());
    default:
      return Status::invalidArgument("Call type " + Call::Type_Name(call.type()) + " is not supported");
  }
}

void MasterCore::frameworkStreamClosed(const std::string& streamId, TimePoint now) {
  auto it = frameworkStreams_.find(streamId);
  if (it == frameworkStreams_.end()) return;
  FrameworkId id = it->second;
  frameworkStreams_.erase(it);
  auto framework = frameworks_.find(id);
  if (framework != frameworks_.end() && framework->second->streamId == streamId) {
    disconnectFramework(*framework->second, now);
  }
}

void MasterCore::disconnectFramework(FrameworkRecord& framework, TimePoint now) {
  spdlog::info("Framework {} disconnected; failover timeout {}s", framework.id.value(),
               framework.info.failover_timeout());
  framework.connected = false;
  framework.active = false;
  framework.streamId.clear();
  framework.nextHeartbeat.reset();
  framework.failoverDeadline = now + secondsToDuration(std::max(0.0, framework.info.failover_timeout()));
  rescindFrameworkOffers(framework, /*notify=*/false, now);
  removeFrameworkInverseOffers(framework.id);
  allocator_.deactivateFramework(framework.id);
  if (framework.info.failover_timeout() <= 0) removeFramework(framework.id, now);
}

Status MasterCore::teardownFramework(const FrameworkId& id, TimePoint now) {
  if (!frameworks_.contains(id)) return Status::notFound("No framework found with specified ID");
  removeFramework(id, now);
  return Status::ok();
}

void MasterCore::removeFramework(const FrameworkId& id, TimePoint now) {
  auto it = frameworks_.find(id);
  if (it == frameworks_.end()) return;
  FrameworkRecord& framework = *it->second;
  spdlog::info("Removing framework {} ({})", id.value(), framework.info.name());
  rescindFrameworkOffers(framework, /*notify=*/false, now);
  removeFrameworkInverseOffers(framework.id);

  std::set<AgentId> agentsToNotify;
  for (auto& [taskId, task] : framework.tasks) {
    agentsToNotify.insert(AgentId(task.task.agent_id().value()));
    releaseTaskResources(framework, task, now);
    if (!isTerminalState(task.task.state())) {
      task.task.set_state(v1::TASK_KILLED);
      ++counters_.terminalTasks["TASK_KILLED"];
    }
  }
  for (auto& [agentId, agent] : agents_) {
    if (agent->executors.erase(id) > 0) agentsToNotify.insert(agentId);
    std::erase_if(agent->tasks, [&](const auto& key) { return key.first == id; });
  }
  for (const AgentId& agentId : agentsToNotify) {
    auto agent = agents_.find(agentId);
    if (agent == agents_.end()) continue;
    internal::AgentEvent event;
    event.set_type(internal::AgentEvent::SHUTDOWN_FRAMEWORK);
    event.mutable_shutdown_framework()->mutable_framework_id()->set_value(id.value());
    sendToAgent(*agent->second, std::move(event));
  }

  if (framework.connected) {
    effects_.push_back(CloseStream{framework.streamId});
    frameworkStreams_.erase(framework.streamId);
  }
  allocator_.removeFramework(id);

  CompletedFramework completed;
  completed.info = framework.info;
  completed.registeredTime = framework.registeredTime;
  completed.unregisteredTime = now;
  completed.completedTasks = std::move(framework.completedTasks);
  for (auto& [taskId, task] : framework.tasks) completed.completedTasks.push_back(task.task);
  while (completed.completedTasks.size() > options_.maxCompletedTasksPerFramework) {
    completed.completedTasks.pop_front();
  }
  completedFrameworks_.push_back(std::move(completed));
  while (completedFrameworks_.size() > options_.maxCompletedFrameworks) completedFrameworks_.pop_front();
  frameworks_.erase(it);
  allocationWanted_ = true;
}

}  // namespace mezzo::master
