// Test helpers for following tasks through a SchedulerSession: collecting
// every task's updates (acknowledged) until a condition holds, and building
// LAUNCH_GROUP calls for the default executor.
//
// Thread-safety: use from the test's main thread, like SchedulerSession.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "harness/scheduler_session.hpp"

namespace mezzo::testing {

// Every update seen, keyed by task id, in arrival order.
using Seen = std::map<std::string, std::vector<v1::TaskStatus>>;

// Collects UPDATE events into `seen` (acknowledging those with a uuid) until
// `done(seen)` holds or the timeout.
Seen collectUpdates(SchedulerSession& session, const std::function<bool(const Seen&)>& done,
                    std::chrono::milliseconds timeout = std::chrono::seconds(30), Seen seen = {});

// True if every task of `ids` has updates and the last one's state satisfies `pred`.
bool allIn(const Seen& seen, const std::vector<std::string>& ids, const std::function<bool(v1::TaskState)>& pred);

// A DEFAULT executor with 0.1 cpus and 32 MB, in the offer's role.
v1::ExecutorInfo defaultExecutor(const std::string& id, const v1::Offer& offer);

// ACCEPT of `offer` with one LAUNCH_GROUP operation (refuse_seconds 0).
Call launchGroupCall(const v1::Offer& offer, const v1::ExecutorInfo& executor, const std::vector<v1::TaskInfo>& tasks);

}  // namespace mezzo::testing
