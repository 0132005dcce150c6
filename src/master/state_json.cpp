#include "master/state_json.hpp"

#include "mezzo/common/json_proto.hpp"
#include "mezzo/common/operator_responses.hpp"
#include "mezzo/net/http_server.hpp"
#include "mezzo/version.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <set>

namespace mezzo::master {

namespace {

using nlohmann::json;

double seconds(TimePoint t) { return toEpochSeconds(t); }

json resourcesJson(const ResourceProtos& protos) {
  auto resources = Resources::fromProto(protos);
  return resources ? resources->toStateJson() : Resources().toStateJson();
}

json labelsJson(const v1::Labels& labels) {
  json out = json::array();
  for (const auto& label : labels.labels()) out.push_back(messageToJson(label));
  return out;
}

json taskJson(const v1::Task& task) {
  json out;
  out["id"] = task.task_id().value();
  out["name"] = task.name();
  out["framework_id"] = task.framework_id().value();
  out["executor_id"] = task.has_executor_id() ? task.executor_id().value() : "";
  out["slave_id"] = task.agent_id().value();
  out["state"] = v1::TaskState_Name(task.state());
  out["resources"] = resourcesJson(task.resources());
  std::string role;
  for (const auto& resource : task.resources()) {
    if (resource.has_allocation_info()) role = resource.allocation_info().role();
  }
  out["role"] = role;
  out["user"] = task.user();
  json statuses = json::array();
  for (const auto& status : task.statuses()) {
    json entry;
    entry["state"] = v1::TaskState_Name(status.state());
    entry["timestamp"] = status.timestamp();
    if (status.has_healthy()) entry["healthy"] = status.healthy();
    if (status.has_container_status()) entry["container_status"] = messageToJson(status.container_status());
    if (status.has_labels()) entry["labels"] = labelsJson(status.labels());
    statuses.push_back(std::move(entry));
  }
  out["statuses"] = std::move(statuses);
  if (task.has_labels()) out["labels"] = labelsJson(task.labels());
  if (task.has_health_check()) out["health_check"] = messageToJson(task.health_check());
  return out;
}

json executorJson(const v1::ExecutorInfo& executor, const FrameworkId& framework, const AgentId& agent) {
  json out;
  out["executor_id"] = executor.executor_id().value();
  out["name"] = executor.name();
  out["framework_id"] = framework.value();
  out["command"] = executor.has_command() ? messageToJson(executor.command()) : json::object();
  out["resources"] = resourcesJson(executor.resources());
  if (executor.has_labels()) out["labels"] = labelsJson(executor.labels());
  out["slave_id"] = agent.value();
  return out;
}

// The executors the framework runs, on every agent (Mesos: frameworks[].executors).
json frameworkExecutorsJson(const FrameworkId& framework, const MasterCore& core) {
  json out = json::array();
  for (const auto& [agentId, agent] : core.agents()) {
    auto executors = agent->executors.find(framework);
    if (executors == agent->executors.end()) continue;
    for (const auto& [executorId, info] : executors->second) out.push_back(executorJson(info, framework, agentId));
  }
  return out;
}

Resources usedResources(const FrameworkRecord& framework) {
  Resources used;
  for (const auto& [id, task] : framework.tasks) {
    if (!task.resourcesReleased) used += task.resources;
  }
  return used;
}

Resources offeredResources(const FrameworkRecord& framework, const MasterCore& core) {
  Resources offered;
  for (const OfferId& id : framework.offers) offered += core.offers().at(id).resources;
  return offered;
}

// The fields of a framework that /state-summary shows too (Mesos's
// Summary<Framework>): cheap, no task is rendered.
json frameworkSummaryJson(const FrameworkRecord& framework, const MasterCore& core) {
  json out;
  out["id"] = framework.id.value();
  out["name"] = framework.info.name();
  out["used_resources"] = usedResources(framework).toStateJson();
  out["offered_resources"] = offeredResources(framework, core).toStateJson();
  json capabilities = json::array();
  for (auto capability : framework.capabilities) {
    capabilities.push_back(v1::FrameworkInfo::Capability::Type_Name(capability));
  }
  out["capabilities"] = capabilities;
  out["hostname"] = framework.info.hostname();
  out["webui_url"] = framework.info.webui_url();
  out["active"] = framework.active;
  out["connected"] = framework.connected;
  out["recovered"] = framework.recovered;
  return out;
}

json frameworkJson(const FrameworkRecord& framework, const MasterCore& core) {
  const v1::FrameworkInfo& info = framework.info;
  json out = frameworkSummaryJson(framework, core);
  out["pid"] = "";
  out["user"] = info.user();
  out["principal"] = info.principal();
  out["failover_timeout"] = info.failover_timeout();
  out["checkpoint"] = info.checkpoint();
  out["registered_time"] = seconds(framework.registeredTime);
  out["reregistered_time"] = seconds(framework.reregisteredTime.value_or(framework.registeredTime));
  out["unregistered_time"] = 0;
  json roles = json::array();
  for (const std::string& role : framework.roles) roles.push_back(role);
  out["roles"] = roles;
  if (!framework.hasCapability(v1::FrameworkInfo::Capability::MULTI_ROLE)) out["role"] = info.role();
  json tasks = json::array();
  for (const auto& [id, task] : framework.tasks) tasks.push_back(taskJson(task.task));
  out["tasks"] = std::move(tasks);
  json unreachable = json::array();
  for (const v1::Task& task : framework.unreachableTasks) unreachable.push_back(taskJson(task));
  out["unreachable_tasks"] = std::move(unreachable);
  json completed = json::array();
  for (const v1::Task& task : framework.completedTasks) completed.push_back(taskJson(task));
  out["completed_tasks"] = std::move(completed);
  json offers = json::array();
  for (const OfferId& id : framework.offers) {
    const OfferRecord& offer = core.offers().at(id);
    json entry;
    entry["id"] = id.value();
    entry["framework_id"] = framework.id.value();
    entry["slave_id"] = offer.agent.value();
    entry["resources"] = offer.resources.toStateJson();
    offers.push_back(std::move(entry));
  }
  out["offers"] = std::move(offers);
  out["resources"] = (usedResources(framework) + offeredResources(framework, core)).toStateJson();
  out["executors"] = frameworkExecutorsJson(framework.id, core);
  json suppressed = json::array();
  for (const std::string& role : core.allocator().suppressedRoles(framework.id)) suppressed.push_back(role);
  out["suppressed_roles"] = std::move(suppressed);
  if (info.has_labels()) out["labels"] = labelsJson(info.labels());
  return out;
}

json completedFrameworkJson(const CompletedFramework& framework) {
  json out;
  out["id"] = framework.info.id().value();
  out["name"] = framework.info.name();
  out["user"] = framework.info.user();
  out["active"] = false;
  out["connected"] = false;
  out["registered_time"] = seconds(framework.registeredTime);
  out["unregistered_time"] = seconds(framework.unregisteredTime);
  out["tasks"] = json::array();
  json completed = json::array();
  for (const v1::Task& task : framework.completedTasks) completed.push_back(taskJson(task));
  out["completed_tasks"] = std::move(completed);
  return out;
}

json attributesJson(const v1::AgentInfo& info) {
  json out = json::object();
  for (const auto& attribute : info.attributes()) {
    switch (attribute.type()) {
      case v1::Value::SCALAR: out[attribute.name()] = attribute.scalar().value(); break;
      case v1::Value::TEXT: out[attribute.name()] = attribute.text().value(); break;
      default: out[attribute.name()] = messageToJson(attribute); break;
    }
  }
  return out;
}

json agentJson(const AgentRecord& agent, const MasterCore& core) {
  json out;
  out["id"] = agent.id.value();
  out["hostname"] = agent.info.hostname();
  out["port"] = agent.info.port();
  // Mesos's pid names the agent's IP (clients use it without resolving the hostname).
  out["pid"] = "slave(1)@" + (agent.ip.empty() ? agent.info.hostname() : agent.ip) + ":" + std::to_string(agent.info.port());
  out["attributes"] = attributesJson(agent.info);
  out["registered_time"] = seconds(agent.registeredTime);
  if (agent.reregisteredTime) out["reregistered_time"] = seconds(*agent.reregisteredTime);
  out["resources"] = agent.total.toStateJson();
  Resources allocated = core.allocator().allocated(agent.id);
  Resources offered;
  for (const OfferId& id : agent.offers) offered += core.offers().at(id).resources;
  out["used_resources"] = (allocated - offered).toStateJson();
  out["offered_resources"] = offered.toStateJson();
  json reserved = json::object();
  std::set<std::string> roles;
  for (const ResourceEntry& entry : agent.total.entries()) {
    if (!entry.reservations.empty()) roles.insert(entry.reservationRole());
  }
  for (const std::string& role : roles) reserved[role] = agent.total.reservedFor(role).toStateJson();
  out["reserved_resources"] = reserved;
  out["unreserved_resources"] = agent.total.unreserved().toStateJson();
  out["active"] = agent.connected;
  out["deactivated"] = !agent.connected;
  out["version"] = agent.version;
  out["capabilities"] = json::array({"MULTI_ROLE", "HIERARCHICAL_ROLE", "RESERVATION_REFINEMENT"});
  return out;
}

// Agents in the registry that have not re-registered with this master yet.
json recoveredAgentsJson(const MasterCore& core) {
  json out = json::array();
  for (const AgentId& id : core.recoveredAgents()) {
    auto admitted = core.registry().admitted().find(id);
    if (admitted == core.registry().admitted().end()) continue;
    const v1::AgentInfo& info = admitted->second;
    out.push_back(json{{"id", id.value()}, {"hostname", info.hostname()}, {"port", info.port()}});
  }
  return out;
}

// Mesos's per-framework keys `master/frameworks/<name>/<id>/...`, the name
// percent-encoded as a URL path component (a name may hold a '/').
std::string frameworkMetricPrefix(const FrameworkRecord& framework) {
  std::string name;
  for (unsigned char c : framework.info.name()) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      name += static_cast<char>(c);
    } else {
      name += fmt::format("%{:02X}", c);
    }
  }
  return "master/frameworks/" + name + "/" + framework.id.value() + "/";
}

