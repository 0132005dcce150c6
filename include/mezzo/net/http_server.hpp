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
// by a pending read and reported through StreamWriter::onClose.
//
// Thread-safety: a server, its connections and every Responder/StreamWriter
// belong to the io_context they were created on; call them only from a
// handler running on it (one thread drives each daemon's loop).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
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
};

class HttpServer {
 public:
  HttpServer(boost::asio::io_context& io, ServerOptions options, Handler handler);
  ~HttpServer();

  // Binds and starts accepting; port 0 picks a free port. Returns the port.
  Result<uint16_t> listen(const std::string& ip, uint16_t port);
  void stop();
  uint16_t port() const { return port_; }

 private:
  void accept();

  boost::asio::io_context& io_;
  ServerOptions options_;
  std::shared_ptr<Handler> handler_;
  boost::asio::ip::tcp::acceptor acceptor_;
  uint16_t port_ = 0;
};

// Query parameter of a request target ("/files/read?path=x&offset=0").
std::string queryParameter(std::string_view target, std::string_view name);
// The path part of a request target, without the query.
std::string_view targetPath(std::string_view target);
std::string urlDecode(std::string_view text);

}  // namespace mezzo::net
