// The HTTP side of the v1 scheduler API and of the internal agent protocol:
// request validation as the Mesos master does it (mesos-reference.md §0.2,
// §1.1), then the MasterCore call, then the response or the event stream.
#include <spdlog/spdlog.h>

#include "master/master_daemon.hpp"
#include "mezzo/net/api_request.hpp"

namespace mezzo::master {

namespace http = boost::beast::http;

using net::checkAccept;
using net::checkApiPost;
using net::headerValue;
using net::httpStatusFor;

void MasterDaemon::handleScheduler(net::Request&& request, net::Responder responder) {
  auto contentType = checkApiPost(request, responder);
  if (!contentType) return;
  v1::scheduler::Call call;
  Status decoded = decodeMessage(*contentType, request.body(), &call);
  if (!decoded) return responder.respond(net::Response::text(400, decoded.message()));
  TimePoint now = clock_.now();
  std::string streamHeader = headerValue(request, "Mesos-Stream-Id");

  if (call.type() == v1::scheduler::Call::SUBSCRIBE) {
    auto accept = checkAccept(request, responder);
    if (!accept) return;
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
  auto contentType = checkApiPost(request, responder);
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