void putFrameworkMetrics(json& out, const MasterCore& core) {
  for (const auto& [id, framework] : core.frameworks()) {
    std::string prefix = frameworkMetricPrefix(*framework);
    out[prefix + "subscribed"] = framework->connected ? 1 : 0;
    std::set<std::string> suppressed = core.allocator().suppressedRoles(id);
    for (const std::string& role : framework->roles) {
      out[prefix + "roles/" + role + "/suppressed"] = suppressed.contains(role) ? 1 : 0;
    }
  }
}

}  // namespace

nlohmann::json renderVersion() {
  return json{{"version", kMezzoMesosVersion}, {"mezzo_version", kMezzoVersion},
              {"build_date", __DATE__},       {"build_time", 0},
              {"build_user", ""},             {"git_sha", ""},
              {"git_branch", ""},             {"git_tag", ""}};
}

nlohmann::json renderFlags(const std::map<std::string, std::string>& flags) {
  json out = json::object();
  for (const auto& [name, value] : flags) out[name] = value;
  return json{{"flags", out}};
}

nlohmann::json renderState(const MasterCore& core, const std::map<std::string, std::string>& flags,
                           const Leadership& leadership, TimePoint now) {
  const v1::MasterInfo& info = core.options().masterInfo;
  json out = renderVersion();
  out.erase("mezzo_version");
  out["start_time"] = seconds(core.startTime());
  if (leadership.electedTime) out["elected_time"] = seconds(*leadership.electedTime);
  out["id"] = info.id();
  out["pid"] = info.pid();
  out["hostname"] = info.hostname();
  if (auto cluster = flags.find("cluster"); cluster != flags.end() && !cluster->second.empty()) {
    out["cluster"] = cluster->second;
  }
  out["elected"] = leadership.elected;
  if (leadership.leader) {
    out["leader"] = leadership.leader->pid();
    out["leader_info"] = messageToJson(*leadership.leader);
  }
  out["capabilities"] = json::array({"AGENT_UPDATE"});
  size_t active = 0;
  json agents = json::array();
  for (const auto& [id, agent] : core.agents()) {
    if (agent->connected) ++active;
    agents.push_back(agentJson(*agent, core));
  }
  out["activated_slaves"] = active;
  out["deactivated_slaves"] = core.agents().size() - active;
  out["unreachable_slaves"] = core.registry().unreachable().size();
  out["slaves"] = std::move(agents);
  out["recovered_slaves"] = recoveredAgentsJson(core);
  json frameworks = json::array();
  for (const auto& [id, framework] : core.frameworks()) frameworks.push_back(frameworkJson(*framework, core));
  out["frameworks"] = std::move(frameworks);
  json completed = json::array();
  for (const auto& framework : core.completedFrameworks()) completed.push_back(completedFrameworkJson(framework));
  out["completed_frameworks"] = std::move(completed);
  out["orphan_tasks"] = json::array();
  out["unregistered_frameworks"] = json::array();
  out["flags"] = renderFlags(flags)["flags"];
  (void)now;
  return out;
}

