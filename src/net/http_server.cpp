#include "mezzo/net/http_server.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http/file_body.hpp>
#include <cerrno>
#include <cstring>
#include <deque>
#include <fmt/format.h>
#include <optional>
#include <spdlog/spdlog.h>

namespace mezzo::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

Response Response::text(unsigned status, std::string body) {
  return Response{status, "text/plain; charset=utf-8", std::move(body), {}};
}

Response Response::json(unsigned status, std::string body) {
  return Response{status, "application/json", std::move(body), {}};
}

Response Response::empty(unsigned status) { return Response{status, "", "", {}}; }

// The open-connection count, shared by a server and its connections (which
// may outlive it: a StreamWriter keeps its connection).
struct ConnectionSlots {
  size_t open = 0;
  size_t max = 0;
  std::function<void()> onRelease;  // the server's; cleared when it goes away
};

// One accepted socket. Alternates between reading a request and writing its
// response; after startStream() it only writes chunks and watches for EOF.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, const ServerOptions& options, std::shared_ptr<Handler> handler,
             std::shared_ptr<ConnectionSlots> slots)
      : stream_(std::move(socket)), options_(options), handler_(std::move(handler)), slots_(std::move(slots)) {
    ++slots_->open;
    beast::error_code ignored;
    stream_.socket().set_option(tcp::no_delay(true), ignored);
    auto endpoint = stream_.socket().remote_endpoint(ignored);
    peer_ = ignored ? "unknown" : fmt::format("{}:{}", endpoint.address().to_string(), endpoint.port());
  }

  void start() { readRequest(); }
  const std::string& peer() const { return peer_; }

  ~Connection() { releaseSlot(); }

  void respond(Response response) {
    if (closed_) return;
    auto message = std::make_shared<http::response<http::string_body>>();
    message->body() = std::move(response.body);
    writeMessage(std::move(message), response.status, response.contentType, response.headers);
  }

  void respondFile(unsigned status, const std::string& contentType, int fd, const HeaderList& headers) {
    beast::file file;
    file.native_handle(fd);  // closes it whatever happens next
    if (closed_) return;
    auto message = std::make_shared<http::response<http::file_body>>();
    beast::error_code ec;
    message->body().reset(std::move(file), ec);
    if (ec) return respond(Response::text(500, "Failed to read the file: " + ec.message()));
    // The body goes out as fast as the client reads it; a slow client is
    // not cut off by the idle timeout meant for requests.
    stream_.expires_never();
    writeMessage(std::move(message), status, contentType, headers);
  }

  void startStream(unsigned status, const std::string& contentType, const HeaderList& headers) {
    if (closed_) return;
    streaming_ = true;
    std::string head = fmt::format("HTTP/1.1 {} {}\r\nServer: mezzo\r\nTransfer-Encoding: chunked\r\n", status,
                                   std::string(http::obsolete_reason(http::int_to_status(status))));
    if (!contentType.empty()) {
      head += fmt::format("Content-Type: {}\r\n", contentType);
    }
    for (const auto& [name, value] : headers) {
      head += fmt::format("{}: {}\r\n", name, value);
    }
    head += "Connection: keep-alive\r\n\r\n";
    stream_.expires_never();
    enqueue(std::move(head));
    watchForDisconnect();
  }

  void writeChunk(std::string_view data) {
    if (closed_ || finishing_ || data.empty()) return;
    std::string chunk = fmt::format("{:x}\r\n", data.size());
    chunk.append(data);
    chunk.append("\r\n");
    enqueue(std::move(chunk));
  }

  void finishStream() {
    if (closed_ || finishing_) return;
    enqueue("0\r\n\r\n");
    finishing_ = true;
  }

  bool closed() const { return closed_ || finishing_; }

  void onClose(std::function<void()> callback) {
    if (closed_) {
      callback();
      return;
    }
    closeCallbacks_.push_back(std::move(callback));
  }

 private:
  template <typename Body>
  void writeMessage(std::shared_ptr<http::response<Body>> message, unsigned status, const std::string& contentType,
                    const HeaderList& headers) {
    message->version(11);
    message->result(status);
    message->set(http::field::server, "mezzo");
    if (!contentType.empty()) {
      message->set(http::field::content_type, contentType);
    }
    for (auto& [name, value] : headers) {
      message->set(name, value);
    }
    message->keep_alive(keepAlive_);
    message->prepare_payload();
    auto self = shared_from_this();
    http::async_write(stream_, *message, [self, message](beast::error_code ec, size_t) {
      if (ec || !self->keepAlive_) {
        self->shutdown();
        return;
      }
      self->readRequest();
    });
  }

  void readRequest() {
    parser_.emplace();
    parser_->body_limit(options_.maxBodyBytes);
    parser_->header_limit(static_cast<uint32_t>(options_.maxHeaderBytes));
    stream_.expires_after(options_.idleTimeout);
    auto self = shared_from_this();
    http::async_read(stream_, buffer_, *parser_, [self](beast::error_code ec, size_t) { self->onRead(ec); });
  }

  void onRead(beast::error_code ec) {
    if (ec == http::error::body_limit) {
      keepAlive_ = false;
      respond(Response::text(413, fmt::format("Request body exceeds the limit of {} bytes", options_.maxBodyBytes)));
      return;
    }
    if (ec == http::error::header_limit) {
      keepAlive_ = false;
      respond(Response::text(431, "Request headers are too large"));
      return;
    }
    if (ec == http::error::end_of_stream || ec == asio::error::eof || ec == beast::error::timeout ||
        ec == asio::error::connection_reset || ec == asio::error::operation_aborted) {
      shutdown();
      return;
    }
    if (ec) {
      keepAlive_ = false;
      respond(Response::text(400, "Malformed HTTP request: " + ec.message()));
      return;
    }
    Request request = parser_->release();
    keepAlive_ = request.keep_alive();
    (*handler_)(std::move(request), Responder(shared_from_this()));
  }

  void enqueue(std::string bytes) {
    pending_.push_back(std::move(bytes));
    if (!writing_) writeNext();
  }

  void writeNext() {
    if (pending_.empty()) {
      writing_ = false;
      if (finishing_) shutdown();
      return;
    }
    writing_ = true;
    auto self = shared_from_this();
    asio::async_write(stream_.socket(), asio::buffer(pending_.front()), [self](beast::error_code ec, size_t) {
      self->pending_.pop_front();
      if (ec) {
        self->shutdown();
        return;
      }
      self->writeNext();
    });
  }

  // A streaming client sends nothing more; any read completion (EOF, reset,
  // stray bytes) means the stream is over.
  void watchForDisconnect() {
    auto self = shared_from_this();
    stream_.socket().async_read_some(asio::buffer(discard_), [self](beast::error_code ec, size_t) {
      if (ec || !self->closed_) self->shutdown();
    });
  }

  void shutdown() {
    if (closed_) return;
    closed_ = true;
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.socket().close(ignored);
    releaseSlot();
    auto callbacks = std::move(closeCallbacks_);
    for (auto& callback : callbacks) callback();
  }

  void releaseSlot() {
    if (!holdsSlot_) return;
    holdsSlot_ = false;
    --slots_->open;
    if (slots_->onRelease) slots_->onRelease();
  }

  beast::tcp_stream stream_;
  ServerOptions options_;
  std::shared_ptr<Handler> handler_;
  std::shared_ptr<ConnectionSlots> slots_;
  bool holdsSlot_ = true;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::deque<std::string> pending_;
  std::array<char, 512> discard_{};
  std::vector<std::function<void()>> closeCallbacks_;
  std::string peer_;
  bool keepAlive_ = true;
  bool streaming_ = false;
  bool writing_ = false;
  bool finishing_ = false;
  bool closed_ = false;
};

