// mezzo-test-health-server: a task whose health changes on schedule, for
// health check tests.
//   mezzo-test-health-server <port> <seconds> http500|close
// Listens on 127.0.0.1:<port> and answers every HTTP request with 200 "ok"
// for <seconds>; then, with http500, answers 500 from then on; with close,
// stops listening (connections are refused) and keeps running. Exits only
// when killed; exits 2 on bad arguments or if the port cannot be bound.
//
// Thread-safety: single-threaded, one connection at a time.
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

void answer(tcp::socket& socket, http::status status) {
  beast::flat_buffer buffer;
  http::request<http::string_body> request;
  beast::error_code ec;
  http::read(socket, buffer, request, ec);
  if (ec) return;  // a TCP check connects and closes without a request
  http::response<http::string_body> response{status, request.version()};
  response.body() = status == http::status::ok ? "ok\n" : "failing\n";
  response.keep_alive(false);
  response.prepare_payload();
  http::write(socket, response, ec);
  socket.shutdown(tcp::socket::shutdown_both, ec);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s <port> <seconds> http500|close\n", argv[0]);
    return 2;
  }
  const auto port = static_cast<unsigned short>(std::atoi(argv[1]));
  const std::chrono::duration<double> healthyFor(std::atof(argv[2]));
  const std::string after = argv[3];
  if (after != "http500" && after != "close") return 2;

  asio::io_context io;
  tcp::acceptor acceptor(io);
  beast::error_code ec;
  acceptor.open(tcp::v4(), ec);
  acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  acceptor.bind(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    std::fprintf(stderr, "cannot listen on port %u: %s\n", port, ec.message().c_str());
    return 2;
  }
  std::printf("listening on 127.0.0.1:%u\n", port);
  std::fflush(stdout);
  const auto start = std::chrono::steady_clock::now();
  auto healthy = [&] { return std::chrono::steady_clock::now() - start < healthyFor; };
  // Non-blocking accepts polled every 10 ms: the switch happens on time even
  // when nobody connects.
  acceptor.non_blocking(true, ec);
  while (after == "http500" || healthy()) {
    tcp::socket socket(io);
    acceptor.accept(socket, ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      continue;
    }
    if (ec) continue;
    socket.non_blocking(false, ec);
    answer(socket, healthy() ? http::status::ok : http::status::internal_server_error);
  }
  acceptor.close(ec);
  std::printf("stopped listening\n");
  std::fflush(stdout);
  for (;;) std::this_thread::sleep_for(std::chrono::hours(1));
}
