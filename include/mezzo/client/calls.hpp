// Builders of v1 scheduler Calls (mesos-reference.md §1.2-§1.3). They fill
// the call's type and body only; the Scheduler adds `framework_id` and sends
// them. Usable on their own by code that talks to the master another way.
//
// Thread-safety: stateless functions.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "mezzo/v1/scheduler/scheduler.pb.h"

namespace mezzo::client::calls {

using Call = v1::scheduler::Call;

// SUBSCRIBE; with `frameworkId` (a re-subscription) it is set both at the top
// level and as `framework_info.id`, as the master requires.
Call subscribe(const v1::FrameworkInfo& framework, const std::optional<v1::FrameworkID>& frameworkId);

Call accept(const std::vector<v1::OfferID>& offerIds, const std::vector<v1::Offer::Operation>& operations,
            const std::optional<v1::Filters>& filters = std::nullopt);

// ACCEPT of one offer with one LAUNCH of `tasks`; tasks without an agent_id
// get the offer's.
Call launch(const v1::Offer& offer, std::vector<v1::TaskInfo> tasks,
            const std::optional<v1::Filters>& filters = std::nullopt);

Call decline(const std::vector<v1::OfferID>& offerIds, const std::optional<v1::Filters>& filters = std::nullopt);
Call revive(const std::vector<std::string>& roles = {});
Call suppress(const std::vector<std::string>& roles = {});
Call kill(const v1::TaskID& taskId, const std::optional<v1::AgentID>& agentId = std::nullopt);
Call shutdown(const v1::ExecutorID& executorId, const v1::AgentID& agentId);

// ACKNOWLEDGE of an update; nullopt when the status carries no uuid (updates
// without one must never be acknowledged) or no agent id.
std::optional<Call> acknowledge(const v1::TaskStatus& status);

Call reconcile(const std::vector<Call::Reconcile::Task>& tasks = {});
Call message(const v1::AgentID& agentId, const v1::ExecutorID& executorId, std::string data);
Call request(const std::vector<v1::Request>& requests);
Call teardown();

}  // namespace mezzo::client::calls
