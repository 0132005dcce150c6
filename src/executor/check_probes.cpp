// HTTP, TCP and command probes of task checks.
#include "executor/check_probes.hpp"

#include <signal.h>

#include <algorithm>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <memory>
#include <optional>
#include <utility>

#include "executor/task_process.hpp"
#include "mezzo/common/durations.hpp"

namespace mezzo::executor {

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using SteadyTime = std::chrono::steady_clock::time_point;

constexpr int kMaxRedirects = 5;

std::chrono::milliseconds millisUntil(SteadyTime deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  return std::max(left, std::chrono::milliseconds(1));
}

// Where a redirect points: same endpoint for "/path", another for
// "http://host[:port]/path"; nothing for what we cannot follow (https).
std::optional<std::pair<net::Endpoint, std::string>> redirectTarget(const net::Endpoint& from,
                                                                    std::string_view location) {
  if (location.starts_with('/')) return std::make_pair(from, std::string(location));
  if (!location.starts_with("http://")) return std::nullopt;
  location.remove_prefix(7);
  const size_t slash = location.find('/');
  std::string authority(location.substr(0, slash));
  std::string path = slash == std::string_view::npos ? "/" : std::string(location.substr(slash));
  if (authority.find(':') == std::string::npos || authority.ends_with(']')) authority += ":80";
  auto endpoint = net::parseEndpoint(authority);
  if (!endpoint) return std::nullopt;
  return std::make_pair(*endpoint, path);
}

void getFollowingRedirects(asio::io_context& io, const net::Endpoint& endpoint, std::string target, SteadyTime deadline,
                           int redirectsLeft, std::function<void(Result<unsigned>)> done) {
  net::ClientRequest request;
  request.method = boost::beast::http::verb::get;
  request.target = std::move(target);
  request.timeout = millisUntil(deadline);
  if (endpoint.host.find(':') != std::string::npos) {
    request.headers.emplace_back("Host", "[" + endpoint.host + "]:" + std::to_string(endpoint.port));
  }
  net::httpRequest(
      io, endpoint, std::move(request),
      [&io, endpoint, deadline, redirectsLeft, done = std::move(done)](Result<net::ClientResponse> response) mutable {
        if (!response) return done(response.status());
        const unsigned code = response->status;
        if (code >= 300 && code < 400 && redirectsLeft > 0) {
          if (auto next = redirectTarget(endpoint, response->header("Location"))) {
            return getFollowingRedirects(io, next->first, std::move(next->second), deadline, redirectsLeft - 1,
                                         std::move(done));
          }
        }
        done(code);
      });
}

}  // namespace

void probeHttp(asio::io_context& io, const net::Endpoint& endpoint, const std::string& path, Duration timeout,
               std::function<void(Result<unsigned>)> done) {
  const SteadyTime deadline = std::chrono::steady_clock::now() + timeout;
  getFollowingRedirects(io, endpoint, path.empty() ? "/" : path, deadline, kMaxRedirects, std::move(done));
}

void probeTcp(asio::io_context& io, const net::Endpoint& endpoint, Duration timeout, std::function<void(Status)> done) {
  boost::system::error_code addressError;
  const auto address = asio::ip::make_address(endpoint.host, addressError);
  if (addressError) {
    asio::post(io, [done = std::move(done), host = endpoint.host] {
      done(Status::invalidArgument("Invalid address '" + host + "'"));
    });
    return;
  }
  auto stream = std::make_shared<boost::beast::tcp_stream>(io);
  stream->expires_after(timeout);
  stream->async_connect(
      tcp::endpoint(address, endpoint.port), [stream, endpoint, done = std::move(done)](boost::system::error_code ec) {
        boost::system::error_code ignored;
        stream->socket().close(ignored);
        if (ec) {
          return done(Status::unavailable("TCP connection to " + endpoint.toString() + " failed: " + ec.message()));
        }
        done(Status::ok());
      });
}

pid_t probeCommand(asio::io_context& io, ChildWatcher& children, const v1::CommandInfo& command,
                   const std::string& workingDirectory, Duration timeout, std::function<void(Result<int>)> done) {
  auto pid = spawnCommand(command, workingDirectory, "", "");
  if (!pid) {
    asio::post(io, [done = std::move(done), status = pid.status()] { done(status); });
    return -1;
  }
  // Whichever of exit and timeout comes first answers; the other is ignored.
  struct Probe {
    explicit Probe(asio::io_context& io) : timer(io) {}
    asio::steady_timer timer;
    std::function<void(Result<int>)> done;
  };
  auto probe = std::make_shared<Probe>(io);
  probe->done = std::move(done);
  const pid_t group = *pid;
  children.watch(group, [probe](int waitStatus) {
    probe->timer.cancel();
    if (auto callback = std::exchange(probe->done, nullptr)) callback(waitStatus);
  });
  probe->timer.expires_after(timeout);
  probe->timer.async_wait([probe, group, timeout](boost::system::error_code ec) {
    if (ec) return;
    ::killpg(group, SIGKILL);
    if (auto callback = std::exchange(probe->done, nullptr)) {
      callback(Status::unavailable("Command timed out after " + formatDuration(timeout)));
    }
  });
  return group;
}

}  // namespace mezzo::executor
