// The agent's /metrics/snapshot (also GET_METRICS of the operator API): the
// Mesos agent's metric names (mesos-reference.md §3) for what Mezzo's agent
// has: registration and uptime, resources in use, tasks by state (gauges
// for live states, counters for terminal ones), executors by state,
// frameworks, status updates and framework messages, container launch
// errors, recovery, sandbox GC, the fetcher and the host (system/*).
#include <nlohmann/json.hpp>

#include "agent/agent_daemon.hpp"
#include "mezzo/common/operator_responses.hpp"
#include "mezzo/common/resources.hpp"

namespace mezzo::agent {

using nlohmann::json;

namespace {

// Mesos's metric name of a task state: TASK_RUNNING -> "running".
std::string stateSuffix(v1::TaskState state) {
  std::string name = v1::TaskState_Name(state).substr(5);
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return name;
}

}  // namespace

json AgentDaemon::renderMetrics() const {
  json out = json::object();
  out["slave/registered"] = registered_ ? 1 : 0;
  out["slave/uptime_secs"] = toEpochSeconds(clock_.now()) - toEpochSeconds(startTime_);

  // Resources: what live tasks and executors hold.
  auto totalResult = Resources::fromProto(info_.resources());
  const Resources total = totalResult ? std::move(*totalResult) : Resources();
  Resources used;
  std::map<v1::TaskState, uint64_t> liveTasks;
  std::map<std::string, uint64_t> executors{{"registering", 0}, {"running", 0}, {"terminating", 0}};
  uint64_t frameworksActive = 0;
  for (const auto& [frameworkId, framework] : frameworks_) {
    if (!framework->terminating) ++frameworksActive;
    for (const auto& [taskId, task] : framework->tasks) {
      if (isTerminalTaskState(task.state())) continue;
      ++liveTasks[task.state()];
      if (auto resources = Resources::fromProto(task.resources())) used += *resources;
    }
    for (const auto& [executorId, executor] : framework->executors) {
      if (auto resources = Resources::fromProto(executor->info.resources())) used += *resources;
      switch (executor->state) {
        case ExecutorRecord::State::kFetching:
        case ExecutorRecord::State::kLaunching:
          ++executors["registering"];
          break;
        case ExecutorRecord::State::kTerminating:
          ++executors["terminating"];
          break;
        default:
          ++executors["running"];
      }
    }
  }
  for (const char* name : {"cpus", "mem", "disk"})
    putResourceUsage(out, "slave", name, total.scalar(name), used.scalar(name));

  for (v1::TaskState state : {v1::TASK_STAGING, v1::TASK_STARTING, v1::TASK_RUNNING, v1::TASK_KILLING}) {
    auto it = liveTasks.find(state);
    out["slave/tasks_" + stateSuffix(state)] = it == liveTasks.end() ? 0 : it->second;
  }
  for (v1::TaskState state : {v1::TASK_FINISHED, v1::TASK_FAILED, v1::TASK_KILLED, v1::TASK_LOST, v1::TASK_GONE}) {
    auto it = counters_.terminalTasks.find(state);
    out["slave/tasks_" + stateSuffix(state)] = it == counters_.terminalTasks.end() ? 0 : it->second;
  }
  for (const auto& [name, count] : executors) out["slave/executors_" + name] = count;
  out["slave/executors_terminated"] = counters_.executorsTerminated;
  out["slave/executors_preempted"] = 0;
  out["slave/frameworks_active"] = frameworksActive;
  out["slave/container_launch_errors"] = counters_.containerLaunchErrors;
  out["slave/valid_status_updates"] = counters_.validStatusUpdates;
  out["slave/invalid_status_updates"] = counters_.invalidStatusUpdates;
  out["slave/valid_framework_messages"] = counters_.validFrameworkMessages;
  out["slave/invalid_framework_messages"] = counters_.invalidFrameworkMessages;
  // A recovery error stops the agent (nothing is recovered by half), so none is ever counted.
  out["slave/recovery_errors"] = 0;
  out["slave/recovery_time_secs"] = counters_.recoverySeconds;
  out["gc/path_removals_succeeded"] = counters_.gcRemovalsSucceeded;
  out["gc/path_removals_failed"] = counters_.gcRemovalsFailed;
  out["gc/path_removals_pending"] = sandboxGc_.size();

  const FetcherMetrics fetcher = fetcher_ ? fetcher_->metrics() : FetcherMetrics{};
  out["containerizer/fetcher/task_fetches_succeeded"] = fetcher.fetchesSucceeded;
  out["containerizer/fetcher/task_fetches_failed"] = fetcher.fetchesFailed;
  out["containerizer/fetcher/cache_size_total_bytes"] = fetcher.cacheTotalBytes;
  out["containerizer/fetcher/cache_size_used_bytes"] = fetcher.cacheUsedBytes;
  putSystemMetrics(out);
  return out;
}

}  // namespace mezzo::agent
