#include "cli/run.hpp"

#include <signal.h>

#include <boost/asio/signal_set.hpp>
#include <cstdio>
#include <cstring>
#include <iostream>

#include "cli/command_framework.hpp"
#include "mezzo/common/ids.hpp"

namespace mezzo::cli {

namespace asio = boost::asio;

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

namespace {

// One `mezzo run`: the framework plus the signal, timeout and exit logic.
class RunSession {
 public:
  explicit RunSession(const RunOptions& options)
      : options_(options), signals_(io_, SIGINT, SIGTERM), timeout_(io_), killGrace_(io_) {}

  int run(std::string command) {
    std::string name = options_.name.empty() ? "mezzo-run" : options_.name;
    CommandTask task{name + "-" + randomUuidString().substr(0, 8), name, std::move(command), options_.cpus,
                     options_.mem};
    CommandFramework::Options frameworkOptions;
    frameworkOptions.master = options_.master;
    frameworkOptions.name = "mezzo-run";
    frameworkOptions.role = options_.role;
    frameworkOptions.maxTasksPerOffer = 1;
    framework_ = std::make_unique<CommandFramework>(io_, frameworkOptions, std::vector<CommandTask>{task}, callbacks());
    waitForSignal();
    if (options_.timeoutSeconds > 0) {
      timeout_.expires_after(secondsToDuration(options_.timeoutSeconds));
      timeout_.async_wait([this](boost::system::error_code ec) {
        if (ec) return;
        timedOut_ = true;
        std::cerr << "Timed out after " << options_.timeoutSeconds << " s; killing the task" << std::endl;
        killThenGiveUp();
      });
    }
    framework_->start();
    io_.run();
    return exitCode_;
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
    callbacks.onUpdate = [this](const TaskRecord&, const v1::TaskStatus& status) {
      if (status.state() == v1::TASK_STARTING || status.state() == v1::TASK_RUNNING) ran_ = true;
      std::cerr << describeUpdate(status) << std::flush;
    };
    callbacks.onDone = [this] { onDone(); };
    callbacks.onFatal = [this](const std::string& message) {
      std::cerr << "mezzo run: " << message << std::endl;
      exitCode_ = 1;
      io_.stop();
    };
    return callbacks;
  }

  void waitForSignal() {
    signals_.async_wait([this](boost::system::error_code ec, int) {
      if (ec) return;
      if (!interrupted_) {
        interrupted_ = true;
        std::cerr << "Interrupted: killing the task (again to abort)" << std::endl;
        killThenGiveUp();
        waitForSignal();
        return;
      }
      std::cerr << "Aborting" << std::endl;
      finish(130);
    });
  }

  // Kills the task; if no terminal update comes within a grace period,
  // gives up waiting (the teardown still removes the task).
  void killThenGiveUp() {
    framework_->killAll();
    killGrace_.expires_after(std::chrono::seconds(10));
    killGrace_.async_wait([this](boost::system::error_code ec) {
      if (ec) return;
      std::cerr << "The task did not end after being killed; tearing the framework down" << std::endl;
      finish(timedOut_ ? kTimeoutExitCode : 130);
    });
  }

  void onDone() {
    const TaskRecord& task = framework_->tasks().front();
    if (!task.last) return finish(timedOut_ ? kTimeoutExitCode : interrupted_ ? 130 : 1);
    const int code = timedOut_ ? kTimeoutExitCode : exitCodeFor(*task.last);
    if (!ran_ && task.last->source() != v1::TaskStatus::SOURCE_EXECUTOR) return finish(code);
    framework_->fetchOutput(task, "stdout", [this, code](Result<std::string> out) {
      if (out) {
        std::cout << *out << std::flush;
      } else {
        std::cerr << "(could not read the task's stdout: " << out.error() << ")" << std::endl;
      }
      framework_->fetchOutput(framework_->tasks().front(), "stderr", [this, code](Result<std::string> err) {
        if (err) std::cerr << *err << std::flush;
        finish(code);
      });
    });
  }

  void finish(int code) {
    if (finishing_) return;
    finishing_ = true;
    exitCode_ = code;
    timeout_.cancel();
    killGrace_.cancel();
    framework_->teardown([this] {
      signals_.cancel();
      io_.stop();
    });
  }

  const RunOptions& options_;
  asio::io_context io_;
  asio::signal_set signals_;
  asio::steady_timer timeout_;
  asio::steady_timer killGrace_;
  std::unique_ptr<CommandFramework> framework_;
  int exitCode_ = 1;
  bool ran_ = false;
  bool timedOut_ = false;
  bool interrupted_ = false;
  bool finishing_ = false;
};

}  // namespace

int runRun(const RunOptions& options) {
  std::string command = shellCommand(options.command);
  if (command.empty()) {
    std::cerr << "mezzo run: no command given (mezzo run [options] -- CMD...)" << std::endl;
    return 2;
  }
  return RunSession(options).run(std::move(command));
}

}  // namespace mezzo::cli
