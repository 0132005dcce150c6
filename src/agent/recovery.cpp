// Agent recovery (mesos-reference.md §4.3): rebuilds the state of
// checkpointing frameworks from `<work_dir>/meta` at start-up.
//
// - The agent id comes back, so the agent re-registers as the same agent and
//   reports the recovered tasks (with the state of their pending update).
// - Status update streams are replayed (updates, then acknowledgements), so
//   unacknowledged updates are resent after registration and duplicates
//   from re-subscribing executors are recognised by uuid.
// - An executor whose process is still alive (same boot, its session leader
//   exists) is re-attached in state kRecovering: it must re-subscribe within
//   --executor_reregistration_timeout or it is killed. Tasks it never got
//   (still STAGING and not in its SUBSCRIBE) are delivered again.
// - An executor whose process is gone has its live tasks failed
//   (REASON_EXECUTOR_TERMINATED); after a reboot (another boot id) they are
//   reported TASK_LOST (REASON_AGENT_RESTARTED) and old pids are left alone.
// - --recover=cleanup kills live executors instead of re-attaching them.
// - A command task the agent supervised (supervised_tasks.cpp) is
//   re-attached at once while the task supervisor still runs it; otherwise
//   its status file says how it ended (no file: it is gone with its
//   supervisor). Tasks the supervisor runs that nobody recovered are killed.
#include <signal.h>
#include <spdlog/spdlog.h>

#include "agent/agent_daemon.hpp"
#include "agent/process.hpp"
#include "mezzo/common/durations.hpp"

namespace mezzo::agent {

namespace {

constexpr auto kRecoveredPollInterval = std::chrono::milliseconds(250);

std::chrono::milliseconds toMillis(Duration duration) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(duration);
}

}  // namespace

void AgentDaemon::checkpointOrLog(const Status& status) const {
  // Mesos aborts here; we keep running tasks alive and say so loudly.
  if (!status) spdlog::error("Checkpointing failed: {}", status.message());
}

Status AgentDaemon::recover() {
  auto state = checkpointer_.recover();
  if (!state) return state.status();
  const std::string bootId = currentBootId();
  const bool rebooted = !state->bootId.empty() && state->bootId != bootId;
  if (state->agent && state->agent->has_id()) {
    Status compatible = checkReconfiguration(flags_.reconfigurationPolicy, *state->agent, info_);
    if (!compatible) {
      return Status::failedPrecondition(compatible.message() + "; to start as a new agent, remove " +
                                        checkpointer_.metaDir() + "/slaves/latest");
    }
    agentId_ = state->agent->id().value();
    spdlog::info("Recovering agent {} from {}{}", agentId_, checkpointer_.metaDir(),
                 rebooted ? " (the host rebooted since)" : "");
    for (RecoveredFramework& framework : state->frameworks) recoverFramework(framework, rebooted);
    if (size_t removed = checkpointer_.removeOtherAgents(agentId_); removed > 0) {
      spdlog::info("Removed the checkpoints of {} earlier agent id(s)", removed);
    }
  }
  return checkpointer_.writeBootId(bootId);
}

void AgentDaemon::recoverFramework(RecoveredFramework& recovered, bool rebooted) {
  if (!recovered.info.has_id()) return;
  FrameworkId id(recovered.info.id().value());
  auto record = std::make_unique<FrameworkRecord>();
  record->id = id;
  record->info = recovered.info;
  FrameworkRecord& framework = *record;
  frameworks_[id] = std::move(record);
  spdlog::info("Recovering framework {} ({} executors)", id.value(), recovered.executors.size());
  // Every record first, then the verdicts: an executor found gone may remove
  // an idle framework, which must not happen while others are still unread.
  std::vector<std::pair<ExecutorId, bool>> executors;  // id, ended before the restart
  for (RecoveredExecutor& executor : recovered.executors) {
    recoverExecutor(framework, executor);
    executors.emplace_back(ExecutorId(executor.info.executor_id().value()), executor.terminated || !executor.run);
  }
  for (const auto& [executorId, ended] : executors) settleRecoveredExecutor({id, executorId}, ended, rebooted);
  removeFrameworkIfIdle(id);
}

void AgentDaemon::recoverExecutor(FrameworkRecord& framework, RecoveredExecutor& recovered) {
  auto record = std::make_unique<ExecutorRecord>();
  ExecutorRecord& executor = *record;
  executor.info = recovered.info;
  executor.info.mutable_framework_id()->set_value(framework.id.value());
  executor.recovered = true;
  executor.state = ExecutorRecord::State::kRecovering;
  executor.timer = std::make_unique<boost::asio::steady_timer>(io_);
  executor.launchedAt = clock_.now();
  if (recovered.run && !recovered.terminated) {
    executor.containerId = recovered.run->containerId;
    executor.directory = recovered.run->directory;
    executor.pid = recovered.run->pid;
    executor.commandExecutor = recovered.run->commandExecutor;
    if (recovered.run->supervised && !recovered.tasks.empty()) {
      executor.supervised.emplace();
      executor.supervised->info = recovered.tasks.front().info;
      executor.supervised->completionTimer = std::make_unique<boost::asio::steady_timer>(io_);
    }
  }
  framework.executors[ExecutorId(executor.info.executor_id().value())] = std::move(record);
  for (RecoveredTask& task : recovered.tasks) recoverTask(framework, executor, task);
}

