// The sample workload of `mezzo local --run-sample`: a handful of short shell
// tasks through the client library, spread over the agents.
#include <signal.h>

#include <boost/asio/signal_set.hpp>
#include <iostream>

#include "cli/command_framework.hpp"
#include "cli/local.hpp"

namespace mezzo::cli {

namespace asio = boost::asio;

namespace {

std::string trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

class SampleRun {
 public:
  SampleRun(const std::string& master, int agents, int count)
      : signals_(io_, SIGINT, SIGTERM), deadline_(io_), killGrace_(io_) {
    std::vector<CommandTask> tasks;
    for (int i = 1; i <= count; ++i) {
      std::string id = "sample-" + std::to_string(i);
      tasks.push_back({id, id, "echo hello from task " + std::to_string(i) + "; sleep 1", 0.1, 32});
    }
    CommandFramework::Options options;
    options.master = master;
    options.name = "mezzo-sample";
    options.maxTasksPerOffer = static_cast<size_t>((count + agents - 1) / agents);
    framework_ = std::make_unique<CommandFramework>(io_, options, std::move(tasks), callbacks());
  }

  int run() {
    signals_.async_wait([this](boost::system::error_code ec, int) {
      if (ec) return;
      std::cout << "[sample] interrupted; killing the sample tasks" << std::endl;
      killThenFinish(130);
    });
    // Handlers are installed: let SIGINT/SIGTERM through (also one that is pending).
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_UNBLOCK, &signals, nullptr);

    deadline_.expires_after(std::chrono::seconds(40));
    deadline_.async_wait([this](boost::system::error_code ec) {
      if (ec) return;
      std::cout << "[sample] timed out; killing the sample tasks" << std::endl;
      killThenFinish(1);
    });
    std::cout << "[sample] running " << framework_->tasks().size() << " tasks" << std::endl;
    framework_->start();
    io_.run();
    return exitCode_;
  }

 private:
  CommandFramework::Callbacks callbacks() {
    CommandFramework::Callbacks callbacks;
    callbacks.onSubscribed = [](const v1::FrameworkID& id) {
      std::cout << "[sample] subscribed as framework " << id.value() << std::endl;
    };
    callbacks.onLaunched = [](const TaskRecord& task) {
      std::cout << "[sample] " << task.spec.id << ": launching on agent " << task.agent.toString() << std::endl;
    };
    callbacks.onUpdate = [](const TaskRecord& task, const v1::TaskStatus& status) {
      std::cout << "[sample] " << task.spec.id << ": " << v1::TaskState_Name(status.state());
      if (client::isTerminalState(status.state()) && status.state() != v1::TASK_FINISHED && status.has_message()) {
        std::cout << " (" << status.message() << ")";
      }
      std::cout << std::endl;
    };
    callbacks.onDone = [this] { printOutputs(0); };
    callbacks.onFatal = [this](const std::string& message) {
      std::cerr << "[sample] " << message << std::endl;
      exitCode_ = 1;
      io_.stop();
    };
    return callbacks;
  }

  // Prints each task's stdout, one after the other, then the verdict.
  void printOutputs(size_t index) {
    const auto& tasks = framework_->tasks();
    if (index == tasks.size()) return finish(verdict());
    framework_->fetchOutput(tasks[index], "stdout", [this, index](Result<std::string> out) {
      const TaskRecord& task = framework_->tasks()[index];
      std::cout << "[sample] " << task.spec.id
                << " output: " << (out ? trimmed(*out) : "(unavailable: " + out.error() + ")") << std::endl;
      printOutputs(index + 1);
    });
  }

  int verdict() {
    size_t finished = 0;
    for (const TaskRecord& task : framework_->tasks()) {
      if (task.last && task.last->state() == v1::TASK_FINISHED) ++finished;
    }
    std::cout << "[sample] " << finished << "/" << framework_->tasks().size() << " tasks finished" << std::endl;
    return finished == framework_->tasks().size() ? 0 : 1;
  }

  void killThenFinish(int code) {
    framework_->killAll();
    killGrace_.expires_after(std::chrono::seconds(5));
    killGrace_.async_wait([this, code](boost::system::error_code ec) {
      if (!ec) finish(code);
    });
  }

  void finish(int code) {
    if (finishing_) return;
    finishing_ = true;
    exitCode_ = code;
    deadline_.cancel();
    killGrace_.cancel();
    framework_->teardown([this] {
      signals_.cancel();
      io_.stop();
    });
  }

  asio::io_context io_;
  asio::signal_set signals_;
  asio::steady_timer deadline_;
  asio::steady_timer killGrace_;
  std::unique_ptr<CommandFramework> framework_;
  int exitCode_ = 1;
  bool finishing_ = false;
};

}  // namespace

int runSample(const std::string& master, int agents, int count) { return SampleRun(master, agents, count).run(); }

}  // namespace mezzo::cli