nlohmann::json renderStateSummary(const MasterCore& core, const std::map<std::string, std::string>& flags) {
  // Tasks by state and the agent <-> framework relation, from the tasks
  // the master keeps for its frameworks (live, unreachable and completed).
  std::map<std::string, std::map<v1::TaskState, size_t>> countsByAgent;
  std::map<std::string, std::map<v1::TaskState, size_t>> countsByFramework;
  std::map<std::string, std::set<std::string>> frameworksByAgent;
  std::map<std::string, std::set<std::string>> agentsByFramework;
  for (const auto& [id, framework] : core.frameworks()) {
    auto count = [&](const v1::Task& task) {
      const std::string& agent = task.agent_id().value();
      ++countsByAgent[agent][task.state()];
      ++countsByFramework[id.value()][task.state()];
      frameworksByAgent[agent].insert(id.value());
      agentsByFramework[id.value()].insert(agent);
    };
    for (const auto& [taskId, task] : framework->tasks) count(task.task);
    for (const v1::Task& task : framework->unreachableTasks) count(task);
    for (const v1::Task& task : framework->completedTasks) count(task);
  }
  auto putCounts = [](json& out, const std::map<v1::TaskState, size_t>& counts) {
    for (v1::TaskState state : {v1::TASK_STAGING, v1::TASK_STARTING, v1::TASK_RUNNING, v1::TASK_KILLING,
                                v1::TASK_FINISHED, v1::TASK_KILLED, v1::TASK_FAILED, v1::TASK_LOST, v1::TASK_ERROR,
                                v1::TASK_UNREACHABLE}) {
      auto it = counts.find(state);
      out[v1::TaskState_Name(state)] = it == counts.end() ? 0 : it->second;
    }
  };
  auto idsJson = [](const std::set<std::string>& ids) {
    json out = json::array();
    for (const std::string& id : ids) out.push_back(id);
    return out;
  };
  json out;
  out["hostname"] = core.options().masterInfo.hostname();
  if (auto cluster = flags.find("cluster"); cluster != flags.end() && !cluster->second.empty()) {
    out["cluster"] = cluster->second;
  }
  json agents = json::array();
  for (const auto& [id, agent] : core.agents()) {
    json entry = agentJson(*agent, core);
    putCounts(entry, countsByAgent[id.value()]);
    entry["framework_ids"] = idsJson(frameworksByAgent[id.value()]);
    agents.push_back(std::move(entry));
  }
  out["slaves"] = std::move(agents);
  json frameworks = json::array();
  for (const auto& [id, framework] : core.frameworks()) {
    json entry = frameworkSummaryJson(*framework, core);
    putCounts(entry, countsByFramework[id.value()]);
    entry["slave_ids"] = idsJson(agentsByFramework[id.value()]);
    frameworks.push_back(std::move(entry));
  }
  out["frameworks"] = std::move(frameworks);
  return out;
}

