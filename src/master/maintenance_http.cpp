// The master's v0 maintenance endpoints (mesos-reference.md §3.2):
// GET/POST /maintenance/schedule (a Schedule as JSON), GET
// /maintenance/status (ClusterStatus), POST /machine/down and /machine/up (a
// JSON array of MachineID). They call the same MasterCore operations as the
// v1 operator calls and answer once the change is durable.
#include <nlohmann/json.hpp>

#include "master/master_daemon.hpp"
#include "mezzo/common/json_proto.hpp"
#include "mezzo/net/api_request.hpp"

namespace mezzo::master {

namespace http = boost::beast::http;

void MasterDaemon::handleMaintenanceV0(const std::string& path, net::Request&& request, net::Responder responder) {
  const bool post = request.method() == http::verb::post;
  const bool get = request.method() == http::verb::get || request.method() == http::verb::head;
  auto methodNotAllowed = [&](const char* allow) {
    net::Response response = net::Response::text(405, std::string("Expecting a ") + allow + " request");
    response.headers.emplace_back("Allow", allow);
    responder.respond(std::move(response));
  };
  TimePoint now = clock_.now();
  if (path == "/maintenance/status") {
    if (!get) return methodNotAllowed("GET");
    return serveJson(request, responder, messageToJsonString(core_->maintenanceStatus()));
  }
  if (path == "/maintenance/schedule") {
    if (get) return serveJson(request, responder, messageToJsonString(core_->registry().schedule()));
    if (!post) return methodNotAllowed("GET, POST");
    v1::maintenance::Schedule schedule;
    if (Status parsed = parseJsonMessage(request.body(), &schedule); !parsed) {
      return responder.respond(net::Response::text(400, "Invalid maintenance schedule: " + parsed.message()));
    }
    return awaitRegistryWrite(core_->updateMaintenanceSchedule(schedule, now), std::move(responder));
  }
  // /machine/down and /machine/up: a JSON array of MachineID.
  if (!post) return methodNotAllowed("POST");
  nlohmann::json body = nlohmann::json::parse(request.body(), nullptr, /*allow_exceptions=*/false);
  if (!body.is_array()) {
    return responder.respond(net::Response::text(400, "Expecting a JSON array of machine ids"));
  }
  google::protobuf::RepeatedPtrField<v1::MachineID> machines;
  for (const nlohmann::json& entry : body) {
    if (Status parsed = jsonToMessage(entry, machines.Add()); !parsed) {
      return responder.respond(net::Response::text(400, "Invalid machine id: " + parsed.message()));
    }
  }
  auto ticket = path == "/machine/down" ? core_->startMaintenance(machines, now) : core_->stopMaintenance(machines, now);
  awaitRegistryWrite(ticket, std::move(responder));
}

}  // namespace mezzo::master
