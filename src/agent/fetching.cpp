// The daemon's side of the fetcher: which URIs a launch needs, starting the
// fetch of a new executor's sandbox (the executor waits in kFetching with
// its tasks queued), spawning it when the fetch succeeds, failing its tasks
// when it does not (TASK_FAILED, REASON_CONTAINER_LAUNCH_FAILED, as Mesos
// reports a failed fetch), and abandoning the fetch when the executor is
// shut down first (its tasks are killed without a launch).
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/post.hpp>

#include "agent/agent_daemon.hpp"

namespace mezzo::agent {

namespace {

void appendUris(const v1::CommandInfo& command, std::vector<v1::CommandInfo::URI>* uris) {
  const auto& from = command.uris();
  uris->insert(uris->end(), from.begin(), from.end());
}

}  // namespace

Status AgentDaemon::startFetcher() {
  FetcherOptions options;
  options.cacheDir = flags_.fetcherCacheDir.empty() ? flags_.workDir + "/fetch" : flags_.fetcherCacheDir;
  options.cacheSize = flags_.fetcherCacheSize;
  options.stallTimeout = flags_.fetcherStallTimeout;
  flags_.rendered["fetcher_cache_dir"] = options.cacheDir;
  fetcher_ = std::make_unique<Fetcher>(io_, std::move(options));
  return fetcher_->start();
}

AgentDaemon::FetchPlan AgentDaemon::fetchPlanForTask(const FrameworkRecord& framework, const v1::TaskInfo& task) const {
  // A command task's URIs are fetched into the command executor's sandbox,
  // which is also the task's; a custom executor fetches its own.
  FetchPlan plan;
  const v1::CommandInfo& command = task.has_executor() ? task.executor().command() : task.command();
  appendUris(command, &plan.uris);
  plan.user = command.has_user() ? command.user() : framework.info.user();
  return plan;
}

AgentDaemon::FetchPlan AgentDaemon::fetchPlanForGroup(const FrameworkRecord& framework,
                                                      const v1::ExecutorInfo& executor,
                                                      const v1::TaskGroupInfo& group) const {
  // The default executor's tasks share its sandbox: their URIs go there too.
  FetchPlan plan;
  appendUris(executor.command(), &plan.uris);
  for (const v1::TaskInfo& task : group.tasks()) appendUris(task.command(), &plan.uris);
  plan.user = executor.command().has_user() ? executor.command().user() : framework.info.user();
  return plan;
}

void AgentDaemon::startFetch(FrameworkRecord& framework, ExecutorRecord& executor, const FetchPlan& plan) {
  ExecutorKey key{framework.id, ExecutorId(executor.info.executor_id().value())};
  spdlog::info("Fetching {} URI(s) for executor {} of framework {} into {}", plan.uris.size(), key.second.value(),
               key.first.value(), executor.directory);
  FetchRequest request{executor.containerId, executor.directory, plan.user, plan.uris};
  fetcher_->fetch(std::move(request), [this, key, containerId = executor.containerId](const Status& status) {
    onFetched(key, containerId, status);
  });
}

void AgentDaemon::onFetched(const ExecutorKey& key, const std::string& containerId, const Status& fetched) {
  FrameworkRecord* fw = framework(key.first);
  ExecutorRecord* executor = fw != nullptr ? fw->executor(key.second) : nullptr;
  if (executor == nullptr || executor->containerId != containerId ||
      executor->state != ExecutorRecord::State::kFetching) {
    return;  // shut down (and retired) while fetching
  }
  std::string failure;
  if (!fetched) {
    failure = "Failed to launch container: " + fetched.message();
  } else if (Status spawned = spawnExecutor(*fw, *executor); !spawned) {
    failure = "Failed to launch the executor: " + spawned.message();
  }
  if (failure.empty()) return;
  spdlog::error("Executor {} of framework {}: {}", key.second.value(), key.first.value(), failure);
  executor->endReason = ExecutorRecord::EndReason::kLaunchFailed;
  retireExecutor(*fw, *executor, OrphanStatus{v1::TASK_FAILED, v1::TaskStatus::REASON_CONTAINER_LAUNCH_FAILED, failure},
                 std::nullopt);
}

void AgentDaemon::abortFetch(FrameworkRecord& framework, ExecutorRecord& executor, ExecutorRecord::EndReason reason) {
  spdlog::info("Shutting down executor {} of framework {} while fetching its URIs", executor.info.executor_id().value(),
               framework.id.value());
  fetcher_->cancel(executor.containerId);
  executor.state = ExecutorRecord::State::kTerminating;
  executor.endReason = reason;
  // Retired from the loop, not here: callers may be iterating over the
  // framework's executors.
  ExecutorKey key{framework.id, ExecutorId(executor.info.executor_id().value())};
  boost::asio::post(io_, [this, key, containerId = executor.containerId] {
    FrameworkRecord* fw = this->framework(key.first);
    ExecutorRecord* current = fw != nullptr ? fw->executor(key.second) : nullptr;
    if (current == nullptr || current->containerId != containerId) return;
    retireExecutor(*fw, *current,
                   OrphanStatus{v1::TASK_KILLED, v1::TaskStatus::REASON_TASK_KILLED_DURING_LAUNCH,
                                "Killed while the executor's URIs were being fetched"},
                   std::nullopt);
  });
}

void AgentDaemon::fetchForGroup(FrameworkRecord& framework, ExecutorRecord& executor, const v1::TaskGroupInfo& group,
                                const FetchPlan& plan) {
  const ExecutorKey key{framework.id, ExecutorId(executor.info.executor_id().value())};
  const std::string job = executor.containerId + "/group/" + group.tasks(0).task_id().value();
  executor.fetchingGroups[job] = group;
  spdlog::info("Fetching {} URI(s) for a task group of executor {} of framework {} into {}", plan.uris.size(),
               key.second.value(), key.first.value(), executor.directory);
  FetchRequest request{job, executor.directory, plan.user, plan.uris};
  fetcher_->fetch(std::move(request), [this, key, containerId = executor.containerId, job](const Status& status) {
    onGroupFetched(key, containerId, job, status);
  });
}

void AgentDaemon::onGroupFetched(const ExecutorKey& key, const std::string& containerId, const std::string& job,
                                 const Status& fetched) {
  FrameworkRecord* fw = framework(key.first);
  ExecutorRecord* executor = fw != nullptr ? fw->executor(key.second) : nullptr;
  // An executor that ended meanwhile failed the group's tasks as it retired.
  if (executor == nullptr || executor->containerId != containerId) return;
  auto node = executor->fetchingGroups.extract(job);
  if (node.empty()) return;  // killed while fetching
  const v1::TaskGroupInfo& group = node.mapped();
  if (executor->state == ExecutorRecord::State::kTerminating) return;  // its retirement ends the tasks
  if (!fetched) {
    const std::string failure = "Failed to launch container: " + fetched.message();
    spdlog::error("Task group of executor {} of framework {}: {}", key.second.value(), key.first.value(), failure);
    for (const v1::TaskInfo& task : group.tasks()) {
      generateStatus(*fw, TaskId(task.task_id().value()), v1::TASK_FAILED,
                     v1::TaskStatus::REASON_CONTAINER_LAUNCH_FAILED, failure);
    }
    return;
  }
  // Fetched as the agent: the files belong to the executor's user.
  if (Status given = giveSandboxToUser(*executor); !given) spdlog::warn("{}", given.message());
  deliverTaskGroup(*fw, *executor, group);
}

bool AgentDaemon::killFetchingGroup(FrameworkRecord& framework, ExecutorRecord& executor, const TaskId& task) {
  for (auto it = executor.fetchingGroups.begin(); it != executor.fetchingGroups.end(); ++it) {
    const auto& tasks = it->second.tasks();
    if (std::none_of(tasks.begin(), tasks.end(),
                     [&](const v1::TaskInfo& info) { return info.task_id().value() == task.value(); })) {
      continue;
    }
    fetcher_->cancel(it->first);
    const v1::TaskGroupInfo group = std::move(it->second);
    executor.fetchingGroups.erase(it);
    for (const v1::TaskInfo& info : group.tasks()) {
      generateStatus(framework, TaskId(info.task_id().value()), v1::TASK_KILLED,
                     v1::TaskStatus::REASON_TASK_KILLED_DURING_LAUNCH,
                     "Killed while the URIs of its task group were being fetched");
    }
    return true;
  }
  return false;
}

}  // namespace mezzo::agent
