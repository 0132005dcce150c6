// TaskSupervisorLink: the agent's end of its connection to the task
// supervisor (`mezzo-launch --supervisor`, daemons/task_supervisor.hpp),
// which starts the command tasks the agent runs without an executor and
// outlives agent restarts. connect() finds the running supervisor on its
// socket, or starts one (a new session, handed the listening socket), and
// returns the tasks it has alive; afterwards launch() and signal() send
// requests and the callbacks report `started`, `exited` and the loss of
// the connection (the supervisor died). Protocol: supervisor_protocol.hpp.
//
// Errors: connect() fails when no supervisor answers and none can be
// started; requests made while disconnected are dropped (lost() has told
// the agent already).
//
// Thread-safety: none; owned by the agent's event loop. connect() blocks
// (start-up only, bounded by a few seconds).
#pragma once

#include <sys/types.h>

#include <boost/asio.hpp>
#include <functional>
#include <map>
#include <string>

#include "agent/supervisor_protocol.hpp"
#include "mezzo/common/status.hpp"

namespace mezzo::agent {

class TaskSupervisorLink {
 public:
  struct Callbacks {
    std::function<void(const std::string& containerId, pid_t pid)> started;
    std::function<void(const std::string& containerId, const supervisor::TaskEnd& end)> exited;
    std::function<void()> lost;
  };

  TaskSupervisorLink(boost::asio::io_context& io, std::string socketPath, std::string helperPath);
  ~TaskSupervisorLink();
  TaskSupervisorLink(const TaskSupervisorLink&) = delete;
  TaskSupervisorLink& operator=(const TaskSupervisorLink&) = delete;

  // The supervisor's live tasks (container id -> pid). `startIfAbsent`
  // false: only an already running supervisor is connected to.
  Result<std::map<std::string, pid_t>> connect(bool startIfAbsent);
  // Starts delivering events to `callbacks`.
  void listen(Callbacks callbacks);
  bool connected() const { return socket_.is_open(); }
  const std::string& socketPath() const { return socketPath_; }

  void launch(const supervisor::LaunchMessage& launch);
  void signal(const std::string& containerId, int signal);

 private:
  Result<int> connectToRunning() const;
  Result<int> startSupervisor() const;
  void send(const supervisor::Fields& fields);
  void writeNext();
  void readNext();
  void disconnect();

  boost::asio::io_context& io_;
  std::string socketPath_;
  std::string helperPath_;
  boost::asio::local::stream_protocol::socket socket_;
  Callbacks callbacks_;
  supervisor::FrameReader reader_;
  std::array<char, 64 * 1024> readBuffer_{};
  std::string unsent_;   // frames waiting for the write in flight
  std::string writing_;  // the bytes of the write in flight
};

}  // namespace mezzo::agent