void AgentDaemon::settleRecoveredExecutor(const ExecutorKey& key, bool ended, bool rebooted) {
  FrameworkRecord* fw = framework(key.first);
  ExecutorRecord* executor = fw != nullptr ? fw->executor(key.second) : nullptr;
  if (executor == nullptr) return;
  if (executor->supervised && !ended && !rebooted) return settleRecoveredSupervisedTask(key, *fw, *executor);
  if (ended || rebooted || executor->pid <= 0 || !sessionLeaderAlive(executor->pid)) {
    if (rebooted) {
      executor->endReason = ExecutorRecord::EndReason::kHostRebooted;  // its pid means nothing now
    }
    return executorExited(*fw, *executor, std::nullopt);
  }
  if (flags_.recover == RecoverMode::kCleanup) {
    spdlog::info("Killing recovered executor {} (pid {}): --recover=cleanup", key.second.value(), executor->pid);
    executor->state = ExecutorRecord::State::kTerminating;
    executor->endReason = ExecutorRecord::EndReason::kRecoveryCleanup;
    signalSession(executor->pid, SIGKILL);
  } else {
    spdlog::info("Waiting {} for recovered executor {} (pid {}) to re-subscribe",
                 formatDuration(flags_.executorReregistrationTimeout), key.second.value(), executor->pid);
    executor->timer->expires_after(toMillis(flags_.executorReregistrationTimeout));
    executor->timer->async_wait([this, key](boost::system::error_code ec) {
      if (!ec) onReregistrationTimeout(key);
    });
  }
  watchRecoveredExecutors();
}

void AgentDaemon::settleRecoveredSupervisedTask(const ExecutorKey& key, FrameworkRecord& framework,
                                                ExecutorRecord& executor) {
  auto live = supervisorLiveAtStart_.find(executor.containerId);
  if (live == supervisorLiveAtStart_.end()) {
    // Ended while the agent was down (its status file tells how), or gone
    // with a supervisor that died (its session is killed).
    return executorExited(framework, executor, std::nullopt);
  }
  executor.pid = live->second;
  supervisorLiveAtStart_.erase(live);
  if (flags_.recover == RecoverMode::kCleanup) {
    spdlog::info("Killing recovered task {} (pid {}): --recover=cleanup", key.second.value(), executor.pid);
    supervisedContainers_[executor.containerId] = key;
    executor.state = ExecutorRecord::State::kTerminating;
    executor.endReason = ExecutorRecord::EndReason::kRecoveryCleanup;
    taskSupervisor_->signal(executor.containerId, SIGKILL);
    return;
  }
  reattachSupervisedTask(framework, executor);  // nothing to re-subscribe
}

void AgentDaemon::killUnrecoveredSupervisedTasks() {
  for (const auto& [containerId, pid] : supervisorLiveAtStart_) {
    spdlog::info("Killing task pid {} of container {}: no checkpoint recovered it", pid, containerId);
    taskSupervisor_->signal(containerId, SIGKILL);
  }
  supervisorLiveAtStart_.clear();
}

void AgentDaemon::recoverTask(FrameworkRecord& framework, ExecutorRecord& executor, RecoveredTask& recovered) {
  const TaskId taskId(recovered.info.task_id().value());
  v1::Task task = taskRecordFor(recovered.info, framework, agentId_);
  for (const v1::TaskStatus& update : recovered.updates) {
    statusUpdates_.add(framework.id, update);
    task.set_state(update.state());
    *task.mutable_statuses()->Add() = update;
  }
  framework.tasks[taskId] = std::move(task);
  bool finished = false;
  for (const std::string& uuid : recovered.acknowledged) {
    finished =
        statusUpdates_.acknowledge(framework.id, taskId, uuid) == StatusUpdateManager::AckResult::kStreamFinished;
  }
  if (finished) {
    completeTask(framework, taskId);  // also drops its checkpoint
    return;
  }
  if (recovered.updates.empty() && !executor.supervised) {
    executor.queuedTasks.push_back(recovered.info);  // never reached the executor (as far as we know)
  } else {
    executor.launchedTasks.insert(taskId);
  }
}

void AgentDaemon::onReregistrationTimeout(const ExecutorKey& key) {
  FrameworkRecord* fw = framework(key.first);
  ExecutorRecord* executor = fw != nullptr ? fw->executor(key.second) : nullptr;
  if (executor == nullptr || executor->state != ExecutorRecord::State::kRecovering) return;
  spdlog::warn("Recovered executor {} of framework {} did not re-subscribe within {}; destroying it",
               key.second.value(), key.first.value(), formatDuration(flags_.executorReregistrationTimeout));
  executor->state = ExecutorRecord::State::kTerminating;
  executor->endReason = ExecutorRecord::EndReason::kReregistrationTimeout;
  signalSession(executor->pid, SIGKILL);
}

void AgentDaemon::watchRecoveredExecutors() {
  if (recoveredTimer_.expiry() > std::chrono::steady_clock::now()) return;  // already scheduled
  recoveredTimer_.expires_after(kRecoveredPollInterval);
  recoveredTimer_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    std::vector<ExecutorKey> ended;
    bool watching = false;
    for (auto& [frameworkId, fw] : frameworks_) {
      for (auto& [executorId, executor] : fw->executors) {
        // Supervised tasks: the task supervisor reports their end.
        if (!executor->recovered || executor->pid <= 0 || executor->supervised) continue;
        if (sessionLeaderAlive(executor->pid)) {
          watching = true;
        } else {
          ended.push_back({frameworkId, executorId});
        }
      }
    }
    for (const ExecutorKey& key : ended) {
      FrameworkRecord* fw = framework(key.first);
      ExecutorRecord* executor = fw != nullptr ? fw->executor(key.second) : nullptr;
      if (executor != nullptr) executorExited(*fw, *executor, std::nullopt);
    }
    if (watching) watchRecoveredExecutors();
  });
}

}  // namespace mezzo::agent
