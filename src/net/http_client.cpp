#include "mezzo/net/http_client.hpp"

#include <sys/socket.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <cerrno>
#include <charconv>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <vector>

namespace mezzo::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

std::string ClientResponse::header(std::string_view name) const {
  auto it = headers.find(beast::string_view(name.data(), name.size()));
  return it == headers.end() ? std::string() : std::string(it->value());
}

Result<Endpoint> parseEndpoint(std::string_view text) {
  if (text.starts_with("http://")) text.remove_prefix(7);
  size_t slash = text.find('/');
  if (slash != std::string_view::npos) text = text.substr(0, slash);
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    return Status::invalidArgument("Expected host:port, got '" + std::string(text) + "'");
  }
  std::string_view host = text.substr(0, colon);
  if (host.starts_with('[') && host.ends_with(']')) host = host.substr(1, host.size() - 2);
  std::string_view portText = text.substr(colon + 1);
  uint16_t port = 0;
  auto [end, ec] = std::from_chars(portText.data(), portText.data() + portText.size(), port);
  if (ec != std::errc() || end != portText.data() + portText.size() || port == 0) {
    return Status::invalidArgument("Invalid port in '" + std::string(text) + "'");
  }
  return Endpoint{std::string(host), port};
}

namespace {

http::request<http::string_body> buildRequest(const Endpoint& endpoint, ClientRequest& request) {
  http::request<http::string_body> message{request.method, request.target, 11};
  message.set(http::field::host, endpoint.toString());
  message.set(http::field::user_agent, "mezzo");
  for (auto& [name, value] : request.headers) message.set(name, value);
  message.body() = std::move(request.body);
  if (request.method != http::verb::get || !message.body().empty()) message.prepare_payload();
  message.keep_alive(true);
  return message;
}

// Idle keep-alive connections of httpRequest(), per endpoint; one pool per
// io_context (an asio service, so it goes with the io_context). A request
// takes an idle connection that still looks open (the server has not
// closed it: no EOF waiting), or connects anew; a complete response on a
// connection the server keeps alive puts it back. Requests are never
// retried: a connection the server closes just as it is reused fails that
// request like any broken connection.
class ConnectionPool : public asio::execution_context::service {
 public:
  static inline asio::execution_context::id id;
  explicit ConnectionPool(asio::execution_context& context) : service(context) {}

  std::unique_ptr<beast::tcp_stream> take(const std::string& endpoint) {
    std::lock_guard lock(mutex_);
    auto it = idle_.find(endpoint);
    if (it == idle_.end()) return nullptr;
    std::unique_ptr<beast::tcp_stream> stream;
    while (!stream && !it->second.empty()) {
      stream = std::move(it->second.back());
      it->second.pop_back();
      if (!looksOpen(*stream)) stream.reset();
    }
    return stream;
  }

  void give(const std::string& endpoint, std::unique_ptr<beast::tcp_stream> stream) {
    std::lock_guard lock(mutex_);
    auto& idle = idle_[endpoint];
    if (idle.size() < kMaxIdlePerEndpoint) idle.push_back(std::move(stream));
  }

 private:
  static constexpr size_t kMaxIdlePerEndpoint = 16;

