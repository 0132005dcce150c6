#include "cli/run.hpp"

#include <fmt/format.h>
#include <signal.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <iostream>

#include "cli/agent_files.hpp"
#include "cli/framework_session.hpp"
#include "mezzo/common/ids.hpp"

namespace mezzo::cli {

std::string shellCommand(const std::vector<std::string>& args) {
  if (args.size() == 1) return args[0];
  std::string command;
  for (const std::string& arg : args) {
    if (!command.empty()) command += ' ';
    bool safe = !arg.empty() && std::all_of(arg.begin(), arg.end(), [](unsigned char c) {
      return std::isalnum(c) || std::strchr("_@%+=:,./-", c) != nullptr;
    });
    if (safe) {
      command += arg;
      continue;
    }
    command += '\'';
    for (char c : arg) command += c == '\'' ? std::string("'\\''") : std::string(1, c);
    command += '\'';
  }
  return command;
}

int exitCodeFor(const v1::TaskStatus& status) {
  switch (status.state()) {
    case v1::TASK_FINISHED:
      return 0;
    case v1::TASK_KILLED:
      return 137;
    case v1::TASK_FAILED:
      break;
    default:
      return 1;
  }
  const std::string& message = status.message();
  if (size_t at = message.find("exited with status "); at != std::string::npos) {
    int code = std::atoi(message.c_str() + at + std::strlen("exited with status "));
    return code > 0 ? code : 1;
  }
  if (size_t at = message.find("terminated with signal "); at != std::string::npos) {
    std::string name = message.substr(at + std::strlen("terminated with signal "));
    // "SIGKILL" (our executor) or "Killed" (strsignal text, as Mesos writes it).
    for (int signal = 1; signal < NSIG; ++signal) {
      const char* abbreviation = sigabbrev_np(signal);
      const char* text = strsignal(signal);
      if (abbreviation != nullptr && name.starts_with(std::string("SIG") + abbreviation)) return 128 + signal;
      if (text != nullptr && name.starts_with(text)) return 128 + signal;
    }
  }
  return 1;
}

std::string describeUpdate(const v1::TaskStatus& status) {
  std::string text =
      "Received status update " + v1::TaskState_Name(status.state()) + " for task '" + status.task_id().value() + "'\n";
  if (!status.message().empty()) text += "  message: '" + status.message() + "'\n";
  if (status.has_source()) text += "  source: " + v1::TaskStatus::Source_Name(status.source()) + "\n";
  if (status.has_reason()) text += "  reason: " + v1::TaskStatus::Reason_Name(status.reason()) + "\n";
  return text;
}

Status validateRunOptions(const RunOptions& options) {
  const std::pair<const char*, double> amounts[] = {{"--cpus", options.cpus},
                                                    {"--mem", options.mem},
                                                    {"--timeout", options.timeoutSeconds},
                                                    {"--reconnect_timeout", options.reconnectTimeoutSeconds}};
  for (auto [flag, value] : amounts) {
    if (!std::isfinite(value) || value < 0) {
      return Status::invalidArgument(fmt::format("{} must be a non-negative number, not {}", flag, value));
    }
  }
  if (options.cpus == 0 && options.mem == 0) {
    return Status::invalidArgument("--cpus and --mem are both 0: the task would use no resources");
  }
  return Status::ok();
}

namespace {

// One `mezzo run`: the framework plus the signal, timeout, lost-master and
// exit logic.
class RunSession {
 public:
  explicit RunSession(const RunOptions& options) : options_(options), reconnectTimer_(session_.io()) {}

  int run(std::string command) {
    std::string name = options_.name.empty() ? "mezzo-run" : options_.name;
    CommandTask task{name + "-" + randomUuidString().substr(0, 8), name, std::move(command), options_.cpus,
                     options_.mem};
    CommandFramework::Options frameworkOptions;
    frameworkOptions.master = options_.master;
    frameworkOptions.name = "mezzo-run";
    frameworkOptions.role = options_.role;
    frameworkOptions.maxTasksPerOffer = 1;
    session_.setFramework(std::make_unique<CommandFramework>(session_.io(), frameworkOptions,
                                                             std::vector<CommandTask>{task}, callbacks()));
    session_.onStopSignal([this](int) { onStopSignal(); });
    if (options_.timeoutSeconds > 0) {
      session_.setDeadline(secondsToDuration(options_.timeoutSeconds), [this] {
        timedOut_ = true;
        std::cerr << "Timed out after " << options_.timeoutSeconds << " s; killing the task" << std::endl;
        killThenGiveUp();
      });
    }
    return session_.run();
  }

