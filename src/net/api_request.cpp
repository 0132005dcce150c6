#include "mezzo/net/api_request.hpp"

namespace mezzo::net {

namespace http = boost::beast::http;

std::string headerValue(const Request& request, std::string_view name) {
  auto it = request.find(boost::beast::string_view(name.data(), name.size()));
  return it == request.end() ? std::string() : std::string(it->value());
}

std::string joinedAccept(const Request& request) {
  std::string joined;
  for (auto it = request.find(http::field::accept); it != request.end() && it->name() == http::field::accept; ++it) {
    if (!joined.empty()) joined += ",";
    joined += std::string(it->value());
  }
  return joined;
}

std::optional<MediaType> checkApiPost(const Request& request, Responder& responder) {
  if (request.method() != http::verb::post) {
    Response response = Response::text(405, "Expecting a POST request");
    response.headers.emplace_back("Allow", "POST");
    responder.respond(std::move(response));
    return std::nullopt;
  }
  if (request.find(http::field::content_type) == request.end()) {
    responder.respond(Response::text(400, "Expecting 'Content-Type' to be present"));
    return std::nullopt;
  }
  auto contentType = parseContentType(headerValue(request, "Content-Type"));
  if (!contentType) {
    responder.respond(Response::text(415, "Expecting 'Content-Type' of application/json or application/x-protobuf"));
    return std::nullopt;
  }
  return contentType;
}

std::optional<MediaType> checkAccept(const Request& request, Responder& responder) {
  auto accept = negotiateAccept(joinedAccept(request));
  if (!accept) {
    responder.respond(Response::text(406, "Expecting 'Accept' to allow application/json or application/x-protobuf"));
  }
  return accept;
}

unsigned httpStatusFor(const Status& status) {
  switch (status.code()) {
    case StatusCode::kPermissionDenied: return 403;
    case StatusCode::kUnavailable: return 503;
    case StatusCode::kInternal: return 500;
    default: return 400;
  }
}

}  // namespace mezzo::net
