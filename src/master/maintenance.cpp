// Maintenance on MasterCore (mesos-reference.md §4.9): the operator's
// schedule, machines going DOWN and coming back UP, and inverse offers.
//
// Every change is written to the registry first (UpdateMaintenanceSchedule,
// StartMaintenance, StopMaintenance) and applied here only once durable
// (applyMaintenanceOperation). Agents on a DRAINING machine keep working;
// their offers carry the machine's unavailability, and each framework with
// tasks or executors there gets an inverse offer for the agent, made again
// after it answered and its filter (refuse_seconds, default 5 s) expired.
// The answers are the machine's maintenance status. START_MAINTENANCE
// brings DRAINING machines DOWN: their agents leave the registry in the
// same write, then their tasks are reported TASK_GONE_BY_OPERATOR
// (TASK_LOST to frameworks that are not PARTITION_AWARE) and the agents are
// told to shut down; an agent on a DOWN machine may not register.
// STOP_MAINTENANCE brings DOWN machines UP and out of the schedule.
//
// Inverse offers are made by the master, not the allocator: they lease no
// resources, so the allocator's sorting has no part in them.
#include <google/protobuf/util/message_differencer.h>
#include <spdlog/spdlog.h>

#include "master/master_core.hpp"

namespace mezzo::master {

namespace {

v1::TimeInfo timeInfo(TimePoint when) {
  v1::TimeInfo info;
  info.set_nanoseconds(when.time_since_epoch().count());
  return info;
}

bool sameUnavailability(const v1::Unavailability& a, const v1::Unavailability& b) {
  return google::protobuf::util::MessageDifferencer::Equals(a, b);
}

}  // namespace

Result<uint64_t> MasterCore::updateMaintenanceSchedule(const v1::maintenance::Schedule& schedule, TimePoint now) {
  (void)now;
  return persistIfApplicable(store::updateMaintenanceSchedule(schedule));
}

Result<uint64_t> MasterCore::startMaintenance(const google::protobuf::RepeatedPtrField<v1::MachineID>& machines,
                                              TimePoint now) {
  (void)now;
  if (Status status = store::validateMachineList(machines); !status) return status;
  // The agents on these machines leave the registry in the same write: live
  // ones by hostname and IP, recovered ones (IP unknown until they are
  // back) by hostname where the machine is named without an IP.
  std::vector<AgentId> onMachines;
  auto onAny = [&](const std::string& hostname, const std::string& ip) {
    for (const v1::MachineID& id : machines) {
      if (store::machineHoldsAgent(id, hostname, ip)) return true;
    }
    return false;
  };
  for (const auto& [id, agent] : agents_) {
    if (onAny(agent->info.hostname(), agent->ip)) onMachines.push_back(id);
  }
  for (const auto& [id, info] : registry_.admitted()) {
    if (!agents_.contains(id) && onAny(info.hostname(), "")) onMachines.push_back(id);
  }
  for (const auto& [id, entry] : registry_.unreachable()) {
    if (onAny(entry.info.hostname(), "")) onMachines.push_back(id);
  }
  return persistIfApplicable(store::startMaintenance(machines, onMachines));
}

Result<uint64_t> MasterCore::stopMaintenance(const google::protobuf::RepeatedPtrField<v1::MachineID>& machines,
                                             TimePoint now) {
  (void)now;
  return persistIfApplicable(store::stopMaintenance(machines));
}

v1::maintenance::ClusterStatus MasterCore::maintenanceStatus() const {
  v1::maintenance::ClusterStatus status;
  for (const auto& [key, machine] : registry_.machines()) {
    if (machine.mode() == v1::MachineInfo::DOWN) {
      *status.add_down_machines() = machine.id();
      continue;
    }
    auto* draining = status.add_draining_machines();
    *draining->mutable_id() = machine.id();
    if (auto answers = inverseOfferStatuses_.find(key); answers != inverseOfferStatuses_.end()) {
      for (const auto& [framework, answer] : answers->second.statuses) *draining->add_statuses() = answer;
    }
  }
  return status;
}

const v1::MachineInfo* MasterCore::maintenanceMachine(const AgentRecord& agent) const {
  if (!agent.maintenanceMachine) return nullptr;
  auto machine = registry_.machines().find(*agent.maintenanceMachine);
  return machine == registry_.machines().end() ? nullptr : &machine->second;
}

void MasterCore::placeAgentForMaintenance(AgentRecord& agent) const {
  agent.maintenanceMachine = findMaintenanceMachine(agent.info.hostname(), agent.ip);
  agent.maintenanceWindow.reset();
  if (const v1::MachineInfo* machine = maintenanceMachine(agent)) agent.maintenanceWindow = machine->unavailability();
}

std::optional<store::MachineKey> MasterCore::findMaintenanceMachine(const std::string& hostname,
                                                                    const std::string& ip) const {
  for (const auto& [key, machine] : registry_.machines()) {
    if (store::machineHoldsAgent(machine.id(), hostname, ip)) return key;
  }
  return std::nullopt;
}

void MasterCore::applyMaintenanceOperation(const internal::RegistryOperation& operation, TimePoint now) {
  if (!operation.has_update_maintenance_schedule() && !operation.has_start_maintenance() &&
      !operation.has_stop_maintenance()) {
    return;
  }
  // Machines that left maintenance, or changed mode or window, forget the
  // answers given for their old window.
  for (auto it = inverseOfferStatuses_.begin(); it != inverseOfferStatuses_.end();) {
    auto machine = registry_.machines().find(it->first);
    bool keep = machine != registry_.machines().end() && machine->second.mode() == v1::MachineInfo::DRAINING &&
                sameUnavailability(machine->second.unavailability(), it->second.window);
    it = keep ? std::next(it) : inverseOfferStatuses_.erase(it);
  }
  if (operation.has_start_maintenance()) {
    for (const v1::AgentID& removed : operation.start_maintenance().removed_agents()) {
      removeAgentOnDownMachine(AgentId(removed.value()), now);
    }
  }
  // Re-place every agent. Where its machine or window changed, offers and
  // inverse offers made under the old schedule are taken back; the next
  // cycle makes them under the new one.
  for (auto& [id, agent] : agents_) {
    const std::optional<store::MachineKey> before = agent->maintenanceMachine;
    const std::optional<v1::Unavailability> windowBefore = agent->maintenanceWindow;
    placeAgentForMaintenance(*agent);
    const bool unchanged = before == agent->maintenanceMachine &&
                           windowBefore.has_value() == agent->maintenanceWindow.has_value() &&
                           (!windowBefore || sameUnavailability(*windowBefore, *agent->maintenanceWindow));
    if (unchanged) continue;
    rescindAgentOffers(*agent, now);
    rescindAgentInverseOffers(*agent, /*notify=*/true);
  }
  allocationWanted_ = true;
}

void MasterCore::removeAgentOnDownMachine(const AgentId& id, TimePoint now) {
  recoveredAgents_.erase(id);
  cancelScheduledUnreachable(id);
  const std::string message = "Operator initiated 'Machine DOWN'";
  removeAgentRecord(
      id, [&](FrameworkRecord& framework, TaskRecord& task) { reportTaskGone(framework, task, message, now); },
      Farewell::kShutdown, message, now);
}

Status MasterCore::refuseAgentOnDownMachine(const v1::AgentInfo& info, const std::string& ip) const {
  auto machine = findMaintenanceMachine(info.hostname(), ip);
  if (!machine || registry_.machines().at(*machine).mode() != v1::MachineInfo::DOWN) return Status::ok();
  // 403 tells the agent to shut down rather than retry (agent_protocol.proto).
  return Status::permissionDenied("Agent " + info.hostname() + " is on machine " +
                                  store::describeMachine(registry_.machines().at(*machine).id()) +
                                  ", which is DOWN for maintenance");
}

void MasterCore::makeInverseOffers(TimePoint now) {
  for (auto& [agentId, agent] : agents_) {
    const v1::MachineInfo* machine = maintenanceMachine(*agent);
    if (machine == nullptr || machine->mode() != v1::MachineInfo::DRAINING || !agent->connected) continue;
    std::set<FrameworkId> users;
    for (const auto& [frameworkId, taskId] : agent->tasks) users.insert(frameworkId);
    for (const auto& [frameworkId, executors] : agent->executors) {
      if (!executors.empty()) users.insert(frameworkId);
    }
    for (const FrameworkId& frameworkId : users) {
      auto framework = frameworks_.find(frameworkId);
      if (framework == frameworks_.end() || !framework->second->connected) continue;
      std::pair<FrameworkId, AgentId> key{frameworkId, agentId};
      if (outstandingInverseOffers_.contains(key)) continue;
      if (auto filter = inverseOfferFilters_.find(key); filter != inverseOfferFilters_.end()) {
        if (now < filter->second) continue;
        inverseOfferFilters_.erase(filter);
      }
      InverseOfferRecord record;
      record.id = ids_.nextOfferId();
      record.framework = frameworkId;
      record.agent = agentId;
      record.offer.mutable_id()->set_value(record.id.value());
      record.offer.mutable_framework_id()->set_value(frameworkId.value());
      record.offer.mutable_agent_id()->set_value(agentId.value());
      *record.offer.mutable_unavailability() = machine->unavailability();
      MachineAnswers& answers = inverseOfferStatuses_[*agent->maintenanceMachine];
      answers.window = machine->unavailability();
      auto& statuses = answers.statuses;
      if (!statuses.contains(frameworkId)) {
        v1::allocator::InverseOfferStatus& status = statuses[frameworkId];
        status.set_status(v1::allocator::InverseOfferStatus::UNKNOWN);
        status.mutable_framework_id()->set_value(frameworkId.value());
        *status.mutable_timestamp() = timeInfo(now);
      }
      v1::scheduler::Event event;
      event.set_type(v1::scheduler::Event::INVERSE_OFFERS);
      *event.mutable_inverse_offers()->add_inverse_offers() = record.offer;
      sendToFramework(*framework->second, std::move(event));
      outstandingInverseOffers_[key] = record.id;
      inverseOffers_.emplace(record.id, std::move(record));
    }
  }
}

Status MasterCore::answerInverseOffers(FrameworkRecord& framework,
                                       const google::protobuf::RepeatedPtrField<v1::OfferID>& ids,
                                       const v1::Filters& filters, bool accepted, TimePoint now) {
  Duration refuse = std::chrono::duration_cast<Duration>(
      std::chrono::duration<double>(filters.has_refuse_seconds() ? filters.refuse_seconds() : 5.0));
  for (const v1::OfferID& offerId : ids) {
    auto it = inverseOffers_.find(OfferId(offerId.value()));
    if (it == inverseOffers_.end() || it->second.framework != framework.id) {
      // As Mesos: an unknown or rescinded inverse offer is ignored.
      spdlog::warn("Framework {} answered unknown inverse offer {}", framework.id.value(), offerId.value());
      continue;
    }
    InverseOfferRecord record = std::move(it->second);
    inverseOffers_.erase(it);
    std::pair<FrameworkId, AgentId> key{record.framework, record.agent};
    outstandingInverseOffers_.erase(key);
    inverseOfferFilters_[key] = now + refuse;
    auto agent = agents_.find(record.agent);
    if (agent == agents_.end() || !agent->second->maintenanceMachine) continue;
    const v1::MachineInfo* machine = maintenanceMachine(*agent->second);
    if (machine == nullptr) continue;
    MachineAnswers& answers = inverseOfferStatuses_[*agent->second->maintenanceMachine];
    answers.window = machine->unavailability();
    v1::allocator::InverseOfferStatus& status = answers.statuses[framework.id];
    status.set_status(accepted ? v1::allocator::InverseOfferStatus::ACCEPT : v1::allocator::InverseOfferStatus::DECLINE);
    status.mutable_framework_id()->set_value(framework.id.value());
    *status.mutable_timestamp() = timeInfo(now);
  }
  return Status::ok();
}

void MasterCore::removeInverseOffer(const OfferId& id, bool notify) {
  auto it = inverseOffers_.find(id);
  if (it == inverseOffers_.end()) return;
  InverseOfferRecord record = std::move(it->second);
  inverseOffers_.erase(it);
  outstandingInverseOffers_.erase({record.framework, record.agent});
  auto framework = frameworks_.find(record.framework);
  if (!notify || framework == frameworks_.end()) return;
  v1::scheduler::Event event;
  event.set_type(v1::scheduler::Event::RESCIND_INVERSE_OFFER);
  event.mutable_rescind_inverse_offer()->mutable_inverse_offer_id()->set_value(id.value());
  sendToFramework(*framework->second, std::move(event));
}

void MasterCore::rescindAgentInverseOffers(const AgentRecord& agent, bool notify) {
  std::vector<OfferId> ids;
  for (const auto& [id, record] : inverseOffers_) {
    if (record.agent == agent.id) ids.push_back(id);
  }
  for (const OfferId& id : ids) removeInverseOffer(id, notify);
}

void MasterCore::removeFrameworkInverseOffers(const FrameworkId& framework) {
  std::vector<OfferId> ids;
  for (const auto& [id, record] : inverseOffers_) {
    if (record.framework == framework) ids.push_back(id);
  }
  for (const OfferId& id : ids) removeInverseOffer(id, /*notify=*/false);
}

}  // namespace mezzo::master
