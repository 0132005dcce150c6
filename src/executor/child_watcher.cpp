// Reaping an executor's children and dispatching their exits by pid.
#include "executor/child_watcher.hpp"

#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/wait.h>

#include <utility>

namespace mezzo::executor {

ChildWatcher::ChildWatcher(boost::asio::io_context& io) : signals_(io, SIGCHLD) {}

void ChildWatcher::start() { waitForSignal(); }

void ChildWatcher::watch(pid_t pid, OnExit onExit) { watched_[pid] = std::move(onExit); }

void ChildWatcher::waitForSignal() {
  signals_.async_wait([this](boost::system::error_code ec, int) {
    if (ec) return;
    int status = 0;
    pid_t pid = 0;
    while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) {
      auto it = watched_.find(pid);
      if (it == watched_.end()) {
        spdlog::debug("Reaped unwatched child {}", pid);
        continue;
      }
      // Taken out first: the callback may watch new children.
      OnExit onExit = std::move(it->second);
      watched_.erase(it);
      onExit(status);
    }
    waitForSignal();
  });
}

}  // namespace mezzo::executor