StreamWriter::StreamWriter(std::shared_ptr<Connection> connection) : connection_(std::move(connection)) {}
StreamWriter::~StreamWriter() = default;
void StreamWriter::write(std::string chunk) { connection_->writeChunk(chunk); }
void StreamWriter::close() { connection_->finishStream(); }
bool StreamWriter::closed() const { return connection_->closed(); }
void StreamWriter::onClose(std::function<void()> callback) { connection_->onClose(std::move(callback)); }
std::string StreamWriter::peer() const { return connection_->peer(); }

struct Responder::State {
  std::shared_ptr<Connection> connection;
  bool answered = false;
  ~State() {
    if (!answered && connection) {
      connection->respond(Response::text(500, "The request was not answered"));
    }
  }
};

Responder::Responder(std::shared_ptr<Connection> connection) : state_(std::make_shared<State>()) {
  state_->connection = std::move(connection);
}

void Responder::respond(Response response) {
  if (state_->answered) return;
  state_->answered = true;
  state_->connection->respond(std::move(response));
}

void Responder::respondFile(unsigned status, std::string contentType, int fd, HeaderList headers) {
  if (state_->answered) {
    ::close(fd);
    return;
  }
  state_->answered = true;
  state_->connection->respondFile(status, contentType, fd, headers);
}