nlohmann::json renderFrameworks(const MasterCore& core, TimePoint now) {
  json state = renderState(core, {}, Leadership{}, now);
  return json{{"frameworks", state["frameworks"]},
              {"completed_frameworks", state["completed_frameworks"]},
              {"unregistered_frameworks", json::array()}};
}

nlohmann::json renderAgents(const MasterCore& core) {
  json agents = json::array();
  for (const auto& [id, agent] : core.agents()) agents.push_back(agentJson(*agent, core));
  return json{{"slaves", std::move(agents)}, {"recovered_slaves", recoveredAgentsJson(core)}};
}

nlohmann::json renderTasks(const MasterCore& core, const std::string& target) {
  std::string frameworkFilter = net::queryParameter(target, "framework_id");
  std::string taskFilter = net::queryParameter(target, "task_id");
  // Mesos's paging: `limit` (default 100), `offset`, `order` (asc|desc by
  // the task's first status timestamp, desc by default); bad numbers are
  // ignored, as Mesos does.
  auto number = [&](const char* name, size_t fallback) {
    std::string text = net::queryParameter(target, name);
    size_t value = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    return text.empty() || error != std::errc() || end != text.data() + text.size() ? fallback : value;
  };
  size_t limit = number("limit", 100);
  size_t offset = number("offset", 0);
  bool ascending = net::queryParameter(target, "order") == "asc";
  std::vector<const v1::Task*> selected;
  auto add = [&](const v1::Task& task) {
    if (!frameworkFilter.empty() && task.framework_id().value() != frameworkFilter) return;
    if (!taskFilter.empty() && task.task_id().value() != taskFilter) return;
    selected.push_back(&task);
  };
  for (const auto& [id, framework] : core.frameworks()) {
    for (const auto& [taskId, task] : framework->tasks) add(task.task);
    for (const v1::Task& task : framework->unreachableTasks) add(task);
    for (const v1::Task& task : framework->completedTasks) add(task);
  }
  for (const auto& framework : core.completedFrameworks()) {
    for (const v1::Task& task : framework.completedTasks) add(task);
  }
  auto firstTimestamp = [](const v1::Task* task) {
    return task->statuses_size() > 0 ? task->statuses(0).timestamp() : 0.0;
  };
  std::stable_sort(selected.begin(), selected.end(), [&](const v1::Task* a, const v1::Task* b) {
    return ascending ? firstTimestamp(a) < firstTimestamp(b) : firstTimestamp(a) > firstTimestamp(b);
  });
  json tasks = json::array();
  for (size_t i = offset; i < selected.size() && i - offset < limit; ++i) tasks.push_back(taskJson(*selected[i]));
  return json{{"tasks", std::move(tasks)}};
}

