// HTTP/1.1 client (Boost.Beast) used by agents, executors, the scheduler
// library and the CLI.
//
// httpRequest() sends one request and calls back once with the whole
// response or an error (connect failure, timeout, reset). Connections are
// kept alive and reused by later requests to the same endpoint on the same
// io_context (at most 16 idle ones per endpoint); a request is never
// retried, so one sent on a connection the server has just closed fails.
// HttpStream sends one request and then delivers the response body
// incrementally as it arrives (a chunked v1 event stream), calling onData for
// each piece and onClose once at the end; close() cancels it.
// httpRequestSync() is a blocking convenience for tools and tests.
//
// Thread-safety: callbacks run on the io_context passed in; an HttpStream
// must be used from that io_context's thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/beast/http.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "mezzo/common/status.hpp"

namespace mezzo::net {

struct Endpoint {
  std::string host;
  uint16_t port = 0;
  std::string toString() const { return host + ":" + std::to_string(port); }
};

// Parses "host:port" (or "[::1]:port"); `http://` prefix and trailing path
// are tolerated.
Result<Endpoint> parseEndpoint(std::string_view text);

struct ClientRequest {
  boost::beast::http::verb method = boost::beast::http::verb::post;
  std::string target = "/";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::chrono::milliseconds timeout{15000};
};

struct ClientResponse {
  unsigned status = 0;
  boost::beast::http::fields headers;
  std::string body;

  std::string header(std::string_view name) const;
};

using ResponseCallback = std::function<void(Result<ClientResponse>)>;

void httpRequest(boost::asio::io_context& io, const Endpoint& endpoint, ClientRequest request,
                 ResponseCallback callback);

Result<ClientResponse> httpRequestSync(const Endpoint& endpoint, ClientRequest request);

class HttpStream : public std::enable_shared_from_this<HttpStream> {
 public:
  struct Callbacks {
    // Status and headers; for non-2xx answers body holds the whole body and
    // onClose follows.
    std::function<void(const ClientResponse& head)> onResponse;
    std::function<void(std::string_view data)> onData;
    // Called exactly once; OK status when the server ended the stream.
    std::function<void(const Status& status)> onClose;
  };

  static std::shared_ptr<HttpStream> open(boost::asio::io_context& io, const Endpoint& endpoint,
                                          ClientRequest request, Callbacks callbacks);
  virtual ~HttpStream() = default;
  virtual void close() = 0;
};

}  // namespace mezzo::net
