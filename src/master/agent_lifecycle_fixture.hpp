// AgentLifecycleTest: MasterCoreTest plus helpers for the life of agents
// (pings and pongs, status updates, re-registration with tasks, two
// frameworks, one PARTITION_AWARE, with a running task each). Shared by the
// agent health and agent removal unit tests.
//
// Thread-safety: test code, one thread.
#pragma once

#include <algorithm>

#include "master/master_core_fixture.hpp"

namespace mezzo::master {

class AgentLifecycleTest : public MasterCoreTest {
 protected:
  internal::AgentCall agentCall(internal::AgentCall::Type type, const AgentId& agent) {
    internal::AgentCall call;
    call.set_type(type);
    call.mutable_agent_id()->set_value(agent.value());
    return call;
  }

  void pong(const AgentId& agent, const std::string& stream = "agent-stream") {
    ASSERT_TRUE(core_->handleAgentCall(agentCall(internal::AgentCall::PONG, agent), stream, now_));
  }

  void tickAt(double seconds) {
    now_ = at(seconds);
    core_->tick(now_);
    collect();
  }

  size_t pings() {
    size_t count = 0;
    for (const auto& event : drainAgentEvents()) count += event.type() == internal::AgentEvent::PING;
    return count;
  }

  void sendStatus(const AgentId& agent, const FrameworkId& framework, const std::string& task, v1::TaskState state) {
    internal::AgentCall update = agentCall(internal::AgentCall::STATUS_UPDATE, agent);
    update.mutable_status_update()->mutable_framework_id()->set_value(framework.value());
    auto* status = update.mutable_status_update()->mutable_status();
    status->mutable_task_id()->set_value(task);
    status->set_state(state);
    status->set_source(v1::TaskStatus::SOURCE_EXECUTOR);
    status->set_uuid(std::string(16, static_cast<char>('a' + state)));
    ASSERT_TRUE(core_->handleAgentCall(update, "agent-stream", now_));
  }

  // One agent running task "pa-1" of a PARTITION_AWARE framework (stream
  // "pa") and "np-1" of one that is not (stream "np"), both TASK_RUNNING.
  void startTwoFrameworks() {
    agent_ = registerAgent("cpus:4;mem:1024");
    pa_ = subscribe("pa", 3600, std::nullopt, /*partitionAware=*/true);
    launchOne(pa_, "pa");
    np_ = subscribe("np", 3600);
    launchOne(np_, "np");
    drainEvents("pa");
    drainEvents("np");
    drainAgentEvents();
  }

  void launchOne(const FrameworkId& framework, const char* stream) {
    v1::Offer offer = firstOffer(stream);
    std::string taskId = std::string(stream) + "-1";
    ASSERT_TRUE(core_->handleCall(acceptCall(framework, offer, {task(taskId, offer, "cpus:1;mem:128")}), stream, now_));
    sendStatus(agent_, framework, taskId, v1::TASK_RUNNING);
  }

  // Ticks every ping interval without answering until the agent is marked.
  void stopAnswering() {
    for (double t = 15; t <= 90; t += 15) tickAt(t);
  }

  internal::AgentCall reregisterCall(const AgentId& agent,
                                     const std::vector<std::pair<FrameworkId, std::string>>& tasks) {
    internal::AgentCall call;
    call.set_protocol_version(internal::PROTOCOL_VERSION_CURRENT);
    call.set_type(internal::AgentCall::REGISTER);
    call.mutable_agent_id()->set_value(agent.value());
    auto* reg = call.mutable_register_();
    reg->mutable_agent_info()->set_hostname("host1");
    reg->mutable_agent_info()->mutable_id()->set_value(agent.value());
    Resources::parse("cpus:4;mem:1024")->toProto(reg->mutable_agent_info()->mutable_resources());
    for (const auto& [framework, taskId] : tasks) {
      *reg->add_frameworks() = core_->frameworks().at(framework)->info;
      v1::Task* task = reg->add_tasks();
      task->set_name(taskId);
      task->mutable_task_id()->set_value(taskId);
      task->mutable_framework_id()->set_value(framework.value());
      task->mutable_agent_id()->set_value(agent.value());
      task->set_state(v1::TASK_RUNNING);
      Resources::parse("cpus:1;mem:128")->withAllocationRole("*").toProto(task->mutable_resources());
    }
    return call;
  }

  Call reconcileCall(const FrameworkId& framework, const std::string& task, std::optional<AgentId> agent) {
    Call call;
    call.set_type(Call::RECONCILE);
    call.mutable_framework_id()->set_value(framework.value());
    auto* entry = call.mutable_reconcile()->add_tasks();
    entry->mutable_task_id()->set_value(task);
    if (agent) entry->mutable_agent_id()->set_value(agent->value());
    return call;
  }

  // Framework events other than heartbeats.
  std::vector<Event> drainNews(const std::string& stream) {
    auto events = drainEvents(stream);
    std::erase_if(events, [](const Event& event) { return event.type() == Event::HEARTBEAT; });
    return events;
  }

  size_t unreachableWrites() {
    return std::count_if(persistOperations_.begin(), persistOperations_.end(),
                         [](const auto& op) { return op.has_mark_agent_unreachable(); });
  }

  bool persistsMarkUnreachable(const AgentId& agent) {
    return std::any_of(persistOperations_.begin(), persistOperations_.end(), [&](const auto& op) {
      return op.has_mark_agent_unreachable() && op.mark_agent_unreachable().agent_id().value() == agent.value();
    });
  }

  AgentId agent_;
  FrameworkId pa_;
  FrameworkId np_;
};

}  // namespace mezzo::master
