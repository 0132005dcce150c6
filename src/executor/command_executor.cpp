// The task side of the command executor: launch, kill with escalation,
// reaping, status updates and exit.
#include "executor/command_executor.hpp"

#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/process.hpp"
#include "mezzo/common/codec.hpp"
#include "mezzo/common/durations.hpp"
#include "mezzo/common/ids.hpp"

namespace mezzo::executor {

namespace {

using Call = v1::executor::Call;

constexpr auto kDefaultKillGracePeriod = std::chrono::seconds(3);
// How long to wait for the acknowledgement of the terminal update.
constexpr auto kTerminalAckWait = std::chrono::seconds(5);
// Part of the shutdown grace period kept for reporting after the kill.
constexpr auto kShutdownReserve = std::chrono::seconds(1);

std::chrono::milliseconds toMillis(Duration duration) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(duration);
}

}  // namespace

CommandExecutor::CommandExecutor(boost::asio::io_context& io, ExecutorEnvironment env)
    : io_(io), env_(std::move(env)), resubscribeTimer_(io), killTimer_(io), exitTimer_(io),
      childSignals_(io, SIGCHLD), terminationSignals_(io, SIGTERM, SIGINT) {}

CommandExecutor::~CommandExecutor() = default;

void CommandExecutor::start() {
  spdlog::info("Starting executor {} of framework {} (agent {})", env_.executorId, env_.frameworkId,
               env_.agent.toString());
  disconnectedSince_ = std::chrono::steady_clock::now();
  watchChildren();
  watchTermination();
  subscribe();
}

bool CommandExecutor::hasCapability(v1::FrameworkInfo::Capability::Type type) const {
  if (!frameworkInfo_) return false;
  for (const auto& capability : frameworkInfo_->capabilities()) {
    if (capability.type() == type) return true;
  }
  return false;
}

void CommandExecutor::launch(const v1::TaskInfo& task) {
  if (task_) {
    sendStatus(task.task_id(), v1::TASK_FAILED, "Attempted to run multiple tasks using a command executor");
    return;
  }
  task_ = task;
  taskUnacknowledged_ = true;
  if (!task.has_command()) {
    sendStatus(task.task_id(), v1::TASK_FAILED, "Task has no command");
    return;
  }
  auto line = agent::commandLine(task.command());
  if (!line) {
    sendStatus(task.task_id(), v1::TASK_FAILED, "Invalid command: " + line.error());
    return;
  }
  sendStatus(task.task_id(), v1::TASK_STARTING, "");
  std::map<std::string, std::string> overrides;
  for (const auto& variable : task.command().environment().variables()) {
    if (variable.type() == v1::Environment::Variable::VALUE) overrides[variable.name()] = variable.value();
  }
  agent::SpawnOptions spawn;
  spawn.path = line->first;
  spawn.argv = line->second;
  spawn.environment = agent::mergedEnvironment(overrides);
  spawn.grouping = agent::SpawnOptions::Grouping::kNewProcessGroup;
  auto pid = agent::spawnProcess(spawn);
  if (!pid) {
    spdlog::error("Failed to launch task {}: {}", task.task_id().value(), pid.error());
    sendStatus(task.task_id(), v1::TASK_FAILED, "Failed to launch the command: " + pid.error());
    return;
  }
  taskPid_ = *pid;
  spdlog::info("Running task {} as pid {}: {}", task.task_id().value(), taskPid_,
               task.command().shell() ? task.command().value() : line->first);
  sendStatus(task.task_id(), v1::TASK_RUNNING, "");
}

void CommandExecutor::kill(const v1::TaskID& taskId, const std::optional<v1::KillPolicy>& policy,
                           std::optional<Duration> cap) {
  if (!task_ || task_->task_id().value() != taskId.value()) {
    spdlog::warn("Ignoring KILL of unknown task {}", taskId.value());
    return;
  }
  if (terminalSent_ || killing_) return;
  killing_ = true;
  if (taskPid_ <= 0) {
    sendStatus(taskId, v1::TASK_KILLED, "Task was killed before it ran");
    return finishIfDone();
  }
  Duration grace = kDefaultKillGracePeriod;
  if (policy && policy->has_grace_period()) {
    grace = Duration(policy->grace_period().nanoseconds());
  } else if (task_->has_kill_policy() && task_->kill_policy().has_grace_period()) {
    grace = Duration(task_->kill_policy().grace_period().nanoseconds());
  }
  if (cap) grace = std::min(grace, *cap);
  grace = std::max(grace, Duration::zero());
  if (hasCapability(v1::FrameworkInfo::Capability::TASK_KILLING_STATE)) {
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

void CommandExecutor::watchChildren() {
  childSignals_.async_wait([this](boost::system::error_code ec, int) {
    if (ec) return;
    int status = 0;
    pid_t pid = 0;
    while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) {
      if (pid == taskPid_) taskExited(status);
    }
    watchChildren();
  });
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

void CommandExecutor::taskExited(int waitStatus) {
  taskPid_ = -1;
  killTimer_.cancel();
  const std::string how = "Command " + agent::describeWaitStatus(waitStatus);
  spdlog::info("Task {}: {}", task_->task_id().value(), how);
  v1::TaskState state = v1::TASK_FAILED;
  if (killing_) {
    state = v1::TASK_KILLED;
  } else if (WIFEXITED(waitStatus) && WEXITSTATUS(waitStatus) == 0) {
    state = v1::TASK_FINISHED;
  }
  sendStatus(task_->task_id(), state, how);
}

void CommandExecutor::sendStatus(const v1::TaskID& taskId, v1::TaskState state, const std::string& message) {
  Call::Update update;
  v1::TaskStatus* status = update.mutable_status();
  *status->mutable_task_id() = taskId;
  status->set_state(state);
  if (!message.empty()) status->set_message(message);
  status->set_source(v1::TaskStatus::SOURCE_EXECUTOR);
  status->set_uuid(randomUuidBytes());
  status->set_timestamp(toEpochSeconds(SystemClock().now()));
  status->mutable_executor_id()->set_value(env_.executorId);
  const bool terminal = state == v1::TASK_FINISHED || state == v1::TASK_FAILED || state == v1::TASK_KILLED;
  if (terminal && task_ && taskId.value() == task_->task_id().value()) {
    terminalSent_ = true;
    exitTimer_.expires_after(kTerminalAckWait);
    exitTimer_.async_wait([this](boost::system::error_code ec) {
      if (ec) return;
      if (callInFlight_) {
        // The agent may not have read the update yet (a busy agent): leaving
        // now would let it see the exit first and fail the task. The call
        // ends with the agent's answer or its own timeout.
        exitAfterCall_ = true;
        return;
      }
      spdlog::warn("The terminal update was not acknowledged in time; exiting anyway");
      exit(0);
    });
  }
  unacknowledged_.push_back(update);
  Call call = newCall(Call::UPDATE);
  *call.mutable_update() = std::move(update);
  sendCall(std::move(call));
}

void CommandExecutor::finishIfDone() {
  bool done = (terminalSent_ && unacknowledged_.empty()) || (shuttingDown_ && !task_);
  if (done) exit(0);
}

void CommandExecutor::exit(int code) {
  if (exiting_) return;
  exiting_ = true;
  exitCode_ = code;
  spdlog::info("Executor exiting with code {}", code);
  if (auto stream = std::move(stream_)) stream->close();
  io_.stop();
}

}  // namespace mezzo::executor
