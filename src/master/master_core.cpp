#include "master/master_core.hpp"

#include <spdlog/spdlog.h>

namespace mezzo::master {

std::optional<v1::TaskStatus> adaptStatusForFramework(const FrameworkRecord& framework, v1::TaskStatus status) {
  if (status.state() == v1::TASK_KILLING &&
      !framework.hasCapability(v1::FrameworkInfo::Capability::TASK_KILLING_STATE)) {
    return std::nullopt;
  }
  if (!framework.partitionAware()) {
    switch (status.state()) {
      case v1::TASK_UNREACHABLE:
      case v1::TASK_DROPPED:
      case v1::TASK_GONE:
      case v1::TASK_GONE_BY_OPERATOR:
      case v1::TASK_UNKNOWN:
        status.set_state(v1::TASK_LOST);
        break;
      default:
        break;
    }
  }
  return status;
}

v1::TaskStatus masterTaskStatus(const TaskId& task, v1::TaskState state, v1::TaskStatus::Reason reason,
                                const std::string& message, TimePoint now) {
  v1::TaskStatus status;
  status.mutable_task_id()->set_value(task.value());
  status.set_state(state);
  status.set_source(v1::TaskStatus::SOURCE_MASTER);
  status.set_reason(reason);
  if (!message.empty()) status.set_message(message);
  status.set_timestamp(toEpochSeconds(now));
  return status;
}

MasterCore::MasterCore(MasterOptions options, TimePoint now, store::RegistryState registry)
    : options_(std::move(options)), startTime_(now), ids_(options_.masterInfo.id()),
      allocator_(options_.allocator), registry_(std::move(registry)) {
  // Weights set at runtime (kept in the registry) win over --weights.
  for (const auto& [role, weight] : registry_.weights()) options_.weights[role] = weight;
  for (const auto& [role, weight] : options_.weights) allocator_.setWeight(role, weight);
  for (const auto& [role, config] : registry_.quotas()) allocator_.setQuota(role, toAllocatorQuota(config));
  if (options_.agentRemovalRate) removalLimiter_.emplace(*options_.agentRemovalRate);
  for (const auto& [id, info] : registry_.admitted()) recoveredAgents_.insert(id);
  startAgentReregistrationTimeout(now);
}

uint64_t MasterCore::persist(internal::RegistryOperation operation) {
  uint64_t ticket = nextTicket_++;
  pendingOperations_[ticket] = operation;
  effects_.push_back(PersistRegistry{ticket, std::move(operation)});
  return ticket;
}

void MasterCore::registryOperationDone(uint64_t ticket, const Status& status, TimePoint now) {
  auto operation = pendingOperations_.find(ticket);
  if (operation == pendingOperations_.end()) return;
  if (status) {
    Status applied = registry_.apply(operation->second);
    if (applied) {
      applyPolicyOperation(operation->second, now);
      applyMaintenanceOperation(operation->second, now);
    } else {
      spdlog::error("Stored registry operation does not apply: {}", applied.message());
    }
  } else {
    spdlog::error("Registry write failed: {}", status.message());
  }
  pendingOperations_.erase(operation);
  if (unreachableWrites_.contains(ticket)) return unreachableWriteDone(ticket, status, now);
  if (goneWrites_.contains(ticket)) return goneWriteDone(ticket, status, now);
  if (pruneWrites_.contains(ticket)) return pruneWriteDone(ticket, status);
  auto admission = pendingAdmissions_.find(ticket);
  if (admission == pendingAdmissions_.end()) return;
  PendingAdmission pending = std::move(admission->second);
  pendingAdmissions_.erase(admission);
  if (!agentStreams_.contains(pending.streamId)) return;  // the agent went away meanwhile
  if (!status) {
    effects_.push_back(CloseStream{pending.streamId});
    agentStreams_.erase(pending.streamId);
    return;
  }
  auto total = Resources::fromProto(pending.call.register_().agent_info().resources());
  completeRegistration(pending.call, pending.id, *total, pending.streamId, pending.admission, now);
}

MasterCore::~MasterCore() = default;

void MasterCore::sendToFramework(const FrameworkRecord& framework, v1::scheduler::Event event) {
  if (!framework.connected || framework.streamId.empty()) {
    ++counters_.droppedMessages;
    return;
  }
  effects_.push_back(SendFrameworkEvent{framework.streamId, std::move(event)});
}

void MasterCore::sendError(const std::string& streamId, const std::string& message) {
  v1::scheduler::Event event;
  event.set_type(v1::scheduler::Event::ERROR);
  event.mutable_error()->set_message(message);
  effects_.push_back(SendFrameworkEvent{streamId, std::move(event)});
}

void MasterCore::sendToAgent(const AgentRecord& agent, internal::AgentEvent event) {
  if (!agent.connected || agent.streamId.empty()) {
    ++counters_.droppedMessages;
    spdlog::warn("Dropping {} for disconnected agent {}", internal::AgentEvent::Type_Name(event.type()),
                 agent.id.value());
    return;
  }
  effects_.push_back(SendAgentEvent{agent.streamId, std::move(event)});
}

void MasterCore::tick(TimePoint now) {
  // Heartbeats keep framework streams (and the proxies between) alive.
  for (auto& [id, framework] : frameworks_) {
    if (!framework->connected || !framework->nextHeartbeat || *framework->nextHeartbeat > now) continue;
    v1::scheduler::Event event;
    event.set_type(v1::scheduler::Event::HEARTBEAT);
    sendToFramework(*framework, std::move(event));
    framework->nextHeartbeat = now + options_.heartbeatInterval;
  }

  tickAgentHealth(now);
  tickRegistryGc(now);

  // Disconnected frameworks past their failover timeout are removed.
  std::vector<FrameworkId> expired;
  for (auto& [id, framework] : frameworks_) {
    if (!framework->connected && framework->failoverDeadline && *framework->failoverDeadline <= now) {
      expired.push_back(id);
    }
  }
  for (const FrameworkId& id : expired) {
    spdlog::info("Framework {} did not re-subscribe within its failover timeout; removing it", id.value());
    removeFramework(id, now);
  }

  if (options_.offerTimeout) {
    std::vector<OfferId> stale;
    for (const auto& [id, offer] : offers_) {
      if (offer.created + *options_.offerTimeout <= now) stale.push_back(id);
    }
    for (const OfferId& id : stale) rescindOffer(id, /*notifyFramework=*/true, now);
  }
}

void MasterCore::allocate(TimePoint now) {
  allocationWanted_ = false;
  std::map<FrameworkId, std::vector<OfferId>> created;
  for (alloc::Allocation& allocation : allocator_.allocate(now)) {
    auto frameworkIt = frameworks_.find(allocation.framework);
    auto agentIt = agents_.find(allocation.agent);
    if (frameworkIt == frameworks_.end() || agentIt == agents_.end()) {
      allocator_.recoverResources(allocation.framework, allocation.agent, allocation.resources, std::nullopt, now);
      continue;
    }
    OfferRecord record;
    record.id = ids_.nextOfferId();
    record.framework = allocation.framework;
    record.agent = allocation.agent;
    record.role = allocation.role;
    record.resources = allocation.resources;
    record.created = now;
    const AgentRecord& agent = *agentIt->second;
    v1::Offer& offer = record.offer;
    offer.mutable_id()->set_value(record.id.value());
    offer.mutable_framework_id()->set_value(allocation.framework.value());
    offer.mutable_agent_id()->set_value(allocation.agent.value());
    offer.set_hostname(agent.info.hostname());
    v1::URL* url = offer.mutable_url();
    url->set_scheme("http");
    url->mutable_address()->set_hostname(agent.info.hostname());
    if (!agent.ip.empty()) url->mutable_address()->set_ip(agent.ip);  // as Mesos: clients need not resolve
    url->mutable_address()->set_port(agent.info.port());
    url->set_path("/slave(1)");
    allocation.resources.toProto(offer.mutable_resources());
    *offer.mutable_attributes() = agent.info.attributes();
    offer.mutable_allocation_info()->set_role(allocation.role);
    if (const v1::MachineInfo* machine = maintenanceMachine(agent)) {
      *offer.mutable_unavailability() = machine->unavailability();
    }
    if (auto executors = agent.executors.find(allocation.framework); executors != agent.executors.end()) {
      for (const auto& [executorId, info] : executors->second) {
        offer.add_executor_ids()->set_value(executorId.value());
      }
    }
    frameworkIt->second->offers.insert(record.id);
    agentIt->second->offers.insert(record.id);
    created[allocation.framework].push_back(record.id);
    offers_.emplace(record.id, std::move(record));
  }

  for (const auto& [frameworkId, offerIds] : created) {
    const FrameworkRecord& framework = *frameworks_.at(frameworkId);
    v1::scheduler::Event event;
    event.set_type(v1::scheduler::Event::OFFERS);
    for (const OfferId& id : offerIds) {
      *event.mutable_offers()->add_offers() = renderOffer(framework, offers_.at(id));
    }
    sendToFramework(framework, std::move(event));
  }
  makeInverseOffers(now);
}

}  // namespace mezzo::master
