// The HTTP side of the v1 scheduler API and of the internal agent protocol:
// request validation as the Mesos master does it (mesos-reference.md §0.2,
// §1.1), then the MasterCore call, then the response or the event stream.
#include <spdlog/spdlog.h>

#include "master/master_daemon.hpp"

namespace mezzo::master {

namespace http = boost::beast::http;

namespace {

unsigned httpStatusFor(const Status& status) {
  switch (status.code()) {
    case StatusCode::kPermissionDenied: return 403;
    case StatusCode::kUnavailable: return 503;
    case StatusCode::kInternal: return 500;
    default: return 400;
  }
}

std::string headerValue(const net::Request& request, std::string_view name) {
  auto it = request.find(boost::beast::string_view(name.data(), name.size()));
  return it == request.end() ? std::string() : std::string(it->value());
}

// Common checks of every v1 POST endpoint; on failure answers and returns nullopt.
std::optional<MediaType> checkPostAndContentType(const net::Request& request, net::Responder& responder) {
  if (request.method() != http::verb::post) {
    net::Response response = net::Response::text(405, "Expecting a POST request");
    response.headers.emplace_back("Allow", "POST");
    responder.respond(std::move(response));
    return std::nullopt;
  }
  if (request.find(http::field::content_type) == request.end()) {
    responder.respond(net::Response::text(400, "Expecting 'Content-Type' to be present"));
    return std::nullopt;
  }
  auto contentType = parseContentType(headerValue(request, "Content-Type"));
  if (!contentType) {
    responder.respond(net::Response::text(
        415, "Expecting 'Content-Type' of application/json or application/x-protobuf"));
    return std::nullopt;
  }
  return contentType;
}

// Accept may appear more than once; all values count.
std::string joinedAccept(const net::Request& request) {
  std::string joined;
  for (auto it = request.find(http::field::accept); it != request.end() && it->name() == http::field::accept; ++it) {
    if (!joined.empty()) joined += ",";
    joined += std::string(it->value());
  }
  return joined;
}

}  // namespace

void MasterDaemon::handleScheduler(net::Request&& request, net::Responder responder) {
  auto contentType = checkPostAndContentType(request, responder);
  if (!contentType) return;
  v1::scheduler::Call call;
  Status decoded = decodeMessage(*contentType, request.body(), &call);
  if (!decoded) return responder.respond(net::Response::text(400, decoded.message()));
  TimePoint now = clock_.now();
  std::string streamHeader = headerValue(request, "Mesos-Stream-Id");

  if (call.type() == v1::scheduler::Call::SUBSCRIBE) {
    auto accept = negotiateAccept(joinedAccept(request));
    if (!accept) {
      return responder.respond(
          net::Response::text(406, "Expecting 'Accept' to allow application/json or application/x-protobuf"));
    }
    if (!streamHeader.empty()) {
      return responder.respond(
          net::Response::text(400, "Subscribe calls should not include the 'Mesos-Stream-Id' header"));
    }
    std::string streamId = randomUuidString();
    auto framework = core_->subscribe(call, streamId, now);
    if (!framework) {
      core_->takeEffects();  // nothing was sent: the call failed as a whole
      return responder.respond(net::Response::text(httpStatusFor(framework.status()), framework.error()));
    }
    auto writer = responder.startStream(200, std::string(mediaTypeName(*accept)), {{"Mesos-Stream-Id", streamId}});
    streams_[streamId] = OpenStream{writer, *accept};
    writer->onClose([this, streamId] {
      streams_.erase(streamId);
      core_->frameworkStreamClosed(streamId, clock_.now());
      afterCoreCall();
    });
    afterCoreCall();
    return;
  }

  if (streamHeader.empty()) {
    return responder.respond(
        net::Response::text(400, "All non-subscribe calls should include the 'Mesos-Stream-Id' header"));
  }
  Status status = core_->handleCall(call, streamHeader, now);
  afterCoreCall();
  if (!status) return responder.respond(net::Response::text(httpStatusFor(status), status.message()));
  responder.respond(net::Response::empty(202));
}

void MasterDaemon::handleAgentProtocol(net::Request&& request, net::Responder responder) {
  auto contentType = checkPostAndContentType(request, responder);
  if (!contentType) return;
  internal::AgentCall call;
  Status decoded = decodeMessage(*contentType, request.body(), &call);
  if (!decoded) return responder.respond(net::Response::text(400, decoded.message()));
  TimePoint now = clock_.now();
  if (call.type() == internal::AgentCall::REGISTER) {
    std::string streamId = randomUuidString();
    auto agent = core_->registerAgent(call, streamId, now);
    if (!agent) {
      core_->takeEffects();
      return responder.respond(net::Response::text(httpStatusFor(agent.status()), agent.error()));
    }
    auto writer = responder.startStream(200, std::string(kProtobufMediaType), {{"Mesos-Stream-Id", streamId}});
    streams_[streamId] = OpenStream{writer, MediaType::kProtobuf};
    writer->onClose([this, streamId] {
      streams_.erase(streamId);
      core_->agentStreamClosed(streamId, clock_.now());
      afterCoreCall();
    });
    afterCoreCall();
    return;
  }
  Status status = core_->handleAgentCall(call, headerValue(request, "Mesos-Stream-Id"), now);
  afterCoreCall();
  if (!status) return responder.respond(net::Response::text(httpStatusFor(status), status.message()));
  responder.respond(net::Response::empty(202));
}

}  // namespace mezzo::master
