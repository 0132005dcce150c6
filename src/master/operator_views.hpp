// Protobuf views of the master's state for the v1 operator API (GET_STATE,
// GET_AGENTS, GET_FRAMEWORKS, GET_EXECUTORS, GET_TASKS, GET_ROLES,
// GET_WEIGHTS, GET_QUOTA, GET_MASTER), with the Mesos field names and numbers.
//
// Thread-safety: pure functions of a MasterCore snapshot; call on its loop.
#pragma once

#include "master/master_core.hpp"
#include "master/state_json.hpp"
#include "mezzo/v1/master/master.pb.h"

namespace mezzo::master::views {

using Response = v1::master::Response;

Response::GetAgents agents(const MasterCore& core);
Response::GetFrameworks frameworks(const MasterCore& core);
Response::GetExecutors executors(const MasterCore& core);
Response::GetTasks tasks(const MasterCore& core);
Response::GetState state(const MasterCore& core);
// Roles with a framework, a non-default weight or a quota.
Response::GetRoles roles(const MasterCore& core);
Response::GetWeights weights(const MasterCore& core);
Response::GetQuota quota(const MasterCore& core);
Response::GetMaster master(const MasterCore& core, const Leadership& leadership);

v1::TimeInfo timeInfo(TimePoint when);

}  // namespace mezzo::master::views
