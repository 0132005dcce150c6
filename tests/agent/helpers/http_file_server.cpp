#include "http_file_server.hpp"

#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

namespace mezzo::testhelpers {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

// One connection: reads requests and answers them until the peer closes.
class Session : public std::enable_shared_from_this<Session> {
 public:
  using Router = std::function<std::optional<std::pair<int, std::string>>(const std::string&)>;
  Session(tcp::socket socket, Router router) : socket_(std::move(socket)), router_(std::move(router)) {}

  void readRequest() {
    request_ = {};
    http::async_read(socket_, buffer_, request_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (!ec) self->answer();
    });
  }

 private:
  void answer() {
    auto routed = router_(std::string(request_.target()));
    auto response = std::make_shared<http::response<http::string_body>>();
    response->version(request_.version());
    response->keep_alive(request_.keep_alive());
    if (!routed) {
      response->result(http::status::not_found);
      response->body() = "not found\n";
    } else if (routed->first == 302) {
      response->result(http::status::found);
      response->set(http::field::location, routed->second);
    } else if (routed->first == 0) {
      // Stalled: promise a long body, send a little of it and go quiet.
      holdOpen_ = std::make_shared<std::string>(
          "HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\nContent-Type: application/octet-stream\r\n\r\npartial");
      asio::async_write(socket_, asio::buffer(*holdOpen_), [self = shared_from_this()](beast::error_code, size_t) {
        stalled().push_back(self);  // kept open until the server stops
      });
      return;
    } else {
      response->result(http::status::ok);
      response->body() = routed->second;
    }
    response->prepare_payload();
    http::async_write(socket_, *response, [self = shared_from_this(), response](beast::error_code ec, size_t) {
      if (!ec && response->keep_alive()) self->readRequest();
    });
  }

  static std::vector<std::shared_ptr<Session>>& stalled() {
    thread_local std::vector<std::shared_ptr<Session>> sessions;
    return sessions;
  }

  tcp::socket socket_;
  Router router_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> request_;
  std::shared_ptr<std::string> holdOpen_;
};

}  // namespace

HttpFileServer::HttpFileServer() : acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
  port_ = acceptor_.local_endpoint().port();
  accept();
  thread_ = std::thread([this] { io_.run(); });
}

HttpFileServer::~HttpFileServer() {
  io_.stop();
  thread_.join();
}

void HttpFileServer::serve(const std::string& path, std::string body) {
  std::lock_guard lock(mutex_);
  routes_[path] = Route{Route::Kind::kBody, std::move(body)};
}

void HttpFileServer::redirect(const std::string& path, const std::string& to) {
  std::lock_guard lock(mutex_);
  routes_[path] = Route{Route::Kind::kRedirect, to};
}

void HttpFileServer::stall(const std::string& path) {
  std::lock_guard lock(mutex_);
  routes_[path] = Route{Route::Kind::kStall, {}};
}

int HttpFileServer::requests(const std::string& path) const {
  std::lock_guard lock(mutex_);
  auto it = requests_.find(path);
  return it == requests_.end() ? 0 : it->second;
}

std::optional<HttpFileServer::Route> HttpFileServer::route(const std::string& path) {
  std::lock_guard lock(mutex_);
  ++requests_[path];
  auto it = routes_.find(path);
  if (it == routes_.end()) return std::nullopt;
  return it->second;
}

void HttpFileServer::accept() {
  acceptor_.async_accept([this](beast::error_code ec, tcp::socket socket) {
    if (ec) return;
    auto router = [this](const std::string& path) -> std::optional<std::pair<int, std::string>> {
      auto found = route(path);
      if (!found) return std::nullopt;
      switch (found->kind) {
        case Route::Kind::kRedirect:
          return std::make_pair(302, found->payload);
        case Route::Kind::kStall:
          return std::make_pair(0, std::string());
        case Route::Kind::kBody:
          break;
      }
      return std::make_pair(200, found->payload);
    };
    std::make_shared<Session>(std::move(socket), std::move(router))->readRequest();
    accept();
  });
}

}  // namespace mezzo::testhelpers
