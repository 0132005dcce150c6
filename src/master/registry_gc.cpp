// Registry garbage collection on MasterCore (mesos-reference.md §4.12): the
// unreachable and gone lists would grow for ever, so every
// --registry_gc_interval the entries older than --registry_max_agent_age,
// and the oldest beyond --registry_max_agent_count in each list, are
// removed in one PruneAgents write. Once it is durable the tasks the
// master kept for pruned unreachable agents (frameworks'
// unreachable_tasks) are forgotten too. A pruned agent that comes back is
// admitted like a new one; a pruned gone agent is no longer refused.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "master/master_core.hpp"

namespace mezzo::master {

namespace {

// Oldest first, the entries to remove from one list.
std::vector<AgentId> entriesToPrune(std::vector<std::pair<TimePoint, AgentId>> entries, TimePoint now,
                                    Duration maxAge, size_t maxCount) {
  std::sort(entries.begin(), entries.end());
  std::vector<AgentId> out;
  for (size_t i = 0; i < entries.size(); ++i) {
    const size_t left = entries.size() - out.size();
    if (left > maxCount || now - entries[i].first > maxAge) out.push_back(entries[i].second);
  }
  return out;
}

}  // namespace

void MasterCore::tickRegistryGc(TimePoint now) {
  if (!nextRegistryGc_) nextRegistryGc_ = startTime_ + options_.registryGcInterval;
  if (now < *nextRegistryGc_ || !pruneWrites_.empty()) return;
  nextRegistryGc_ = now + options_.registryGcInterval;

  std::vector<std::pair<TimePoint, AgentId>> unreachable;
  for (const auto& [id, entry] : registry_.unreachable()) unreachable.emplace_back(entry.since, id);
  std::vector<std::pair<TimePoint, AgentId>> gone;
  for (const auto& [id, when] : registry_.gone()) gone.emplace_back(when, id);
  std::vector<AgentId> pruneUnreachable =
      entriesToPrune(std::move(unreachable), now, options_.registryMaxAgentAge, options_.registryMaxAgentCount);
  std::vector<AgentId> pruneGone =
      entriesToPrune(std::move(gone), now, options_.registryMaxAgentAge, options_.registryMaxAgentCount);
  // An agent being marked or re-admitted right now is not touched.
  std::erase_if(pruneUnreachable, [&](const AgentId& id) {
    return markingGone_.contains(id) ||
           std::any_of(pendingAdmissions_.begin(), pendingAdmissions_.end(),
                       [&](const auto& pending) { return pending.second.id == id; });
  });
  if (pruneUnreachable.empty() && pruneGone.empty()) return;
  spdlog::info("Registry GC: removing {} unreachable and {} gone agents", pruneUnreachable.size(), pruneGone.size());
  internal::RegistryOperation operation = store::pruneAgents(pruneUnreachable, pruneGone);
  internal::RegistryOperation::PruneAgents pruned = operation.prune_agents();
  pruneWrites_[persist(std::move(operation))] = std::move(pruned);
}

void MasterCore::pruneWriteDone(uint64_t ticket, const Status& status) {
  internal::RegistryOperation::PruneAgents pruned = std::move(pruneWrites_.at(ticket));
  pruneWrites_.erase(ticket);
  if (!status) {
    spdlog::error("Registry GC write failed: {}", status.message());
    return;
  }
  std::set<std::string> agents;
  for (const v1::AgentID& id : pruned.unreachable()) agents.insert(id.value());
  for (auto& [id, framework] : frameworks_) {
    std::erase_if(framework->unreachableTasks,
                  [&](const v1::Task& task) { return agents.contains(task.agent_id().value()); });
  }
  counters_.registryPrunedAgents += static_cast<uint64_t>(pruned.unreachable_size() + pruned.gone_size());
}

}  // namespace mezzo::master