  // Open, and nothing to read (an idle HTTP connection has nothing to say
  // unless the server closed it).
  static bool looksOpen(beast::tcp_stream& stream) {
    char byte = 0;
    ssize_t got = ::recv(stream.socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
  }

  void shutdown() override {
    std::lock_guard lock(mutex_);
    idle_.clear();
  }

  std::mutex mutex_;
  std::map<std::string, std::vector<std::unique_ptr<beast::tcp_stream>>> idle_;
};

// Shared connect step: resolve, connect, disable Nagle.
template <typename Self, typename Next>
void connectThen(std::shared_ptr<Self> self, beast::tcp_stream& stream, tcp::resolver& resolver,
                 const Endpoint& endpoint, Next next) {
  resolver.async_resolve(endpoint.host, std::to_string(endpoint.port),
                         [self, &stream, next](beast::error_code ec, tcp::resolver::results_type results) {
                           if (ec) return next(ec);
                           stream.async_connect(results, [&stream, next](beast::error_code ec, const tcp::endpoint&) {
                             if (!ec) {
                               beast::error_code ignored;
                               stream.socket().set_option(tcp::no_delay(true), ignored);
                             }
                             next(ec);
                           });
                         });
}

class OneShotRequest : public std::enable_shared_from_this<OneShotRequest> {
 public:
  OneShotRequest(asio::io_context& io, Endpoint endpoint, ClientRequest request, ResponseCallback callback)
      : pool_(asio::use_service<ConnectionPool>(io)),
        resolver_(io),
        endpoint_(std::move(endpoint)),
        poolKey_(endpoint_.toString()),
        timeout_(request.timeout),
        message_(buildRequest(endpoint_, request)),
        callback_(std::move(callback)) {
    stream_ = pool_.take(poolKey_);
    if (!stream_) stream_ = std::make_unique<beast::tcp_stream>(io);
  }

  void start() {
    auto self = shared_from_this();
    stream_->expires_after(timeout_);
    if (stream_->socket().is_open()) return send();  // a kept-alive connection
    connectThen(self, *stream_, resolver_, endpoint_, [self](beast::error_code ec) {
      if (ec) return self->fail("connect to " + self->endpoint_.toString(), ec);
      self->send();
    });
  }

 private:
  void send() {
    auto self = shared_from_this();
    http::async_write(*stream_, message_, [self](beast::error_code ec, size_t) {
      if (ec) return self->fail("write", ec);
      // Not boost::none: with it Boost 1.74 failed non-2xx answers with a body (body_limit).
      self->parser_.body_limit(std::numeric_limits<std::uint64_t>::max());
      http::async_read(*self->stream_, self->buffer_, self->parser_, [self](beast::error_code ec, size_t) {
        if (ec) return self->fail("read", ec);
        auto& response = self->parser_.get();
        ClientResponse out;
        out.status = response.result_int();
        out.headers = response.base();
        out.body = std::move(response.body());
        if (response.keep_alive() && self->buffer_.size() == 0) {
          self->stream_->expires_never();
          self->pool_.give(self->poolKey_, std::move(self->stream_));
        } else {
          beast::error_code ignored;
          self->stream_->socket().shutdown(tcp::socket::shutdown_both, ignored);
        }
        self->callback_(std::move(out));
      });
    });
  }

  void fail(const std::string& what, beast::error_code ec) {
    callback_(Status::unavailable("HTTP " + what + " failed: " + ec.message()));
  }

  ConnectionPool& pool_;
  std::unique_ptr<beast::tcp_stream> stream_;
  tcp::resolver resolver_;
  Endpoint endpoint_;
  std::string poolKey_;
  std::chrono::milliseconds timeout_;
  http::request<http::string_body> message_;
  ResponseCallback callback_;
  beast::flat_buffer buffer_;
  http::response_parser<http::string_body> parser_;
};

class StreamImpl final : public HttpStream {
 public:
  StreamImpl(asio::io_context& io, Endpoint endpoint, ClientRequest request, Callbacks callbacks)
      : stream_(io),
        resolver_(io),
        endpoint_(std::move(endpoint)),
        timeout_(request.timeout),
        message_(buildRequest(endpoint_, request)),
        callbacks_(std::move(callbacks)) {}

  void start() {
    auto self = std::static_pointer_cast<StreamImpl>(shared_from_this());
    stream_.expires_after(timeout_);
    connectThen(self, stream_, resolver_, endpoint_, [self](beast::error_code ec) {
      if (ec)
        return self->finish(Status::unavailable("connect to " + self->endpoint_.toString() + ": " + ec.message()));
      http::async_write(self->stream_, self->message_, [self](beast::error_code ec, size_t) {
        if (ec) return self->finish(Status::unavailable("write failed: " + ec.message()));
        self->readHead();
      });
    });
  }

