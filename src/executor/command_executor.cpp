// The task side of the command executor: launch, kill with escalation,
// reaping, status updates and exit.
#include "executor/command_executor.hpp"

#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/process.hpp"
#include "executor/task_process.hpp"
#include "mezzo/common/codec.hpp"
#include "mezzo/common/durations.hpp"
#include "mezzo/common/ids.hpp"

namespace mezzo::executor {

CommandExecutor::CommandExecutor(boost::asio::io_context& io, ExecutorEnvironment env)
    : io_(io),
      env_(env),
      client_(io, std::move(env),
              ExecutorClient::Handlers{.onEvent = [this](const v1::executor::Event& event) { handleEvent(event); },
                                       .onAcknowledged = [this](const v1::TaskID&) { finishIfDone(); },
                                       .onAgentLost =
                                           [this](const std::string& why) {
                                             spdlog::error("Lost the agent ({}); killing the task and exiting", why);
                                             if (taskPid_ > 0) ::killpg(taskPid_, SIGKILL);
                                             exit(1);
                                           }}),
      killTimer_(io),
      completionTimer_(io),
      exitTimer_(io),
      children_(io),
      terminationSignals_(io, SIGTERM, SIGINT) {}

CommandExecutor::~CommandExecutor() = default;

void CommandExecutor::start() {
  spdlog::info("Starting executor {} of framework {} (agent {})", env_.executorId, env_.frameworkId,
               env_.agent.toString());
  children_.start();
  watchTermination();
  client_.start();
}

void CommandExecutor::handleEvent(const v1::executor::Event& event) {
  using Event = v1::executor::Event;
  switch (event.type()) {
    case Event::LAUNCH:
      return launch(event.launch().task());
    case Event::KILL: {
      std::optional<v1::KillPolicy> policy;
      if (event.kill().has_kill_policy()) policy = event.kill().kill_policy();
      return kill(event.kill().task_id(), policy, std::nullopt);
    }
    case Event::SHUTDOWN:
      spdlog::info("Received SHUTDOWN from the agent");
      return shutdown(env_.shutdownGracePeriod);
    case Event::MESSAGE:
      spdlog::info("Received a framework message of {} bytes", event.message().data().size());
      return;
    case Event::LAUNCH_GROUP:
      spdlog::error("The command executor cannot run task groups");
      return;
    default:
      return;
  }
}

void CommandExecutor::launch(const v1::TaskInfo& task) {
  if (task_) {
    sendStatus(task.task_id(), v1::TASK_FAILED, "Attempted to run multiple tasks using a command executor");
    return;
  }
  task_ = task;
  client_.rememberTask(task);
  if (!task.has_command()) {
    sendStatus(task.task_id(), v1::TASK_FAILED, "Task has no command");
    return;
  }
  sendStatus(task.task_id(), v1::TASK_STARTING, "");
  auto pid = spawnTaskCommand(task, "", "", "");
  if (!pid) {
    spdlog::error("Failed to launch task {}: {}", task.task_id().value(), pid.error());
    sendStatus(task.task_id(), v1::TASK_FAILED, pid.error());
    return;
  }
  taskPid_ = *pid;
  children_.watch(taskPid_, [this](int waitStatus) { taskExited(waitStatus); });
  spdlog::info("Running task {} as pid {}: {}", task.task_id().value(), taskPid_, task.command().value());
  checks_.start(io_, children_, task, env_.sandbox,
                {.onHealth = [this](const HealthTracker::Update& update) { healthChanged(update); },
                 .onCheck = [this](const v1::CheckStatusInfo& status) { checkChanged(status); }});
  sendStatus(task.task_id(), v1::TASK_RUNNING, "");
  if (auto limit = maxCompletionTime(task)) {
    spdlog::info("Task {} has a max completion time of {}", task.task_id().value(), formatDuration(*limit));
    completionTimer_.expires_after(toMillis(*limit));
    completionTimer_.async_wait([this, limit = *limit](boost::system::error_code ec) {
      if (!ec) completionTimeReached(limit);
    });
  }
}

void CommandExecutor::healthChanged(const HealthTracker::Update& update) {
  if (killing_ || terminalSent_ || taskPid_ <= 0 || !lastStatus_) return;
  spdlog::info("Task {} is {}", task_->task_id().value(), update.healthy ? "healthy" : "not healthy");
  sendStatus(healthUpdate(*lastStatus_, update.healthy));
  if (update.killTask) {
    spdlog::warn("Killing task {} after {} consecutive failed health checks", task_->task_id().value(),
                 update.consecutiveFailures);
    killedByHealthCheck_ = true;
    kill(task_->task_id(), std::nullopt, std::nullopt);
  }
}

void CommandExecutor::checkChanged(const v1::CheckStatusInfo& checkStatus) {
  if (killing_ || terminalSent_ || taskPid_ <= 0 || !lastStatus_) return;
  sendStatus(checkUpdate(*lastStatus_, checkStatus));
}

void CommandExecutor::kill(const v1::TaskID& taskId, const std::optional<v1::KillPolicy>& policy,
                           std::optional<Duration> cap) {
  if (!task_ || task_->task_id().value() != taskId.value()) {
    spdlog::warn("Ignoring KILL of unknown task {}", taskId.value());
    return;
  }
  if (terminalSent_ || killing_) return;
  killing_ = true;
  checks_.stop();
  if (taskPid_ <= 0) {
    sendStatus(taskId, v1::TASK_KILLED, "Task was killed before it ran");
    return finishIfDone();
  }
  const Duration grace = killGracePeriod(policy, *task_, cap);
  if (client_.frameworkHasCapability(v1::FrameworkInfo::Capability::TASK_KILLING_STATE)) {
    sendStatus(taskId, v1::TASK_KILLING, "");
  }
  spdlog::info("Killing task {} (pid group {}) with a grace period of {}", taskId.value(), taskPid_,
               formatDuration(grace));
  ::killpg(taskPid_, SIGTERM);
  killTimer_.expires_after(toMillis(grace));
  killTimer_.async_wait([this](boost::system::error_code ec) {
    if (!ec) escalateKill();
  });
}

void CommandExecutor::escalateKill() {
  if (taskPid_ <= 0) return;
  spdlog::warn("Task {} outlived its grace period; sending SIGKILL", task_->task_id().value());
  ::killpg(taskPid_, SIGKILL);
}

void CommandExecutor::shutdown(std::optional<Duration> cap) {
  shuttingDown_ = true;
  if (cap) cap = std::max(Duration::zero(), *cap - Duration(kShutdownReserve));
  if (task_ && !terminalSent_) {
    if (killing_ && taskPid_ > 0) {
      // Already being killed: only shorten the wait if the shutdown demands it.
      killTimer_.expires_after(toMillis(cap.value_or(Duration::zero())));
      killTimer_.async_wait([this](boost::system::error_code ec) {
        if (!ec) escalateKill();
      });
      return;
    }
    return kill(task_->task_id(), std::nullopt, cap);
  }
  finishIfDone();
}

// SIGTERM from the agent (escalated shutdown) or an operator: kill the task quickly.
void CommandExecutor::watchTermination() {
  terminationSignals_.async_wait([this](boost::system::error_code ec, int signal) {
    if (ec) return;
    spdlog::info("Received signal {}; killing the task", signal);
    shutdown(Duration(kShutdownReserve));
    watchTermination();
  });
}

void CommandExecutor::completionTimeReached(Duration limit) {
  if (terminalSent_ || killing_ || taskPid_ <= 0) return;
  spdlog::warn("Killing task {}, which exceeded its max completion time of {}", task_->task_id().value(),
               formatDuration(limit));
  killing_ = true;
  killedByCompletionTimeout_ = true;
  checks_.stop();
  ::killpg(taskPid_, SIGKILL);
}

void CommandExecutor::taskExited(int waitStatus) {
  taskPid_ = -1;
  killTimer_.cancel();
  completionTimer_.cancel();
  checks_.stop();
  v1::TaskStatus status = terminalStatus(waitStatus, {.killing = killing_,
                                                      .killedByHealthCheck = killedByHealthCheck_,
                                                      .killedByCompletionTimeout = killedByCompletionTimeout_});
  spdlog::info("Task {}: {}", task_->task_id().value(), status.message());
  *status.mutable_task_id() = task_->task_id();
  sendStatus(std::move(status));
}

void CommandExecutor::sendStatus(const v1::TaskID& taskId, v1::TaskState state, const std::string& message) {
  v1::TaskStatus status;
  *status.mutable_task_id() = taskId;
  status.set_state(state);
  if (!message.empty()) status.set_message(message);
  sendStatus(std::move(status));
}

void CommandExecutor::sendStatus(v1::TaskStatus status) {
  const v1::TaskID& taskId = status.task_id();
  if (task_ && taskId.value() == task_->task_id().value()) {
    addEmptyCheckStatus(*task_, status);
    lastStatus_ = status;
  }
  const v1::TaskState state = status.state();
  const bool terminal = state == v1::TASK_FINISHED || state == v1::TASK_FAILED || state == v1::TASK_KILLED;
  if (terminal && task_ && taskId.value() == task_->task_id().value()) {
    terminalSent_ = true;
    exitTimer_.expires_after(kTerminalAckWait);
    exitTimer_.async_wait([this](boost::system::error_code ec) {
      if (ec) return;
      // The agent may not have read the update yet (a busy agent): leaving
      // now would let it see the exit first and fail the task. The call in
      // flight ends with the agent's answer or its own timeout.
      client_.whenIdle([this] {
        spdlog::warn("The terminal update was not acknowledged in time; exiting anyway");
        exit(0);
      });
    });
  }
  client_.sendStatus(std::move(status));
}

void CommandExecutor::finishIfDone() {
  bool done = (terminalSent_ && client_.allAcknowledged()) || (shuttingDown_ && !task_);
  if (done) exit(0);
}

void CommandExecutor::exit(int code) {
  if (exiting_) return;
  exiting_ = true;
  exitCode_ = code;
  spdlog::info("Executor exiting with code {}", code);
  client_.close();
  io_.stop();
}

}  // namespace mezzo::executor
