// Translations from the wire to the allocator's inputs: a framework's
// FrameworkSpec (roles, suppressed roles, REVOCABLE_RESOURCES, per-role
// minimum offer sizes from FrameworkInfo.offer_filters, per-role offer
// constraints from SUBSCRIBE) and what the allocator knows of an agent
// (hostname and attributes, for offer constraints). Validation errors are
// kInvalidArgument with a message for the 400 answer.
//
// Thread-safety: pure functions.
#pragma once

#include <set>
#include <string>

#include "alloc/allocator.hpp"
#include "mezzo/common/status.hpp"
#include "mezzo/v1/scheduler/scheduler.pb.h"

namespace mezzo::master {

// `constraints` may be null (none given).
Result<alloc::FrameworkSpec> frameworkSpecFor(const v1::FrameworkInfo& info, const std::set<std::string>& roles,
                                              const std::set<std::string>& suppressed,
                                              const v1::scheduler::OfferConstraints* constraints);

alloc::AgentInfoForAllocation agentInfoForAllocation(const v1::AgentInfo& info);

}  // namespace mezzo::master
