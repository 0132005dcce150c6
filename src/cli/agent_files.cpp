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
  std::string data;

  FileReader(boost::asio::io_context& io, net::Endpoint agent, std::string path,
             std::function<void(Result<std::string>)> done, size_t maxBytes)
      : io(io), agent(std::move(agent)), path(std::move(path)), done(std::move(done)), maxBytes(maxBytes) {}

  void readPage() {
    net::ClientRequest request;
    request.method = boost::beast::http::verb::get;
    request.target = fmt::format("/files/read?path={}&offset={}&length={}", urlEncode(path), data.size(), kPageBytes);
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
                   std::function<void(Result<std::string>)> done, size_t maxBytes) {
  std::make_shared<FileReader>(io, agent, path, std::move(done), maxBytes)->readPage();
}

}  // namespace mezzo::cli
