// The sample workload of `mezzo local --run-sample`: a handful of short shell
// tasks through the client library, spread over the agents.
#include <iostream>

#include "cli/framework_session.hpp"
#include "cli/local.hpp"

namespace mezzo::cli {

namespace {

std::string trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

class SampleRun {
 public:
  SampleRun(const std::string& master, int agents, int count) {
    std::vector<CommandTask> tasks;
    for (int i = 1; i <= count; ++i) {
      std::string id = "sample-" + std::to_string(i);
      tasks.push_back({id, id, "echo hello from task " + std::to_string(i) + "; sleep 1", 0.1, 32});
    }
    CommandFramework::Options options;
    options.master = master;
    options.name = "mezzo-sample";
    options.maxTasksPerOffer = static_cast<size_t>((count + agents - 1) / agents);
    session_.setFramework(std::make_unique<CommandFramework>(session_.io(), options, std::move(tasks), callbacks()));
  }

  int run() {
    session_.onStopSignal([this](int) {
      if (interrupted_) return session_.finish(130);
      interrupted_ = true;
      std::cout << "[sample] interrupted; killing the sample tasks" << std::endl;
      killThenFinish(130);
    });
    session_.setDeadline(std::chrono::seconds(40), [this] {
      std::cout << "[sample] timed out; killing the sample tasks" << std::endl;
      killThenFinish(1);
    });
    std::cout << "[sample] running " << session_.framework().tasks().size() << " tasks" << std::endl;
    return session_.run();
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
      session_.abandon(1);
    };
    return callbacks;
  }

  // Prints each task's stdout, one after the other, then the verdict.
  void printOutputs(size_t index) {
    const auto& tasks = session_.framework().tasks();
    if (index == tasks.size()) return session_.finish(verdict());
    session_.framework().fetchOutput(tasks[index], "stdout", [this, index](Result<std::string> out) {
      const TaskRecord& task = session_.framework().tasks()[index];
      std::cout << "[sample] " << task.spec.id
                << " output: " << (out ? trimmed(*out) : "(unavailable: " + out.error() + ")") << std::endl;
      printOutputs(index + 1);
    });
  }

  int verdict() {
    const auto& tasks = session_.framework().tasks();
    size_t finished = 0;
    for (const TaskRecord& task : tasks) {
      if (task.last && task.last->state() == v1::TASK_FINISHED) ++finished;
    }
    std::cout << "[sample] " << finished << "/" << tasks.size() << " tasks finished" << std::endl;
    return finished == tasks.size() ? 0 : 1;
  }

  void killThenFinish(int code) {
    session_.killAllWithin(std::chrono::seconds(5), [this, code] { session_.finish(code); });
  }

  FrameworkSession session_;
  bool interrupted_ = false;
};

}  // namespace

int runSample(const std::string& master, int agents, int count) { return SampleRun(master, agents, count).run(); }

}  // namespace mezzo::cli
