// The HTTP side of the master's v1 operator API (POST /api/v1,
// mesos-reference.md §3.1): request checks shared with the other v1 APIs,
// then one handler per call type. Reads answer from the operator views;
// UPDATE_WEIGHTS / UPDATE_QUOTA / MARK_AGENT_GONE / UPDATE_MAINTENANCE_SCHEDULE /
// START_MAINTENANCE / STOP_MAINTENANCE answer 200 only once the change is
// durable in the registry (see MasterDaemon::performEffects); a
// second MARK_AGENT_GONE of a gone agent answers 200 at once. Calls Mezzo
// does not implement get 501 with the call's name.
#include <spdlog/spdlog.h>

#include "master/master_daemon.hpp"
#include "master/operator_views.hpp"
#include "mezzo/common/operator_responses.hpp"
#include "mezzo/net/api_request.hpp"
#include "mezzo/version.hpp"

namespace mezzo::master {

namespace {

using v1::master::Call;
using v1::master::Response;

// Calls a standby answers itself; every other call goes to the leader.
bool answeredByStandby(Call::Type type) {
  switch (type) {
    case Call::GET_HEALTH:
    case Call::GET_FLAGS:
    case Call::GET_VERSION:
    case Call::GET_METRICS:
    case Call::GET_MASTER:
      return true;
    default:
      return false;
  }
}

}  // namespace

void MasterDaemon::handleOperator(net::Request&& request, net::Responder responder) {
  auto decoded = net::decodeOperatorCall<Call>(request, responder);
  if (!decoded) return;
  const Call& call = decoded->call;
  const MediaType accept = decoded->accept;
  if (!answeredByStandby(call.type()) && redirectUnlessLeading(request, responder, "/api/v1")) return;

  TimePoint now = clock_.now();
  Response response;
  auto reply = [&](Response::Type type) {
    response.set_type(type);
    responder.respond(net::Response{200, std::string(mediaTypeName(accept)), encodeMessage(accept, response), {}});
  };
  auto fail = [&](const Status& status) {
    responder.respond(net::Response::text(net::httpStatusFor(status), status.message()));
  };

  switch (call.type()) {
    case Call::GET_HEALTH:
      response.mutable_get_health()->set_healthy(true);
      return reply(Response::GET_HEALTH);
    case Call::GET_FLAGS:
      appendFlags(flags_.rendered, response.mutable_get_flags()->mutable_flags());
      return reply(Response::GET_FLAGS);
    case Call::GET_VERSION:
      fillVersionInfo(response.mutable_get_version()->mutable_version_info());
      return reply(Response::GET_VERSION);
    case Call::GET_METRICS:
      appendMetrics(renderMetrics(*core_, leadership_, now), response.mutable_get_metrics()->mutable_metrics());
      return reply(Response::GET_METRICS);
    case Call::GET_STATE:
      *response.mutable_get_state() = views::state(*core_);
      return reply(Response::GET_STATE);
    case Call::GET_AGENTS:
      *response.mutable_get_agents() = views::agents(*core_);
      return reply(Response::GET_AGENTS);
    case Call::GET_FRAMEWORKS:
      *response.mutable_get_frameworks() = views::frameworks(*core_);
      return reply(Response::GET_FRAMEWORKS);
    case Call::GET_EXECUTORS:
      *response.mutable_get_executors() = views::executors(*core_);
      return reply(Response::GET_EXECUTORS);
    case Call::GET_TASKS:
      *response.mutable_get_tasks() = views::tasks(*core_);
      return reply(Response::GET_TASKS);
    case Call::GET_ROLES:
      *response.mutable_get_roles() = views::roles(*core_);
      return reply(Response::GET_ROLES);
    case Call::GET_WEIGHTS:
      *response.mutable_get_weights() = views::weights(*core_);
      return reply(Response::GET_WEIGHTS);
    case Call::GET_QUOTA:
      *response.mutable_get_quota() = views::quota(*core_);
      return reply(Response::GET_QUOTA);
    case Call::GET_MASTER:
      *response.mutable_get_master() = views::master(*core_, leadership_);
      return reply(Response::GET_MASTER);
    case Call::UPDATE_WEIGHTS:
    case Call::UPDATE_QUOTA: {
      bool weights = call.type() == Call::UPDATE_WEIGHTS;
      if (weights ? !call.has_update_weights() : !call.has_update_quota()) {
        return fail(Status::invalidArgument(weights ? "Expecting 'update_weights' to be present"
                                                    : "Expecting 'update_quota' to be present"));
      }
      auto ticket =
          weights ? core_->updateWeights(call.update_weights(), now) : core_->updateQuota(call.update_quota(), now);
      return awaitRegistryWrite(ticket, std::move(responder));
    }
    case Call::MARK_AGENT_GONE: {
      if (!call.has_mark_agent_gone())
        return fail(Status::invalidArgument("Expecting 'mark_agent_gone' to be present"));
      auto ticket = core_->markAgentGone(AgentId(call.mark_agent_gone().agent_id().value()), now);
      if (!ticket) return fail(ticket.status());
      if (!*ticket) return responder.respond(net::Response::empty(200));  // already gone
      pendingOperatorReplies_.emplace(**ticket, std::move(responder));
      performEffects();
      return;
    }
    case Call::GET_MAINTENANCE_SCHEDULE:
      *response.mutable_get_maintenance_schedule()->mutable_schedule() = core_->registry().schedule();
      return reply(Response::GET_MAINTENANCE_SCHEDULE);
    case Call::GET_MAINTENANCE_STATUS:
      *response.mutable_get_maintenance_status()->mutable_status() = core_->maintenanceStatus();
      return reply(Response::GET_MAINTENANCE_STATUS);
    case Call::UPDATE_MAINTENANCE_SCHEDULE: {
      if (!call.has_update_maintenance_schedule()) {
        return fail(Status::invalidArgument("Expecting 'update_maintenance_schedule' to be present"));
      }
      auto ticket = core_->updateMaintenanceSchedule(call.update_maintenance_schedule().schedule(), now);
      return awaitRegistryWrite(ticket, std::move(responder));
    }
    case Call::START_MAINTENANCE:
    case Call::STOP_MAINTENANCE: {
      bool start = call.type() == Call::START_MAINTENANCE;
      if (start ? !call.has_start_maintenance() : !call.has_stop_maintenance()) {
        return fail(Status::invalidArgument(start ? "Expecting 'start_maintenance' to be present"
                                                  : "Expecting 'stop_maintenance' to be present"));
      }
      auto ticket = start ? core_->startMaintenance(call.start_maintenance().machines(), now)
                          : core_->stopMaintenance(call.stop_maintenance().machines(), now);
      return awaitRegistryWrite(ticket, std::move(responder));
    }
    case Call::TEARDOWN: {
      if (!call.has_teardown()) return fail(Status::invalidArgument("Expecting 'teardown' to be present"));
      Status status = core_->teardownFramework(FrameworkId(call.teardown().framework_id().value()), now);
      afterCoreCall();
      if (!status) return fail(status);
      return responder.respond(net::Response::empty(200));
    }
    default:
      return responder.respond(
          net::Response::text(501, "Operator call " + Call::Type_Name(call.type()) + " is not implemented by Mezzo"));
  }
}

// A call that changes the registry answers once its write is done (or at
// once with the validation error).
void MasterDaemon::awaitRegistryWrite(const Result<uint64_t>& ticket, net::Responder responder) {
  if (!ticket) {
    return responder.respond(net::Response::text(net::httpStatusFor(ticket.status()), ticket.status().message()));
  }
  pendingOperatorReplies_.emplace(*ticket, std::move(responder));
  performEffects();
}

// Answers the calls waiting for a registry write (UPDATE_*, MARK_AGENT_GONE;
// several MARK_AGENT_GONE of one agent share a write) once it finished.
void MasterDaemon::completeOperatorReply(uint64_t ticket, const Status& status) {
  auto [begin, end] = pendingOperatorReplies_.equal_range(ticket);
  std::vector<net::Responder> responders;
  for (auto it = begin; it != end; ++it) responders.push_back(std::move(it->second));
  pendingOperatorReplies_.erase(begin, end);
  for (net::Responder& responder : responders) {
    if (status) {
      responder.respond(net::Response::empty(200));
    } else {
      responder.respond(net::Response::text(503, "Registry write failed: " + status.message()));
    }
  }
}

}  // namespace mezzo::master
