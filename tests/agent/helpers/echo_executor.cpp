// mezzo-test-echo-executor: a custom executor for tests, built on our v1
// executor client (src/executor/executor_client.hpp). On LAUNCH it sends
// TASK_RUNNING; it echoes every framework MESSAGE back to the framework;
// the message "finish" ends every task it runs with TASK_FINISHED, and a
// KILL ends that task with TASK_KILLED. It exits once it has no live task
// and every update is acknowledged (or on SHUTDOWN).
//
// Thread-safety: single-threaded (one io_context).
#include <boost/asio/io_context.hpp>
#include <spdlog/spdlog.h>

#include <map>
#include <utility>

#include "executor/executor_client.hpp"

namespace {

using namespace mezzo;
using Event = v1::executor::Event;

class EchoExecutor {
 public:
  EchoExecutor(boost::asio::io_context& io, executor::ExecutorEnvironment env)
      : io_(io),
        client_(io, std::move(env),
                executor::ExecutorClient::Handlers{
                    .onEvent = [this](const Event& event) { handle(event); },
                    .onAcknowledged = [this](const v1::TaskID&) { exitIfDone(); },
                    .onAgentLost = [this](const std::string&) { stop(1); }}) {}

  void start() { client_.start(); }
  int exitCode() const { return exitCode_; }

 private:
  void handle(const Event& event) {
    switch (event.type()) {
      case Event::LAUNCH: {
        const v1::TaskInfo& task = event.launch().task();
        live_[task.task_id().value()] = task.task_id();
        client_.rememberTask(task);
        return update(task.task_id(), v1::TASK_RUNNING);
      }
      case Event::MESSAGE:
        client_.sendMessage(event.message().data());
        if (event.message().data() == "finish") {
          for (const auto& [id, taskId] : std::exchange(live_, {})) update(taskId, v1::TASK_FINISHED);
        }
        return;
      case Event::KILL:
        if (live_.erase(event.kill().task_id().value()) > 0) update(event.kill().task_id(), v1::TASK_KILLED);
        return;
      case Event::SHUTDOWN:
        for (const auto& [id, taskId] : std::exchange(live_, {})) update(taskId, v1::TASK_KILLED);
        return client_.whenIdle([this] { stop(0); });
      default:
        return;
    }
  }

  void update(const v1::TaskID& taskId, v1::TaskState state) {
    v1::TaskStatus status;
    *status.mutable_task_id() = taskId;
    status.set_state(state);
    client_.sendStatus(std::move(status));
  }

  void exitIfDone() {
    if (live_.empty() && client_.allAcknowledged()) stop(0);
  }

  void stop(int code) {
    exitCode_ = code;
    client_.close();
    io_.stop();
  }

  boost::asio::io_context& io_;
  executor::ExecutorClient client_;
  std::map<std::string, v1::TaskID> live_;
  int exitCode_ = 0;
};

}  // namespace

int main() {
  auto env = mezzo::executor::ExecutorEnvironment::fromProcessEnvironment();
  if (!env) {
    spdlog::critical("{}", env.error());
    return 1;
  }
  boost::asio::io_context io(1);
  EchoExecutor echo(io, *env);
  echo.start();
  io.run();
  return echo.exitCode();
}
