#include "cli/agent_files.hpp"

#include <fmt/format.h>

#include <memory>
#include <nlohmann/json.hpp>

namespace mezzo::cli {

namespace {

constexpr size_t kPageBytes = 1024 * 1024;

// One file read in pages; keeps itself alive through the pending request.
struct FileReader : std::enable_shared_from_this<FileReader> {
  boost::asio::io_context& io;
  net::Endpoint agent;
  std::string path;
  std::function<void(Result<std::string>)> done;
  size_t maxBytes;
  uint64_t offset;
  std::string data;

  FileReader(boost::asio::io_context& io, net::Endpoint agent, std::string path,
             std::function<void(Result<std::string>)> done, size_t maxBytes, uint64_t offset)
      : io(io),
        agent(std::move(agent)),
        path(std::move(path)),
        done(std::move(done)),
        maxBytes(maxBytes),
        offset(offset) {}

  void readPage() {
    net::ClientRequest request;
    request.method = boost::beast::http::verb::get;
    request.target = fmt::format("/files/read?path={}&offset={}&length={}", urlEncode(path), offset + data.size(),
                                 kPageBytes);
    request.timeout = std::chrono::milliseconds(10000);
    net::httpRequest(io, agent, std::move(request), [self = shared_from_this()](Result<net::ClientResponse> response) {
      self->onPage(std::move(response));
    });
  }

  void onPage(Result<net::ClientResponse> response) {
    if (!response) return done(response.status());
    if (response->status == 404)
      return done(Status::notFound("No such file on agent " + agent.toString() + ": " + path));
    if (response->status != 200) {
      return done(Status::unavailable(fmt::format("GET /files/read on {} answered HTTP {}: {}", agent.toString(),
                                                  response->status, response->body)));
    }
    auto json = nlohmann::json::parse(response->body, nullptr, false);
    if (!json.is_object() || !json.contains("data") || !json["data"].is_string()) {
      return done(Status::unavailable("Unexpected /files/read answer from " + agent.toString()));
    }
    const std::string& page = json["data"].get_ref<const std::string&>();
    data += page;
    if (page.empty() || page.size() < kPageBytes || data.size() >= maxBytes) {
      if (data.size() > maxBytes) data.resize(maxBytes);
      return done(std::move(data));
    }
    readPage();
  }
};

}  // namespace

std::string sandboxPath(const std::string& frameworkId, const std::string& executorId, const std::string& file) {
  return "/frameworks/" + frameworkId + "/executors/" + executorId + "/runs/latest/" + file;
}

net::Endpoint agentEndpoint(const v1::Offer& offer) {
  if (offer.has_url()) {
    const v1::Address& address = offer.url().address();
    std::string host = !address.ip().empty() ? address.ip() : address.hostname();
    if (!host.empty() && address.port() > 0) return net::Endpoint{host, static_cast<uint16_t>(address.port())};
  }
  return net::Endpoint{offer.hostname(), 5051};
}

std::string urlEncode(std::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == '/') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

void readAgentFile(boost::asio::io_context& io, const net::Endpoint& agent, const std::string& path,
                   std::function<void(Result<std::string>)> done, size_t maxBytes, uint64_t offset) {
  std::make_shared<FileReader>(io, agent, path, std::move(done), maxBytes, offset)->readPage();
}

std::shared_ptr<FileFollower> FileFollower::start(boost::asio::io_context& io, net::Endpoint agent, std::string path,
                                                  std::function<void(const std::string& data)> onData,
                                                  Duration interval) {
  auto follower = std::make_shared<FileFollower>(io, std::move(agent), std::move(path), std::move(onData), interval);
  follower->readMore();
  return follower;
}

FileFollower::FileFollower(boost::asio::io_context& io, net::Endpoint agent, std::string path,
                           std::function<void(const std::string& data)> onData, Duration interval)
    : io_(io),
      agent_(std::move(agent)),
      path_(std::move(path)),
      onData_(std::move(onData)),
      interval_(interval),
      timer_(io) {}

void FileFollower::readMore() {
  reading_ = true;
  finalRead_ = static_cast<bool>(done_);
  readAgentFile(
      io_, agent_, path_, [self = shared_from_this()](Result<std::string> data) { self->onRead(std::move(data)); },
      16 * 1024 * 1024, offset_);
}

void FileFollower::onRead(Result<std::string> data) {
  reading_ = false;
  if (data && !data->empty()) {
    offset_ += data->size();
    onData_(*data);
  }
  if (finalRead_) {
    auto done = std::move(done_);
    return done(data ? Status::ok() : data.status());
  }
  // finish() came while this read was under way: what it read may not be
  // the end yet.
  if (done_) return readMore();
  timer_.expires_after(interval_);
  timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (!ec && !self->done_) self->readMore();
  });
}

void FileFollower::finish(std::function<void(const Status& status)> done) {
  done_ = std::move(done);
  if (reading_) return;  // onRead reads once more
  timer_.cancel();
  readMore();
}

}  // namespace mezzo::cli
