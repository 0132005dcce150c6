// What the master refuses at ACCEPT because Mezzo cannot do it yet
// (docs/api-compatibility.md, "Refused at launch"): container images,
// DOCKER containers, CNI networks, secrets, volume sources other than host
// and sandbox paths, GPUs. A refused task gets TASK_ERROR before anything
// runs, with a message naming the field, rather than running without what
// it asked for.
//
// Pure functions of the TaskInfo / ExecutorInfo; thread-safe.
#pragma once

#include <string>

#include "mezzo/v1/mesos.pb.h"

namespace mezzo::master {

// The first field of `task` (its command, container, health check command
// and, for a task with an ExecutorInfo, its executor) that Mezzo cannot
// honour, as a message naming the field; empty if there is none.
std::string unsupportedTaskField(const v1::TaskInfo& task);

// The same for an ExecutorInfo (a LAUNCH_GROUP's executor); `path` names it
// in the message (e.g. "executor").
std::string unsupportedExecutorField(const v1::ExecutorInfo& executor, const std::string& path);

}  // namespace mezzo::master
