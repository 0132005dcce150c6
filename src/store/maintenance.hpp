// Maintenance machines: how a MachineID is named, compared and validated,
// and whether an agent runs on a scheduled machine (mesos-reference.md §4.9).
//
// A machine is keyed by its hostname (lower-cased) and IP, as in Mesos, so
// {hostname: "a"} and {hostname: "a", ip: "10.0.0.1"} are two entries of a
// schedule. An agent is on a scheduled machine when every field the
// schedule gives matches it: an operator may name machines by hostname or
// by IP alone (Mesos requires both to match the agent's exactly).
//
// Thread-safety: stateless functions.
#pragma once

#include <string>
#include <utility>

#include <google/protobuf/repeated_field.h>

#include "mezzo/common/status.hpp"
#include "mezzo/v1/maintenance/maintenance.pb.h"

namespace mezzo::store {

using MachineKey = std::pair<std::string, std::string>;  // lower-case hostname, ip

MachineKey machineKey(const v1::MachineID& id);
v1::MachineID machineId(const MachineKey& key);
// {"hostname":"a","ip":"10.0.0.1"}-style text for messages.
std::string describeMachine(const v1::MachineID& id);

// True when `id` names the machine of an agent with this hostname and IP.
bool machineHoldsAgent(const v1::MachineID& id, const std::string& hostname, const std::string& ip);

// A machine names a hostname or an IPv4 address (or both).
Status validateMachine(const v1::MachineID& id);
// A non-empty list of valid machines, none twice.
Status validateMachineList(const google::protobuf::RepeatedPtrField<v1::MachineID>& ids);
// Windows with machines and a non-negative duration; no machine in two windows.
Status validateSchedule(const v1::maintenance::Schedule& schedule);

}  // namespace mezzo::store
