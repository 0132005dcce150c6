// Validation of a task's HealthCheck and CheckInfo (mesos.proto), shared by
// the master, which refuses a task with an invalid one (TASK_ERROR), and
// the executors, which only run valid ones. The rules are Mesos's
// (common/validation.cpp validateHealthCheck, validateCheckInfo) plus
// Mezzo's limits: NaN or infinite durations are refused, and so is the
// "https" scheme (the executors have no TLS client yet).
//
// Thread-safety: stateless functions.
#pragma once

#include "mezzo/common/status.hpp"
#include "mezzo/v1/mesos.pb.h"

namespace mezzo {

// OK, or kInvalidArgument with Mesos's message ("Expecting 'http' to be set
// for HTTP health check", ...).
Status validateHealthCheck(const v1::HealthCheck& check);

// The same for a general check ("Expecting 'http' to be set for HTTP check").
Status validateCheckInfo(const v1::CheckInfo& check);

}  // namespace mezzo
