#include "harness/task_updates.hpp"

#include <gtest/gtest.h>

#include "mezzo/common/resources.hpp"

namespace mezzo::testing {

Seen collectUpdates(SchedulerSession& session, const std::function<bool(const Seen&)>& done,
                    std::chrono::milliseconds timeout, Seen seen) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done(seen) && std::chrono::steady_clock::now() < deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    auto event = session.waitForType(Event::UPDATE, left);
    if (!event) break;
    const v1::TaskStatus& status = event->update().status();
    seen[status.task_id().value()].push_back(status);
    if (status.has_uuid()) {
      EXPECT_TRUE(session.acknowledge(status));
    }
  }
  return seen;
}

bool allIn(const Seen& seen, const std::vector<std::string>& ids, const std::function<bool(v1::TaskState)>& pred) {
  for (const std::string& id : ids) {
    auto it = seen.find(id);
    if (it == seen.end() || it->second.empty() || !pred(it->second.back().state())) return false;
  }
  return true;
}

v1::ExecutorInfo defaultExecutor(const std::string& id, const v1::Offer& offer) {
  v1::ExecutorInfo executor;
  executor.set_type(v1::ExecutorInfo::DEFAULT);
  executor.mutable_executor_id()->set_value(id);
  Resources resources = *Resources::parse("cpus:0.1;mem:32");
  if (offer.has_allocation_info()) resources = resources.withAllocationRole(offer.allocation_info().role());
  resources.toProto(executor.mutable_resources());
  return executor;
}

Call launchGroupCall(const v1::Offer& offer, const v1::ExecutorInfo& executor, const std::vector<v1::TaskInfo>& tasks) {
  Call call;
  call.set_type(Call::ACCEPT);
  *call.mutable_accept()->add_offer_ids() = offer.id();
  auto* operation = call.mutable_accept()->add_operations();
  operation->set_type(v1::Offer::Operation::LAUNCH_GROUP);
  *operation->mutable_launch_group()->mutable_executor() = executor;
  for (const auto& task : tasks) *operation->mutable_launch_group()->mutable_task_group()->add_tasks() = task;
  call.mutable_accept()->mutable_filters()->set_refuse_seconds(0);
  return call;
}

}  // namespace mezzo::testing
