// Request checks shared by every v1 API endpoint (scheduler, executor,
// internal agent protocol), as the Mesos daemons do them
// (mesos-reference.md §0.2): POST only (405 + Allow), a Content-Type that is
// present (400) and JSON or protobuf (415), Accept negotiation (406).
//
// Thread-safety: stateless functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "mezzo/common/codec.hpp"
#include "mezzo/net/http_server.hpp"

namespace mezzo::net {

std::string headerValue(const Request& request, std::string_view name);

// All Accept headers of the request joined with ',' (clients may send several).
std::string joinedAccept(const Request& request);

// Checks method and Content-Type; on failure answers the request and
// returns nullopt, else the body's media type.
std::optional<MediaType> checkApiPost(const Request& request, Responder& responder);

// The response media type for the request's Accept headers; answers 406 and
// returns nullopt when neither JSON nor protobuf is acceptable.
std::optional<MediaType> checkAccept(const Request& request, Responder& responder);

// An operator API call (master or agent POST /api/v1) that passed the
// checks above, decoded, with a known type; and the media type to answer in.
template <typename Call>
struct OperatorRequest {
  Call call;
  MediaType accept;
};

// Checks, decodes and answers 400 for a malformed or typeless call;
// nullopt once the request has been answered.
template <typename Call>
std::optional<OperatorRequest<Call>> decodeOperatorCall(const Request& request, Responder& responder) {
  auto contentType = checkApiPost(request, responder);
  if (!contentType) return std::nullopt;
  auto accept = checkAccept(request, responder);
  if (!accept) return std::nullopt;
  OperatorRequest<Call> decoded{Call(), *accept};
  Status status = decodeMessage(*contentType, request.body(), &decoded.call);
  if (!status) {
    responder.respond(Response::text(400, status.message()));
    return std::nullopt;
  }
  if (!decoded.call.has_type() || decoded.call.type() == Call::UNKNOWN) {
    responder.respond(Response::text(400, "Expecting 'type' to be present"));
    return std::nullopt;
  }
  return decoded;
}

// The HTTP status for a Status returned by a daemon's core:
// kPermissionDenied -> 403, kUnavailable -> 503, kInternal -> 500, else 400.
unsigned httpStatusFor(const Status& status);

}  // namespace mezzo::net
