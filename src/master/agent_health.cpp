// Agent health on MasterCore: pings, missed pings, the re-registration
// timeout after a (re)start, and marking agents unreachable.
//
// An agent is marked unreachable when it misses --max_agent_ping_timeouts
// pings in a row (connected or not), or when it was in the recovered
// registry and did not re-register within --agent_reregister_timeout.
// Marking goes through a queue drained at --agent_removal_rate_limit, then
// a registry write (MarkAgentUnreachable); only once that write is durable
// are offers rescinded, the agent removed from the allocator, its tasks
// reported TASK_UNREACHABLE (TASK_LOST to frameworks that are not
// PARTITION_AWARE) and its stream closed. While an agent is queued a PONG or
// a re-registration cancels the marking; while it is being written, a
// re-registration is refused with "retry later" (as in Mesos).
#include <spdlog/spdlog.h>

#include "master/master_core.hpp"

namespace mezzo::master {

namespace {

const char* causeName(bool pingTimeout) {
  return pingTimeout ? "it missed too many pings" : "it did not re-register after the master started";
}

}  // namespace

void MasterCore::startAgentReregistrationTimeout(TimePoint now) {
  reregistrationDeadline_ = now + options_.agentReregisterTimeout;
}

void MasterCore::resetAgentHealth(AgentRecord& agent, TimePoint now) {
  agent.nextPing = now + options_.agentPingTimeout;
  agent.pongOutstanding = false;
  agent.missedPings = 0;
  if (cancelScheduledUnreachable(agent.id)) {
    spdlog::info("Agent {} is back; it will not be marked unreachable", agent.id.value());
  }
}

void MasterCore::pong(AgentRecord& agent, TimePoint now) {
  const bool wasMissing = agent.missedPings > 0;
  agent.pongOutstanding = false;
  agent.missedPings = 0;
  if (!agent.nextPing) agent.nextPing = now + options_.agentPingTimeout;  // it was queued for marking
  if (cancelScheduledUnreachable(agent.id)) {
    spdlog::info("Agent {} answered a ping; it will not be marked unreachable", agent.id.value());
  } else if (wasMissing) {
    spdlog::info("Agent {} answers pings again", agent.id.value());
  }
}

void MasterCore::tickAgentHealth(TimePoint now) {
  for (auto& [id, agentPtr] : agents_) {
    AgentRecord& agent = *agentPtr;
    if (!agent.nextPing || now < *agent.nextPing || markingUnreachable_.contains(id)) continue;
    if (agent.pongOutstanding || !agent.connected) {
      ++agent.missedPings;
      spdlog::warn("Agent {} missed ping {} of {}", id.value(), agent.missedPings, options_.maxAgentPingTimeouts);
    }
    if (agent.missedPings >= options_.maxAgentPingTimeouts) {
      agent.nextPing.reset();  // stop pinging while it is queued; a PONG still cancels
      scheduleUnreachable(id, UnreachableCause::kPingTimeout);
      continue;
    }
    if (agent.connected) {
      internal::AgentEvent event;
      event.set_type(internal::AgentEvent::PING);
      sendToAgent(agent, std::move(event));
      agent.pongOutstanding = true;
    }
    agent.nextPing = now + options_.agentPingTimeout;
  }

  if (reregistrationDeadline_ && now >= *reregistrationDeadline_) {
    reregistrationDeadline_.reset();
    const size_t registered = registry_.admitted().size();
    const double missing = registered == 0 ? 0.0 : static_cast<double>(recoveredAgents_.size()) / registered;
    if (missing > options_.recoveryAgentRemovalLimit + 1e-12) {
      effects_.push_back(Abort{"Post-recovery agent removal limit exceeded: " + std::to_string(recoveredAgents_.size()) +
                               " of " + std::to_string(registered) + " agents (" + std::to_string(missing * 100) +
                               "%) did not re-register; the limit is " +
                               std::to_string(options_.recoveryAgentRemovalLimit * 100) +
                               "% (--recovery_agent_removal_limit). Investigate, or raise the limit"});
      return;
    }
    for (const AgentId& id : recoveredAgents_) scheduleUnreachable(id, UnreachableCause::kReregistrationTimeout);
  }
  markScheduledAgentsUnreachable(now);
}

void MasterCore::scheduleUnreachable(const AgentId& id, UnreachableCause cause) {
  if (markingUnreachable_.contains(id)) return;
  for (const PendingUnreachable& queued : unreachableQueue_) {
    if (queued.id == id) return;
  }
  spdlog::warn("Agent {} will be marked unreachable: {}", id.value(),
               causeName(cause == UnreachableCause::kPingTimeout));
  ++counters_.agentUnreachableScheduled;
  unreachableQueue_.push_back(PendingUnreachable{id, {}, cause});
}

bool MasterCore::cancelScheduledUnreachable(const AgentId& id) {
  size_t removed = std::erase_if(unreachableQueue_, [&](const PendingUnreachable& queued) { return queued.id == id; });
  counters_.agentUnreachableCanceled += removed;
  return removed > 0;
}

// Drains the queue as fast as --agent_removal_rate_limit allows. The
// registry write comes first; everything else waits for it.
void MasterCore::markScheduledAgentsUnreachable(TimePoint now) {
  while (!unreachableQueue_.empty()) {
    if (removalLimiter_ && !removalLimiter_->tryAcquire(now)) return;
    PendingUnreachable pending = unreachableQueue_.front();
    unreachableQueue_.pop_front();
    pending.time = now;
    markingUnreachable_.insert(pending.id);
    if (agents_.contains(pending.id)) allocator_.deactivateAgent(pending.id);  // no new offers meanwhile
    uint64_t ticket = persist(store::markAgentUnreachable(pending.id, now));
    unreachableWrites_[ticket] = pending;
  }
}

void MasterCore::unreachableWriteDone(uint64_t ticket, const Status& status, TimePoint now) {
  PendingUnreachable pending = unreachableWrites_.at(ticket);
  unreachableWrites_.erase(ticket);
  markingUnreachable_.erase(pending.id);
  if (!status) {
    // Try again: a recovered agent through the queue, a registered one
    // through its pings (which stay missed).
    spdlog::error("Could not mark agent {} unreachable: {}", pending.id.value(), status.message());
    if (auto agent = agents_.find(pending.id); agent != agents_.end()) {
      agent->second->nextPing = now + options_.agentPingTimeout;
      if (agent->second->connected) allocator_.activateAgent(pending.id);
    } else {
      scheduleUnreachable(pending.id, pending.cause);
    }
    return;
  }
  ++counters_.agentUnreachableCompleted;
  if (pending.cause == UnreachableCause::kPingTimeout) {
    ++counters_.agentRemovalsUnhealthy;
  } else {
    ++counters_.recoveryAgentRemovals;
  }
  spdlog::warn("Marked agent {} unreachable: {}", pending.id.value(),
               causeName(pending.cause == UnreachableCause::kPingTimeout));
  removeUnreachableAgent(pending.id, pending.time, now);
}

void MasterCore::reportTaskUnreachable(FrameworkRecord& framework, TaskRecord& task, TimePoint unreachableTime,
                                       TimePoint now) {
  TaskId taskId(task.task.task_id().value());
  v1::TaskStatus status = masterTaskStatus(taskId, v1::TASK_UNREACHABLE, v1::TaskStatus::REASON_AGENT_REMOVED,
                                           "Agent " + task.task.agent_id().value() + " is unreachable", now);
  *status.mutable_agent_id() = task.task.agent_id();
  if (task.task.has_executor_id()) *status.mutable_executor_id() = task.task.executor_id();
  status.mutable_unreachable_time()->set_nanoseconds(unreachableTime.time_since_epoch().count());
  recordStatus(task, status);
  task.task.clear_status_update_state();
  task.task.clear_status_update_uuid();
  forwardStatus(framework, std::move(status));
  framework.unreachableTasks.push_back(std::move(task.task));
  while (framework.unreachableTasks.size() > options_.maxUnreachableTasksPerFramework) {
    framework.unreachableTasks.pop_front();
  }
  framework.tasks.erase(taskId);
}

// The agent is unreachable in the registry: the rest of the master follows.
void MasterCore::removeUnreachableAgent(const AgentId& id, TimePoint unreachableTime, TimePoint now) {
  recoveredAgents_.erase(id);
  removeAgentRecord(
      id,
      [&](FrameworkRecord& framework, TaskRecord& task) {
        reportTaskUnreachable(framework, task, unreachableTime, now);
      },
      Farewell::kCloseStream, "", now);
}

}  // namespace mezzo::master
