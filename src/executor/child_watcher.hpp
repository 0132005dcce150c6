// ChildWatcher: reaps an executor's child processes (tasks and health check
// commands) and tells whoever spawned each one how it ended. It is the
// process's one SIGCHLD handler: on every SIGCHLD it reaps every exited
// child (waitpid(-1, WNOHANG)) and calls the callback registered for that
// pid, once. Children nobody watches are reaped and logged.
//
// Register a pid right after spawning it, on the io_context thread: the
// reaping runs on that thread too, so it cannot come first.
//
// Thread-safety: everything runs on the one io_context thread passed in.
#pragma once

#include <sys/types.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <functional>
#include <map>

namespace mezzo::executor {

class ChildWatcher {
 public:
  using OnExit = std::function<void(int waitStatus)>;

  explicit ChildWatcher(boost::asio::io_context& io);

  void start();
  void watch(pid_t pid, OnExit onExit);

 private:
  void waitForSignal();

  boost::asio::signal_set signals_;
  std::map<pid_t, OnExit> watched_;
};

}  // namespace mezzo::executor
