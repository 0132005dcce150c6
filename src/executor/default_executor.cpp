// The default executor's tasks: group launch, group kill with escalation,
// reaping, status updates and exit.
#include "executor/default_executor.hpp"

#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "agent/process.hpp"
#include "executor/task_process.hpp"
#include "mezzo/common/durations.hpp"

namespace mezzo::executor {

namespace {

using Event = v1::executor::Event;

}  // namespace

DefaultExecutor::DefaultExecutor(boost::asio::io_context& io, ExecutorEnvironment env)
    : io_(io),
      env_(env),
      client_(io, std::move(env),
              ExecutorClient::Handlers{.onEvent = [this](const Event& event) { handleEvent(event); },
                                       .onAcknowledged = [this](const v1::TaskID&) { finishIfDone(); },
                                       .onAgentLost =
                                           [this](const std::string& why) {
                                             spdlog::error("Lost the agent ({}); killing the tasks and exiting", why);
                                             for (auto& [id, run] : tasks_) {
                                               if (run.pid > 0) ::killpg(run.pid, SIGKILL);
                                             }
                                             exit(1);
                                           }}),
      exitTimer_(io),
      children_(io),
      terminationSignals_(io, SIGTERM, SIGINT) {}

DefaultExecutor::~DefaultExecutor() = default;

void DefaultExecutor::start() {
  spdlog::info("Starting default executor {} of framework {} (agent {})", env_.executorId, env_.frameworkId,
               env_.agent.toString());
  children_.start();
  watchTermination();
  client_.start();
}

void DefaultExecutor::handleEvent(const Event& event) {
  switch (event.type()) {
    case Event::LAUNCH_GROUP:
      return launchGroup(event.launch_group().task_group());
    case Event::LAUNCH: {
      TaskRun& run = addRun(event.launch().task(), nextGroup_++);
      return sendStatus(run, v1::TASK_FAILED, "The default executor runs task groups only (LAUNCH_GROUP)");
    }
    case Event::KILL: {
      auto it = tasks_.find(event.kill().task_id().value());
      if (it == tasks_.end()) {
        spdlog::warn("Ignoring KILL of unknown task {}", event.kill().task_id().value());
        return;
      }
      std::optional<v1::KillPolicy> policy;
      if (event.kill().has_kill_policy()) policy = event.kill().kill_policy();
      return killGroup(it->second.group, policy, std::nullopt);
    }
    case Event::SHUTDOWN:
      spdlog::info("Received SHUTDOWN from the agent");
      return shutdown(env_.shutdownGracePeriod);
    case Event::MESSAGE:
      spdlog::info("Received a framework message of {} bytes", event.message().data().size());
      return;
    default:
      return;
  }
}

DefaultExecutor::TaskRun& DefaultExecutor::addRun(const v1::TaskInfo& task, int group) {
  TaskRun& run = tasks_[task.task_id().value()];
  run.info = task;
  run.group = group;
  run.killTimer = std::make_unique<boost::asio::steady_timer>(io_);
  run.completionTimer = std::make_unique<boost::asio::steady_timer>(io_);
  client_.rememberTask(task);
  return run;
}

void DefaultExecutor::launchGroup(const v1::TaskGroupInfo& group) {
  const int groupIndex = nextGroup_++;
  std::vector<TaskRun*> runs;
  for (const v1::TaskInfo& task : group.tasks()) {
    if (tasks_.contains(task.task_id().value())) {
      spdlog::warn("Ignoring duplicate task {}", task.task_id().value());
      continue;
    }
    runs.push_back(&addRun(task, groupIndex));
  }
  // All tasks of a group start together: if one cannot, the group is killed.
  for (TaskRun* run : runs) sendStatus(*run, v1::TASK_STARTING, "");
  bool allStarted = true;
  for (TaskRun* run : runs) allStarted = spawnTask(*run) && allStarted;
  for (TaskRun* run : runs) {
    if (run->pid <= 0) continue;
    startChecks(*run);
    sendStatus(*run, v1::TASK_RUNNING, "");
    startCompletionTimer(*run);
  }
  if (!allStarted) killGroup(groupIndex, std::nullopt, std::nullopt);
}

bool DefaultExecutor::spawnTask(TaskRun& run) {
  const std::string& id = run.info.task_id().value();
  const std::filesystem::path sandbox = env_.sandbox.empty() ? std::string(".") : env_.sandbox;
  const std::filesystem::path taskDir = sandbox / "tasks" / id;
  std::error_code ec;
  std::filesystem::create_directories(taskDir, ec);
  auto pid = spawnNestedTask(run.info, sandbox.string(), ec ? "" : (taskDir / "stdout").string(),
                             ec ? "" : (taskDir / "stderr").string(), {env_.launchHelper, env_.switchUser});
  if (!pid) {
    spdlog::error("Failed to launch task {}: {}", id, pid.error());
    sendStatus(run, v1::TASK_FAILED, pid.error());
    return false;
  }
  run.pid = *pid;
  children_.watch(run.pid, [this, id](int waitStatus) {
    auto it = tasks_.find(id);
    if (it != tasks_.end()) taskExited(it->second, waitStatus);
  });
  spdlog::info("Running task {} as pid {}", id, run.pid);
  return true;
}

void DefaultExecutor::startCompletionTimer(TaskRun& run) {
  auto limit = maxCompletionTime(run.info);
  if (!limit) return;
  const std::string id = run.info.task_id().value();
  spdlog::info("Task {} has a max completion time of {}", id, formatDuration(*limit));
  run.completionTimer->expires_after(toMillis(*limit));
  run.completionTimer->async_wait([this, id, limit = *limit](boost::system::error_code ec) {
    if (!ec) completionTimeReached(id, limit);
  });
}

// As Mesos: killed at once without TASK_KILLING; its TASK_FAILED then takes the group down.
void DefaultExecutor::completionTimeReached(const std::string& taskId, Duration limit) {
  auto it = tasks_.find(taskId);
  if (it == tasks_.end()) return;
  TaskRun& run = it->second;
  if (run.terminal || run.killing || run.pid <= 0) return;
  spdlog::warn("Killing task {}, which exceeded its max completion time of {}", taskId, formatDuration(limit));
  run.killing = true;
  run.killedByCompletionTimeout = true;
  run.checks.stop();
  ::killpg(run.pid, SIGKILL);
}

void DefaultExecutor::startChecks(TaskRun& run) {
  const std::string id = run.info.task_id().value();
  run.checks.start(io_, children_, run.info, env_.sandbox.empty() ? std::string(".") : env_.sandbox,
                   {.onHealth = [this, id](const HealthTracker::Update& update) { healthChanged(id, update); },
                    .onCheck = [this, id](const v1::CheckStatusInfo& status) { checkChanged(id, status); }});
}

void DefaultExecutor::healthChanged(const std::string& taskId, const HealthTracker::Update& update) {
  auto it = tasks_.find(taskId);
  if (it == tasks_.end()) return;
  TaskRun& run = it->second;
  if (run.killing || run.terminal || run.pid <= 0 || !run.lastStatus) return;
  spdlog::info("Task {} is {}", taskId, update.healthy ? "healthy" : "not healthy");
  sendStatus(run, healthUpdate(*run.lastStatus, update.healthy));
  if (update.killTask) {
    spdlog::warn("Killing the group of task {} after {} consecutive failed health checks", taskId,
                 update.consecutiveFailures);
    run.killedByHealthCheck = true;
    killGroup(run.group, std::nullopt, std::nullopt);
  }
}

void DefaultExecutor::checkChanged(const std::string& taskId, const v1::CheckStatusInfo& checkStatus) {
  auto it = tasks_.find(taskId);
  if (it == tasks_.end()) return;
  TaskRun& run = it->second;
  if (run.killing || run.terminal || run.pid <= 0 || !run.lastStatus) return;
  sendStatus(run, checkUpdate(*run.lastStatus, checkStatus));
}

void DefaultExecutor::killGroup(int group, const std::optional<v1::KillPolicy>& policy, std::optional<Duration> cap) {
  for (auto& [id, run] : tasks_) {
    if (run.group == group) killTask(run, policy, cap);
  }
}

void DefaultExecutor::killTask(TaskRun& run, const std::optional<v1::KillPolicy>& policy, std::optional<Duration> cap) {
  if (run.terminal) return;
  run.checks.stop();
  if (run.pid <= 0) {
    run.killing = true;
    return sendStatus(run, v1::TASK_KILLED, "Task was killed before it ran");
  }
  const Duration grace = killGracePeriod(policy, run.info, cap);
  const bool alreadyKilling = run.killing;
  run.killing = true;
  if (alreadyKilling && !cap) return;
  if (!alreadyKilling) {
    if (client_.frameworkHasCapability(v1::FrameworkInfo::Capability::TASK_KILLING_STATE)) {
      sendStatus(run, v1::TASK_KILLING, "");
    }
    spdlog::info("Killing task {} (pid group {}) with a grace period of {}", run.info.task_id().value(), run.pid,
                 formatDuration(grace));
    ::killpg(run.pid, SIGTERM);
  }
  const pid_t pid = run.pid;
  run.killTimer->expires_after(toMillis(grace));
  run.killTimer->async_wait([pid](boost::system::error_code ec) {
    // The task may have been reaped already; its pid group is gone then
    // (a pid is not reused while its group lives on in our children).
    if (!ec) ::killpg(pid, SIGKILL);
  });
}

void DefaultExecutor::shutdown(std::optional<Duration> cap) {
  shuttingDown_ = true;
  if (cap) cap = std::max(Duration::zero(), *cap - Duration(kShutdownReserve));
  for (auto& [id, run] : tasks_) killTask(run, std::nullopt, cap);
  finishIfDone();
}

void DefaultExecutor::watchTermination() {
  terminationSignals_.async_wait([this](boost::system::error_code ec, int signal) {
    if (ec) return;
    spdlog::info("Received signal {}; killing the tasks", signal);
    shutdown(Duration(kShutdownReserve));
    watchTermination();
  });
}

void DefaultExecutor::taskExited(TaskRun& run, int waitStatus) {
  run.pid = -1;
  run.killTimer->cancel();
  run.completionTimer->cancel();
  run.checks.stop();
  v1::TaskStatus status = terminalStatus(waitStatus, {.killing = run.killing,
                                                      .killedByHealthCheck = run.killedByHealthCheck,
                                                      .killedByCompletionTimeout = run.killedByCompletionTimeout});
  spdlog::info("Task {}: {}", run.info.task_id().value(), status.message());
  const v1::TaskState state = status.state();
  sendStatus(run, std::move(status));
  // A failed task takes its group down (a finished one does not).
  if (state == v1::TASK_FAILED) killGroup(run.group, std::nullopt, std::nullopt);
  finishIfDone();
}

void DefaultExecutor::sendStatus(TaskRun& run, v1::TaskState state, const std::string& message) {
  v1::TaskStatus status;
  status.set_state(state);
  if (!message.empty()) status.set_message(message);
  sendStatus(run, std::move(status));
}

// `status` without its task id, which comes from `run`.
void DefaultExecutor::sendStatus(TaskRun& run, v1::TaskStatus status) {
  if (run.terminal) return;
  *status.mutable_task_id() = run.info.task_id();
  addEmptyCheckStatus(run.info, status);
  run.lastStatus = status;
  const v1::TaskState state = status.state();
  const bool terminal = state == v1::TASK_FINISHED || state == v1::TASK_FAILED || state == v1::TASK_KILLED;
  if (terminal) run.terminal = true;
  client_.sendStatus(std::move(status));
  if (terminal && !anyLive()) {
    exitTimer_.expires_after(kTerminalAckWait);
    exitTimer_.async_wait([this](boost::system::error_code ec) {
      if (ec) return;
      client_.whenIdle([this] {
        spdlog::warn("The terminal updates were not acknowledged in time; exiting anyway");
        exit(0);
      });
    });
  }
}

bool DefaultExecutor::anyLive() const {
  for (const auto& [id, run] : tasks_) {
    if (!run.terminal) return true;
  }
  return false;
}

void DefaultExecutor::finishIfDone() {
  if (anyLive()) return;
  if ((!tasks_.empty() && client_.allAcknowledged()) || (shuttingDown_ && tasks_.empty())) exit(0);
}

void DefaultExecutor::exit(int code) {
  if (exiting_) return;
  exiting_ = true;
  exitCode_ = code;
  spdlog::info("Default executor exiting with code {}", code);
  client_.close();
  io_.stop();
}

}  // namespace mezzo::executor