  void close() override {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.socket().close(ignored);
    finish(Status::unavailable("stream closed by client"));
  }

 private:
  void readHead() {
    auto self = std::static_pointer_cast<StreamImpl>(shared_from_this());
    // Not boost::none: with it Boost 1.74 failed non-2xx answers with a body (body_limit).
    parser_.body_limit(std::numeric_limits<std::uint64_t>::max());
    http::async_read_header(stream_, buffer_, parser_, [self](beast::error_code ec, size_t) {
      if (ec) return self->finish(Status::unavailable("read failed: " + ec.message()));
      const auto& head = self->parser_.get();
      if (head.result_int() / 100 != 2 || !head.chunked()) {
        // Not a stream: read the whole body, report it, end.
        http::async_read(self->stream_, self->buffer_, self->parser_, [self](beast::error_code, size_t) {
          ClientResponse response;
          response.status = self->parser_.get().result_int();
          response.headers = self->parser_.get().base();
          response.body = self->parser_.get().body();
          if (self->callbacks_.onResponse) self->callbacks_.onResponse(response);
          self->finish(Status::unavailable("HTTP " + std::to_string(response.status) + ": " + response.body));
        });
        return;
      }
      ClientResponse response;
      response.status = head.result_int();
      response.headers = head.base();
      self->stream_.expires_never();
      if (self->callbacks_.onResponse) self->callbacks_.onResponse(response);
      self->parser_.on_chunk_body(self->chunkBody_);
      self->readBody();
    });
  }

  void readBody() {
    auto self = std::static_pointer_cast<StreamImpl>(shared_from_this());
    http::async_read_some(stream_, buffer_, parser_, [self](beast::error_code ec, size_t) {
      if (ec) return self->finish(Status::unavailable("stream broken: " + ec.message()));
      if (self->parser_.is_done()) return self->finish(Status::ok());
      self->readBody();
    });
  }

  void finish(const Status& status) {
    if (finished_) return;
    finished_ = true;
    if (callbacks_.onClose) {
      auto onClose = std::move(callbacks_.onClose);
      callbacks_ = {};
      onClose(status);
    }
  }

  beast::tcp_stream stream_;
  tcp::resolver resolver_;
  Endpoint endpoint_;
  std::chrono::milliseconds timeout_;
  http::request<http::string_body> message_;
  Callbacks callbacks_;
  beast::flat_buffer buffer_;
  http::response_parser<http::string_body> parser_;
  std::function<size_t(uint64_t, beast::string_view, beast::error_code&)> chunkBody_ =
      [this](uint64_t, beast::string_view body, beast::error_code&) {
        if (!finished_ && callbacks_.onData) callbacks_.onData(std::string_view(body.data(), body.size()));
        return body.size();
      };
  bool finished_ = false;
};

}  // namespace

void httpRequest(asio::io_context& io, const Endpoint& endpoint, ClientRequest request, ResponseCallback callback) {
  std::make_shared<OneShotRequest>(io, endpoint, std::move(request), std::move(callback))->start();
}

Result<ClientResponse> httpRequestSync(const Endpoint& endpoint, ClientRequest request) {
  asio::io_context io;
  std::optional<Result<ClientResponse>> result;
  httpRequest(io, endpoint, std::move(request), [&](Result<ClientResponse> response) { result = std::move(response); });
  io.run();
  if (!result) return Status::internal("request did not complete");
  return std::move(*result);
}

std::shared_ptr<HttpStream> HttpStream::open(asio::io_context& io, const Endpoint& endpoint, ClientRequest request,
                                             Callbacks callbacks) {
  auto stream = std::make_shared<StreamImpl>(io, endpoint, std::move(request), std::move(callbacks));
  stream->start();
  return stream;
}

}  // namespace mezzo::net
