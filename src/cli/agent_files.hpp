// Reading a task's sandbox files through an agent's files API
// (`GET /files/read?path=...&offset=...&length=...`, answered with
// {"data": "...", "offset": N}), page by page until the end of the file, or
// following a file while it grows.
//
// Thread-safety: callbacks run on the io_context passed in.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <memory>
#include <string>

#include "mezzo/common/clock.hpp"
#include "mezzo/common/status.hpp"
#include "mezzo/net/http_client.hpp"
#include "mezzo/v1/mesos.pb.h"

namespace mezzo::cli {

// The virtual path of a file in the latest run of an executor's sandbox:
// /frameworks/<fid>/executors/<eid>/runs/latest/<file>.
std::string sandboxPath(const std::string& frameworkId, const std::string& executorId, const std::string& file);

// Where an offer's agent serves HTTP: url.address (ip, else hostname) and
// port, else the offer's hostname and 5051.
net::Endpoint agentEndpoint(const v1::Offer& offer);

std::string urlEncode(std::string_view text);

// Reads the file from `offset` to its end (up to `maxBytes`). kNotFound when
// the agent says 404.
void readAgentFile(boost::asio::io_context& io, const net::Endpoint& agent, const std::string& path,
                   std::function<void(Result<std::string>)> done, size_t maxBytes = 16 * 1024 * 1024,
                   uint64_t offset = 0);

// Follows a file that grows (a running task's stdout): reads what is new
// every `interval` (a missing file is waited for) and hands each piece to
// `onData`, in order, each byte once. finish() reads what is left, then
// calls `done` (OK, or why the last read failed); nothing is delivered after.
// The follower keeps itself alive while a read or a wait is pending.
class FileFollower : public std::enable_shared_from_this<FileFollower> {
 public:
  static std::shared_ptr<FileFollower> start(boost::asio::io_context& io, net::Endpoint agent, std::string path,
                                             std::function<void(const std::string& data)> onData,
                                             Duration interval = std::chrono::milliseconds(200));
  FileFollower(boost::asio::io_context& io, net::Endpoint agent, std::string path,
               std::function<void(const std::string& data)> onData, Duration interval);
  void finish(std::function<void(const Status& status)> done);

 private:
  void readMore();
  void onRead(Result<std::string> data);

  boost::asio::io_context& io_;
  net::Endpoint agent_;
  std::string path_;
  std::function<void(const std::string& data)> onData_;
  Duration interval_;
  boost::asio::steady_timer timer_;
  uint64_t offset_ = 0;
  bool reading_ = false;
  std::function<void(const Status& status)> done_;  // set by finish()
  bool finalRead_ = false;
};

}  // namespace mezzo::cli