nlohmann::json renderRoles(const MasterCore& core) {
  // Every role that has a framework, a weight, a quota, a reservation or an
  // allocation (Mesos's "known" roles).
  std::map<std::string, std::vector<std::string>> frameworksByRole;
  for (const auto& [role, weight] : core.options().weights) frameworksByRole[role];
  for (const auto& [role, config] : core.registry().quotas()) frameworksByRole[role];
  for (const auto& [id, framework] : core.frameworks()) {
    for (const std::string& role : framework->roles) frameworksByRole[role].push_back(id.value());
  }
  std::map<std::string, Resources> offeredByRole;
  std::map<std::string, Resources> allocatedByRole;  // offered or used, as the allocator counts it
  std::map<std::string, Resources> reservedByRole;
  for (const auto& [id, offer] : core.offers()) offeredByRole[offer.role] += offer.resources;
  for (const auto& [id, agent] : core.agents()) {
    for (const ResourceEntry& entry : agent->total.entries()) {
      if (!entry.reservations.empty()) frameworksByRole[entry.reservationRole()];
    }
    Resources allocated = core.allocator().allocated(id);
    for (const ResourceEntry& entry : allocated.entries()) {
      if (!entry.allocationRole.empty()) frameworksByRole[entry.allocationRole];
    }
    for (const auto& [role, frameworks] : frameworksByRole) {
      allocatedByRole[role] += allocated.allocatedTo(role);
      reservedByRole[role] += agent->total.reservedFor(role);
    }
  }
  json roles = json::array();
  for (const auto& [role, frameworks] : frameworksByRole) {
    auto weight = core.options().weights.find(role);
    const Resources& offered = offeredByRole[role];
    json entry{{"name", role},
               {"weight", weight == core.options().weights.end() ? 1.0 : weight->second},
               {"frameworks", frameworks},
               {"resources", allocatedByRole[role].toStateJson()},
               {"allocated", (allocatedByRole[role] - offered).toStateJson()},
               {"offered", offered.toStateJson()},
               {"reserved", reservedByRole[role].toStateJson()}};
    if (auto quota = core.registry().quotas().find(role); quota != core.registry().quotas().end()) {
      json guarantee = json::object();
      for (const auto& [name, scalar] : quota->second.guarantees()) guarantee[name] = scalar.value();
      json limit = json::object();
      for (const auto& [name, scalar] : quota->second.limits()) limit[name] = scalar.value();
      json consumed = json::object();
      for (const auto& [name, amount] : core.allocator().consumption(role)) consumed[name] = amount;
      entry["quota"] = json{{"role", role}, {"guarantee", guarantee}, {"limit", limit}, {"consumed", consumed}};
    }
    roles.push_back(std::move(entry));
  }
  return json{{"roles", std::move(roles)}};
}

