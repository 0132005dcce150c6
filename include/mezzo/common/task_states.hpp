// Facts about TaskState shared by master, agent, executor and clients.
//
// Thread-safety: pure functions.
#pragma once

#include "mezzo/v1/mesos.pb.h"

namespace mezzo {

// True for the terminal states: TASK_FINISHED, TASK_FAILED, TASK_KILLED,
// TASK_ERROR, TASK_LOST, TASK_DROPPED, TASK_GONE, TASK_GONE_BY_OPERATOR.
// TASK_UNREACHABLE and TASK_UNKNOWN are not terminal (the task may come back).
constexpr bool isTerminalState(v1::TaskState state) {
  switch (state) {
    case v1::TASK_FINISHED:
    case v1::TASK_FAILED:
    case v1::TASK_KILLED:
    case v1::TASK_ERROR:
    case v1::TASK_LOST:
    case v1::TASK_DROPPED:
    case v1::TASK_GONE:
    case v1::TASK_GONE_BY_OPERATOR:
      return true;
    default:
      return false;
  }
}

}  // namespace mezzo
