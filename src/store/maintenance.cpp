#include "store/maintenance.hpp"

#include <arpa/inet.h>
#include <strings.h>

#include <algorithm>
#include <cctype>
#include <set>

namespace mezzo::store {

namespace {

std::string lowerCase(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

}  // namespace

MachineKey machineKey(const v1::MachineID& id) { return {lowerCase(id.hostname()), id.ip()}; }

v1::MachineID machineId(const MachineKey& key) {
  v1::MachineID id;
  if (!key.first.empty()) id.set_hostname(key.first);
  if (!key.second.empty()) id.set_ip(key.second);
  return id;
}

std::string describeMachine(const v1::MachineID& id) {
  std::string text = "{";
  if (id.has_hostname()) text += "\"hostname\":\"" + id.hostname() + "\"";
  if (id.has_ip()) text += std::string(id.has_hostname() ? "," : "") + "\"ip\":\"" + id.ip() + "\"";
  return text + "}";
}

bool machineHoldsAgent(const v1::MachineID& id, const std::string& hostname, const std::string& ip) {
  if (id.hostname().empty() && id.ip().empty()) return false;
  if (!id.hostname().empty() && ::strcasecmp(id.hostname().c_str(), hostname.c_str()) != 0) return false;
  return id.ip().empty() || id.ip() == ip;
}

Status validateMachine(const v1::MachineID& id) {
  if (id.hostname().empty() && id.ip().empty()) {
    return Status::invalidArgument("Both 'hostname' and 'ip' for a machine are empty");
  }
  in_addr address{};
  if (!id.ip().empty() && ::inet_pton(AF_INET, id.ip().c_str(), &address) != 1) {
    return Status::invalidArgument("Machine ip '" + id.ip() + "' is not an IPv4 address");
  }
  return Status::ok();
}

Status validateMachineList(const google::protobuf::RepeatedPtrField<v1::MachineID>& ids) {
  if (ids.empty()) return Status::invalidArgument("List of machines is empty");
  std::set<MachineKey> seen;
  for (const v1::MachineID& id : ids) {
    if (Status status = validateMachine(id); !status) return status;
    if (!seen.insert(machineKey(id)).second) {
      return Status::invalidArgument("Machine " + describeMachine(id) + " appears more than once");
    }
  }
  return Status::ok();
}

Status validateSchedule(const v1::maintenance::Schedule& schedule) {
  std::set<MachineKey> seen;
  for (const v1::maintenance::Window& window : schedule.windows()) {
    if (window.machine_ids().empty()) {
      return Status::invalidArgument("List of machines in the maintenance window is empty");
    }
    if (!window.has_unavailability() || !window.unavailability().has_start()) {
      return Status::invalidArgument("Maintenance window without 'unavailability.start'");
    }
    if (window.unavailability().duration().nanoseconds() < 0) {
      return Status::invalidArgument("Unavailability 'duration' is negative");
    }
    for (const v1::MachineID& id : window.machine_ids()) {
      if (Status status = validateMachine(id); !status) return status;
      if (!seen.insert(machineKey(id)).second) {
        return Status::invalidArgument("Machine " + describeMachine(id) + " appears more than once in the schedule");
      }
    }
  }
  return Status::ok();
}

}  // namespace mezzo::store