nlohmann::json renderMetrics(const MasterCore& core, const Leadership& leadership, TimePoint now) {
  json out;
  const MasterCounters& counters = core.counters();
  out["master/elected"] = leadership.elected ? 1 : 0;
  out["master/uptime_secs"] = std::chrono::duration<double>(now - core.startTime()).count();
  size_t connectedAgents = 0;
  Resources total;
  Resources used;
  for (const auto& [id, agent] : core.agents()) {
    if (agent->connected) ++connectedAgents;
    total += agent->total;
    used += core.allocator().allocated(id).withoutAllocation();
  }
  out["master/slaves_active"] = connectedAgents;
  out["master/slaves_connected"] = connectedAgents;
  out["master/slaves_disconnected"] = core.agents().size() - connectedAgents;
  out["master/slaves_inactive"] = core.agents().size() - connectedAgents;
  out["master/slaves_unreachable"] = core.registry().unreachable().size();
  size_t connectedFrameworks = 0;
  std::map<std::string, uint64_t> taskStates;
  for (const auto& [id, framework] : core.frameworks()) {
    if (framework->connected) ++connectedFrameworks;
    taskStates["TASK_UNREACHABLE"] += framework->unreachableTasks.size();
    for (const auto& [taskId, task] : framework->tasks) {
      if (!isTerminalState(task.task.state())) ++taskStates[v1::TaskState_Name(task.task.state())];
    }
  }
  putFrameworkMetrics(out, core);
  out["master/frameworks_active"] = connectedFrameworks;
  out["master/frameworks_connected"] = connectedFrameworks;
  out["master/frameworks_disconnected"] = core.frameworks().size() - connectedFrameworks;
  out["master/frameworks_inactive"] = core.frameworks().size() - connectedFrameworks;
  out["master/outstanding_offers"] = core.offers().size();
  for (const char* state : {"TASK_STAGING", "TASK_STARTING", "TASK_RUNNING", "TASK_KILLING", "TASK_UNREACHABLE"}) {
    std::string key = std::string("master/tasks_") + (state + 5);
    std::transform(key.begin(), key.end(), key.begin(), ::tolower);
    out[key] = taskStates[state];
  }
  for (const char* state : {"TASK_FINISHED", "TASK_FAILED", "TASK_KILLED", "TASK_LOST", "TASK_ERROR",
                            "TASK_DROPPED", "TASK_GONE", "TASK_GONE_BY_OPERATOR"}) {
    std::string key = std::string("master/tasks_") + (state + 5);
    std::transform(key.begin(), key.end(), key.begin(), ::tolower);
    auto it = counters.terminalTasks.find(state);
    out[key] = it == counters.terminalTasks.end() ? 0 : it->second;
  }
  for (const char* name : {"cpus", "mem", "disk", "gpus"}) {
    putResourceUsage(out, "master", name, total.scalar(name), used.scalar(name));
  }
  out["master/slave_registrations"] = counters.agentRegistrations;
  out["master/slave_reregistrations"] = counters.agentReregistrations;
  out["master/slave_removals"] = counters.agentRemovalsUnhealthy + counters.recoveryAgentRemovals;
  out["master/slave_removals/reason_unhealthy"] = counters.agentRemovalsUnhealthy;
  out["master/recovery_slave_removals"] = counters.recoveryAgentRemovals;
  out["master/slave_unreachable_scheduled"] = counters.agentUnreachableScheduled;
  out["master/slave_unreachable_completed"] = counters.agentUnreachableCompleted;
  out["master/slave_unreachable_canceled"] = counters.agentUnreachableCanceled;
  out["master/valid_status_updates"] = counters.validStatusUpdates;
  out["master/invalid_status_updates"] = counters.invalidStatusUpdates;
  out["master/valid_status_update_acknowledgements"] = counters.statusUpdateAcknowledgements;
  out["master/dropped_messages"] = counters.droppedMessages;
  alloc::AllocatorStats stats = core.allocator().stats(now);
  out["allocator/mesos/allocation_runs"] = stats.allocationRuns;
  out["allocator/mesos/allocation_run_ms"] = stats.lastAllocationRunMs;
  out["allocator/mesos/offers_made"] = stats.offersMade;
  out["allocator/mesos/offer_filters/active"] = stats.activeFilters;
  for (const auto& [role, count] : stats.activeFiltersByRole) {
    out["allocator/mesos/offer_filters/roles/" + role + "/active"] = count;
  }
  for (const auto& [role, quantities] : stats.quotaConsumption) {
    for (const auto& [name, amount] : quantities) {
      out["allocator/mesos/quota/roles/" + role + "/resources/" + name + "/offered_or_allocated"] = amount;
    }
  }
  for (const auto& [role, share] : stats.dominantShares) {
    out["allocator/mesos/roles/" + role + "/shares/dominant"] = share;
  }
  out["allocator/mesos/resources/cpus/total"] = total.cpus();
  out["allocator/mesos/resources/cpus/offered_or_allocated"] = used.cpus();
  out["allocator/mesos/resources/mem/total"] = total.mem();
  out["allocator/mesos/resources/mem/offered_or_allocated"] = used.mem();
  for (const auto& [type, count] : counters.schedulerCalls) {
    std::string key = "master/messages_" + type;
    std::transform(key.begin(), key.end(), key.begin(), ::tolower);
    out[key] = count;
  }
  putSystemMetrics(out);
  return out;
}

}  // namespace mezzo::master
