// The agent's v1 operator API (POST /api/v1 on the agent): the same request
// checks as the other v1 APIs (405, 400, 406, 415), then GET_HEALTH,
// GET_FLAGS, GET_VERSION, GET_METRICS and GET_CONTAINERS (each live
// executor's container with its ContainerStatus and ResourceStatistics, the
// numbers /monitor/statistics shows). Other Mesos calls answer 501 with the
// call's name. Everything here reads; nothing changes the agent.
#include "agent/agent_daemon.hpp"
#include "agent/containerizer.hpp"
#include "mezzo/common/codec.hpp"
#include "mezzo/common/operator_responses.hpp"
#include "mezzo/net/api_request.hpp"
#include "mezzo/v1/agent/agent.pb.h"

namespace mezzo::agent {

using OperatorCall = v1::agent::Call;
using OperatorResponse = v1::agent::Response;

OperatorResponse::GetContainers AgentDaemon::containersView() const {
  OperatorResponse::GetContainers out;
  for (const auto& [frameworkId, framework] : frameworks_) {
    for (const auto& [executorId, executor] : framework->executors) {
      if (executor->pid <= 0) continue;
      auto* container = out.add_containers();
      container->mutable_framework_id()->set_value(frameworkId.value());
      container->mutable_executor_id()->set_value(executorId.value());
      container->set_executor_name(executor->info.name());
      container->mutable_container_id()->set_value(executor->containerId);
      v1::ContainerStatus* status = container->mutable_container_status();
      status->mutable_container_id()->set_value(executor->containerId);
      status->set_executor_pid(static_cast<uint32_t>(executor->pid));
      *container->mutable_resource_statistics() =
          containerizer_->usage(executor->containerId, executor->pid, executor->limits).toProto();
    }
  }
  return out;
}

void AgentDaemon::handleOperatorApi(net::Request&& request, net::Responder responder) {
  auto decoded = net::decodeOperatorCall<OperatorCall>(request, responder);
  if (!decoded) return;
  const OperatorCall& call = decoded->call;
  const MediaType accept = decoded->accept;

  OperatorResponse response;
  auto reply = [&](OperatorResponse::Type type) {
    response.set_type(type);
    responder.respond(net::Response{200, std::string(mediaTypeName(accept)), encodeMessage(accept, response), {}});
  };
  switch (call.type()) {
    case OperatorCall::GET_HEALTH:
      response.mutable_get_health()->set_healthy(true);
      return reply(OperatorResponse::GET_HEALTH);
    case OperatorCall::GET_FLAGS:
      appendFlags(flags_.rendered, response.mutable_get_flags()->mutable_flags());
      return reply(OperatorResponse::GET_FLAGS);
    case OperatorCall::GET_VERSION:
      fillVersionInfo(response.mutable_get_version()->mutable_version_info());
      return reply(OperatorResponse::GET_VERSION);
    case OperatorCall::GET_METRICS:
      appendMetrics(renderMetrics(), response.mutable_get_metrics()->mutable_metrics());
      return reply(OperatorResponse::GET_METRICS);
    case OperatorCall::GET_CONTAINERS:
      // Mezzo runs no nested or standalone containers: both filters are no-ops.
      *response.mutable_get_containers() = containersView();
      return reply(OperatorResponse::GET_CONTAINERS);
    default:
      return responder.respond(
          net::Response::text(501, OperatorCall::Type_Name(call.type()) + " is not implemented by Mezzo's agent"));
  }
}

}  // namespace mezzo::agent
