// HttpFileServer: a tiny HTTP/1.1 server for fetcher tests, on 127.0.0.1
// and a port chosen by the kernel. GET of a path added with serve() answers
// 200 with its body; a path added with redirect() answers 302 to another
// path; a path added with stall() sends its headers and a few bytes of the
// body, then nothing more until the server stops; anything else is 404.
// Every request is counted by path, so tests can prove a cache hit made no
// request.
//
// Thread-safety: serve/redirect/stall/requests may be called from any
// thread; the server runs on its own thread until destroyed.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace mezzo::testhelpers {

class HttpFileServer {
 public:
  HttpFileServer();
  ~HttpFileServer();
  HttpFileServer(const HttpFileServer&) = delete;
  HttpFileServer& operator=(const HttpFileServer&) = delete;

  void serve(const std::string& path, std::string body);
  void redirect(const std::string& path, const std::string& to);
  void stall(const std::string& path);
  // Requests received for `path` so far.
  int requests(const std::string& path) const;
  uint16_t port() const { return port_; }
  std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port_) + path; }

 private:
  struct Route {
    enum class Kind { kBody, kRedirect, kStall } kind = Kind::kBody;
    std::string payload;  // body, or the redirect's target path
  };
  void accept();
  // What to answer for `path` (counted); nullopt for 404.
  std::optional<Route> route(const std::string& path);

  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  mutable std::mutex mutex_;
  std::map<std::string, Route> routes_;
  std::map<std::string, int> requests_;
  std::thread thread_;
};

}  // namespace mezzo::testhelpers