 private:
  CommandFramework::Callbacks callbacks() {
    CommandFramework::Callbacks callbacks;
    callbacks.onSubscribed = [](const v1::FrameworkID& id) {
      std::cerr << "Subscribed with ID " << id.value() << std::endl;
    };
    callbacks.onLaunched = [](const TaskRecord& task) {
      std::cerr << "Submitted task '" << task.spec.id << "' to agent '" << task.agentId.value() << "' ("
                << task.agent.toString() << ")" << std::endl;
    };
    callbacks.onUpdate = [this](const TaskRecord& task, const v1::TaskStatus& status) {
      std::cerr << describeUpdate(status) << std::flush;
      if (status.state() != v1::TASK_STARTING && status.state() != v1::TASK_RUNNING) return;
      ran_ = true;
      if (options_.follow) startFollowing(task);
    };
    callbacks.onDone = [this] { onDone(); };
    callbacks.onFatal = [this](const std::string& message) {
      std::cerr << "mezzo run: " << message << std::endl;
      session_.abandon(1);
    };
    callbacks.onDisconnected = [this](const Status& reason) { onMasterLost(reason); };
    callbacks.onResubscribed = [this] { onMasterBack(); };
    return callbacks;
  }

  void onStopSignal() {
    if (masterLost_) {
      std::cerr << "Interrupted while the master is unreachable; exiting (the task may still be running)"
                << std::endl;
      return session_.abandon(130);
    }
    if (interrupted_) {
      std::cerr << "Aborting" << std::endl;
      return session_.finish(130);
    }
    interrupted_ = true;
    std::cerr << "Interrupted: killing the task (again to abort)" << std::endl;
    killThenGiveUp();
  }

  // Kills the task; if no terminal update comes within a grace period,
  // gives up waiting (the teardown still removes the task).
  void killThenGiveUp() {
    session_.killAllWithin(std::chrono::seconds(10), [this] {
      std::cerr << "The task did not end after being killed; tearing the framework down" << std::endl;
      session_.finish(timedOut_ ? kTimeoutExitCode : 130);
    });
  }

  void onMasterLost(const Status& reason) {
    if (masterLost_ || session_.finishing()) return;
    masterLost_ = true;
    std::cerr << "Lost the master at " << options_.master << " (" << reason.message() << "); trying to reach it for "
              << options_.reconnectTimeoutSeconds << " s" << std::endl;
    reconnectTimer_.expires_after(secondsToDuration(options_.reconnectTimeoutSeconds));
    reconnectTimer_.async_wait([this](boost::system::error_code ec) {
      if (ec || session_.finishing()) return;
      std::cerr << "mezzo run: the master at " << options_.master << " has been unreachable for "
                << options_.reconnectTimeoutSeconds << " s; giving up (the task may still be running)" << std::endl;
      session_.abandon(1);
    });
  }

  void onMasterBack() {
    if (!masterLost_) return;
    masterLost_ = false;
    reconnectTimer_.cancel();
    std::cerr << "Reconnected to the master" << std::endl;
  }

  void startFollowing(const TaskRecord& task) {
    if (!followers_.empty()) return;
    for (auto [file, stream] : {std::pair<const char*, std::ostream*>{"stdout", &std::cout}, {"stderr", &std::cerr}}) {
      auto follower = session_.framework().followOutput(
          task, file, [stream](const std::string& data) { *stream << data << std::flush; });
      if (follower) followers_.push_back(std::move(follower));
    }
  }

  void onDone() {
    const TaskRecord& task = session_.framework().tasks().front();
    if (!task.last) return session_.finish(timedOut_ ? kTimeoutExitCode : interrupted_ ? 130 : 1);
    const int code = timedOut_ ? kTimeoutExitCode : exitCodeFor(*task.last);
    if (!ran_ && task.last->source() != v1::TaskStatus::SOURCE_EXECUTOR) return session_.finish(code);
    if (!followers_.empty()) return finishFollowing(code);
    session_.framework().fetchOutput(task, "stdout", [this, code](Result<std::string> out) {
      if (out) {
        std::cout << *out << std::flush;
      } else {
        std::cerr << "(could not read the task's stdout: " << out.error() << ")" << std::endl;
      }
      session_.framework().fetchOutput(session_.framework().tasks().front(), "stderr",
                                       [this, code](Result<std::string> err) {
                                         if (err) std::cerr << *err << std::flush;
                                         session_.finish(code);
                                       });
    });
  }

  // Reads what the followers have not shown yet, then finishes.
  void finishFollowing(int code) {
    auto remaining = std::make_shared<size_t>(followers_.size());
    for (const auto& follower : followers_) {
      follower->finish([this, remaining, code](const Status& status) {
        if (!status) std::cerr << "(could not read the task's output: " << status.message() << ")" << std::endl;
        if (--*remaining == 0) session_.finish(code);
      });
    }
  }

  const RunOptions& options_;
  FrameworkSession session_;
  boost::asio::steady_timer reconnectTimer_;
  std::vector<std::shared_ptr<FileFollower>> followers_;
  bool ran_ = false;
  bool timedOut_ = false;
  bool interrupted_ = false;
  bool masterLost_ = false;
};

}  // namespace

int runRun(const RunOptions& options) {
  if (Status valid = validateRunOptions(options); !valid) {
    std::cerr << "mezzo run: " << valid.message() << std::endl;
    return 2;
  }
  std::string command = shellCommand(options.command);
  if (command.empty()) {
    std::cerr << "mezzo run: no command given (mezzo run [options] -- CMD...)" << std::endl;
    return 2;
  }
  return RunSession(options).run(std::move(command));
}

}  // namespace mezzo::cli