std::shared_ptr<StreamWriter> Responder::startStream(unsigned status, std::string contentType, HeaderList headers) {
  state_->answered = true;
  state_->connection->startStream(status, contentType, headers);
  return std::make_shared<StreamWriter>(state_->connection);
}

std::string Responder::peer() const { return state_->connection->peer(); }

size_t defaultMaxConnections() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return 1 << 20;
  return std::max<size_t>(1, static_cast<size_t>(limit.rlim_cur) / 4 * 3);
}

size_t raiseOpenFileLimit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
  if (limit.rlim_cur < limit.rlim_max) {
    rlim_t wanted = limit.rlim_max;
    limit.rlim_cur = wanted;
    if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) {
      spdlog::warn("Failed to raise the open-file limit to {}: {}", wanted, std::strerror(errno));
      ::getrlimit(RLIMIT_NOFILE, &limit);
    }
  }
  return static_cast<size_t>(limit.rlim_cur);
}

HttpServer::HttpServer(asio::io_context& io, ServerOptions options, Handler handler)
    : io_(io),
      options_(options),
      handler_(std::make_shared<Handler>(std::move(handler))),
      acceptor_(io),
      acceptRetry_(io),
      slots_(std::make_shared<ConnectionSlots>()) {
  slots_->max = options_.maxConnections > 0 ? options_.maxConnections : defaultMaxConnections();
  slots_->onRelease = [this] {
    if (acceptor_.is_open() && !accepting_) accept();
  };
}

HttpServer::~HttpServer() {
  stop();
  slots_->onRelease = nullptr;
}

size_t HttpServer::openConnections() const { return slots_->open; }

Result<uint16_t> HttpServer::listen(const std::string& ip, uint16_t port) {
  beast::error_code ec;
  asio::ip::address address = asio::ip::make_address(ip, ec);
  if (ec) return Status::invalidArgument("Invalid listen address '" + ip + "'");
  tcp::endpoint endpoint(address, port);
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Status::ioError(fmt::format("Failed to listen on {}:{}: {}", ip, port, ec.message()));
  port_ = acceptor_.local_endpoint().port();
  accept();
  return port_;
}

void HttpServer::stop() {
  beast::error_code ignored;
  acceptor_.close(ignored);
  acceptRetry_.cancel();
}

// At most one accept (or retry) is pending. At the connection cap none is:
// the next closing connection calls accept() again (slots_->onRelease).
void HttpServer::accept() {
  if (slots_->open >= slots_->max) {
    if (!atCap_) spdlog::warn("{} connections open (the maximum); new ones wait until one closes", slots_->open);
    atCap_ = true;
    return;
  }
  atCap_ = false;
  accepting_ = true;
  acceptor_.async_accept(io_, [this](beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted) return;  // stopped; `this` may be gone
    accepting_ = false;
    if (ec) return retryAcceptLater(ec);
    onAccepted(std::move(socket));
    if (acceptor_.is_open()) accept();
  });
}

// The listening socket stays readable while accept() fails (EMFILE, ENFILE,
// ENOBUFS), so retrying at once would spin and flood the log.
void HttpServer::retryAcceptLater(const boost::system::error_code& error) {
  if (failedAccepts_++ == 0) {
    spdlog::error("Accepting a connection failed: {}; retrying every {} ms", error.message(),
                  options_.acceptRetryDelay.count());
  }
  accepting_ = true;
  acceptRetry_.expires_after(options_.acceptRetryDelay);
  acceptRetry_.async_wait([this](beast::error_code ec) {
    if (ec) return;  // cancelled by stop(); `this` may be gone
    accepting_ = false;
    if (acceptor_.is_open()) accept();
  });
}

void HttpServer::onAccepted(tcp::socket socket) {
  if (failedAccepts_ > 0) {
    spdlog::info("Accepting connections again after {} failed attempts", failedAccepts_);
    failedAccepts_ = 0;
  }
  std::make_shared<Connection>(std::move(socket), options_, handler_, slots_)->start();
}

std::string_view targetPath(std::string_view target) { return target.substr(0, target.find('?')); }

std::string urlDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out.push_back(' ');
    } else if (text[i] == '%' && i + 2 < text.size() && std::isxdigit(static_cast<unsigned char>(text[i + 1])) &&
               std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

std::string queryParameter(std::string_view target, std::string_view name) {
  size_t question = target.find('?');
  if (question == std::string_view::npos) return {};
  std::string_view query = target.substr(question + 1);
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    size_t eq = pair.find('=');
    if (urlDecode(pair.substr(0, eq)) == name) {
      return eq == std::string_view::npos ? std::string() : urlDecode(pair.substr(eq + 1));
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return {};
}

}  // namespace mezzo::net
