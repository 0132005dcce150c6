// HttpServer: Mezzo's HTTP/1.1 server (Boost.Beast), the only place where
// the daemons accept sockets.
//
// Each connection reads one request at a time (keep-alive supported) and
// hands it to the Handler together with a Responder. The handler answers
// once, either with a whole Response or by turning the connection into a
// chunked stream (StreamWriter) whose write() sends exactly one HTTP chunk per
// call, as the v1 APIs require (one RecordIO record per chunk). Limits: header
// and body size (413 beyond the body limit, 431/400 for bad headers), an idle
// timeout between requests. A streaming client that disconnects is noticed
// by a pending read and reported through StreamWriter::onClose. A file
// response (Responder::respondFile) is read and sent a few KB at a time, as
// fast as the client takes it, so a large download costs no memory.
//
// Connections: at most ServerOptions::maxConnections are open at once; while
// at the cap the server stops accepting (new clients wait in the listen
// backlog) and resumes when one closes. When accept() itself fails (EMFILE:
// out of file descriptors) it is retried after a short delay instead of at
// once, and logged once per episode.
//
// Thread-safety: a server, its connections and every Responder/StreamWriter
// belong to the io_context they were created on; call them only from a
// handler running on it (one thread drives each daemon's loop).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/http.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "mezzo/common/status.hpp"

namespace mezzo::net {

namespace http = boost::beast::http;
using Request = http::request<http::string_body>;
using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct Response {
  unsigned status = 200;
  std::string contentType;  // omitted when empty
  std::string body;
  HeaderList headers;

  static Response text(unsigned status, std::string body);
  static Response json(unsigned status, std::string body);
  static Response empty(unsigned status);
};

class Connection;

// A chunked streaming response. Records written after the peer went away
// are dropped; onClose fires once, when the stream ends for any reason.
class StreamWriter {
 public:
  explicit StreamWriter(std::shared_ptr<Connection> connection);
  ~StreamWriter();
  StreamWriter(const StreamWriter&) = delete;
  StreamWriter& operator=(const StreamWriter&) = delete;

  void write(std::string chunk);
  // Ends the stream (terminating chunk) and closes the connection.
  void close();
  bool closed() const;
  void onClose(std::function<void()> callback);
  std::string peer() const;

 private:
  std::shared_ptr<Connection> connection_;
};

// One-shot answer to a request. If every copy is destroyed without an
// answer, the client receives 500.
class Responder {
 public:
  explicit Responder(std::shared_ptr<Connection> connection);

  void respond(Response response);
  // Sends the regular file open as `fd` (the connection takes ownership)
  // as the body, from its start to its current size.
  void respondFile(unsigned status, std::string contentType, int fd, HeaderList headers = {});
  std::shared_ptr<StreamWriter> startStream(unsigned status, std::string contentType, HeaderList headers = {});
  std::string peer() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

using Handler = std::function<void(Request&& request, Responder responder)>;

struct ServerOptions {
  size_t maxBodyBytes = 4 * 1024 * 1024;
  size_t maxHeaderBytes = 64 * 1024;
  std::chrono::seconds idleTimeout{75};
  // Most connections open at once; 0 picks defaultMaxConnections().
  size_t maxConnections = 0;
  // Delay before accept() is retried after it failed (e.g. EMFILE).
  std::chrono::milliseconds acceptRetryDelay{100};
};

// Three quarters of the process's open-file limit (RLIMIT_NOFILE, soft),
// leaving the rest for files, pipes and outgoing connections.
size_t defaultMaxConnections();

// Raises the process's open-file soft limit to its hard limit (daemons call
// it at start-up). Returns the soft limit now in force.
size_t raiseOpenFileLimit();

struct ConnectionSlots;

class HttpServer {
 public:
  HttpServer(boost::asio::io_context& io, ServerOptions options, Handler handler);
  ~HttpServer();

  // Binds and starts accepting; port 0 picks a free port. Returns the port.
  Result<uint16_t> listen(const std::string& ip, uint16_t port);
  void stop();
  uint16_t port() const { return port_; }
  size_t openConnections() const;

 private:
  void accept();
  void onAccepted(boost::asio::ip::tcp::socket socket);
  void retryAcceptLater(const boost::system::error_code& error);

  boost::asio::io_context& io_;
  ServerOptions options_;
  std::shared_ptr<Handler> handler_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer acceptRetry_;
  std::shared_ptr<ConnectionSlots> slots_;
  bool accepting_ = false;     // an async_accept or a retry is pending
  bool atCap_ = false;         // logged that maxConnections is reached
  uint64_t failedAccepts_ = 0;  // in the current episode of accept() failures
  uint16_t port_ = 0;
};

// Query parameter of a request target ("/files/read?path=x&offset=0").
std::string queryParameter(std::string_view target, std::string_view name);
// The path part of a request target, without the query.
std::string_view targetPath(std::string_view target);
std::string urlDecode(std::string_view text);

}  // namespace mezzo::net
