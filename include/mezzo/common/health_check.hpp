// Validation of a task's HealthCheck (mesos.proto), shared by the master,
// which refuses a task with an invalid one (TASK_ERROR), and the executors,
// which only run valid ones. The rules are Mesos's
// (common/validation.cpp validateHealthCheck) plus Mezzo's one limit: no
// "https" scheme yet (the executors have no TLS client).
//
// Thread-safety: stateless functions.
#pragma once

#include "mezzo/common/status.hpp"
#include "mezzo/v1/mesos.pb.h"

namespace mezzo {

// OK, or kInvalidArgument with Mesos's message ("Expecting 'http' to be set
// for HTTP health check", ...).
Status validateHealthCheck(const v1::HealthCheck& check);

}  // namespace mezzo
