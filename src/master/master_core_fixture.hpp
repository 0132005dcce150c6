// MasterCoreTest: a MasterCore driven directly with a manual clock, and
// helpers to register agents, subscribe frameworks, launch tasks and collect
// the effects the core asks for. Shared by the master core unit tests.
//
// Thread-safety: test code, one thread.
#pragma once

#include <gtest/gtest.h>

#include "master/master_core.hpp"

namespace mezzo::master {

using v1::scheduler::Call;
using v1::scheduler::Event;

inline TimePoint at(double seconds) {
  return TimePoint(std::chrono::seconds(1'700'000'000)) + secondsToDuration(seconds);
}

class MasterCoreTest : public ::testing::Test {
 protected:
  MasterCoreTest() { core_ = std::make_unique<MasterCore>(baseOptions(), at(0)); }

  static MasterOptions baseOptions() {
    MasterOptions options;
    options.masterInfo.set_id("M");
    options.masterInfo.set_ip(0);
    options.masterInfo.set_port(5050);
    options.masterInfo.set_hostname("localhost");
    return options;
  }

  AgentId registerAgent(const std::string& resources, const std::string& stream = "agent-stream") {
    internal::AgentCall call;
    call.set_protocol_version(internal::PROTOCOL_VERSION_CURRENT);
    call.set_type(internal::AgentCall::REGISTER);
    auto* info = call.mutable_register_()->mutable_agent_info();
    info->set_hostname("host1");
    Resources::parse(resources)->toProto(info->mutable_resources());
    auto id = core_->registerAgent(call, stream, now_);
    EXPECT_TRUE(id.isOk()) << id.error();
    completePersists();
    return *id;
  }

  FrameworkId subscribe(const std::string& stream, double failoverTimeout = 0,
                        std::optional<FrameworkId> id = std::nullopt, bool partitionAware = false,
                        const std::string& role = "*") {
    Call call;
    call.set_type(Call::SUBSCRIBE);
    auto* info = call.mutable_subscribe()->mutable_framework_info();
    info->set_role(role);
    info->set_user("tester");
    info->set_name("test-framework");
    info->set_failover_timeout(failoverTimeout);
    if (partitionAware) info->add_capabilities()->set_type(v1::FrameworkInfo::Capability::PARTITION_AWARE);
    if (id) {
      call.mutable_framework_id()->set_value(id->value());
      info->mutable_id()->set_value(id->value());
    }
    auto result = core_->subscribe(call, stream, now_);
    EXPECT_TRUE(result.isOk()) << result.error();
    return *result;
  }

  // Framework events queued since the last drain, by stream.
  std::vector<Event> drainEvents(const std::string& stream) {
    collect();
    std::vector<Event> out;
    std::erase_if(frameworkEvents_, [&](const SendFrameworkEvent& sent) {
      if (sent.streamId != stream) return false;
      out.push_back(sent.event);
      return true;
    });
    return out;
  }

  std::vector<internal::AgentEvent> drainAgentEvents() {
    collect();
    std::vector<internal::AgentEvent> out;
    for (auto& sent : agentEvents_) out.push_back(sent.event);
    agentEvents_.clear();
    return out;
  }

  // Acknowledges every registry write asked for so far, as the registrar would.
  void completePersists() {
    collect();
    auto pending = std::exchange(persists_, {});
    for (uint64_t ticket : pending) core_->registryOperationDone(ticket, Status::ok(), now_);
    collect();
  }

  void collect() {
    for (Effect& effect : core_->takeEffects()) {
      if (auto* p = std::get_if<PersistRegistry>(&effect)) {
        persists_.push_back(p->ticket);
        persistOperations_.push_back(p->operation);
      }
      if (auto* f = std::get_if<SendFrameworkEvent>(&effect)) frameworkEvents_.push_back(*f);
      if (auto* a = std::get_if<SendAgentEvent>(&effect)) agentEvents_.push_back(*a);
      if (auto* c = std::get_if<CloseStream>(&effect)) closed_.push_back(c->streamId);
    }
  }

  v1::Offer firstOffer(const std::string& stream) {
    core_->allocate(now_);
    for (const Event& event : drainEvents(stream)) {
      if (event.type() == Event::OFFERS && event.offers().offers_size() > 0) return event.offers().offers(0);
    }
    ADD_FAILURE() << "no offer";
    return {};
  }

  Call acceptCall(const FrameworkId& framework, const v1::Offer& offer, const std::vector<v1::TaskInfo>& tasks) {
    Call call;
    call.set_type(Call::ACCEPT);
    call.mutable_framework_id()->set_value(framework.value());
    *call.mutable_accept()->add_offer_ids() = offer.id();
    auto* operation = call.mutable_accept()->add_operations();
    operation->set_type(v1::Offer::Operation::LAUNCH);
    for (const auto& task : tasks) *operation->mutable_launch()->add_task_infos() = task;
    return call;
  }

  v1::TaskInfo task(const std::string& id, const v1::Offer& offer, const std::string& resources) {
    v1::TaskInfo info;
    info.set_name(id);
    info.mutable_task_id()->set_value(id);
    *info.mutable_agent_id() = offer.agent_id();
    info.mutable_command()->set_value("true");
    Resources::parse(resources)->toProto(info.mutable_resources());
    return info;
  }

  std::vector<v1::TaskStatus> updates(const std::vector<Event>& events) {
    std::vector<v1::TaskStatus> out;
    for (const Event& event : events) {
      if (event.type() == Event::UPDATE) out.push_back(event.update().status());
    }
    return out;
  }

  std::unique_ptr<MasterCore> core_;
  TimePoint now_ = at(0);
  std::vector<SendFrameworkEvent> frameworkEvents_;
  std::vector<SendAgentEvent> agentEvents_;
  std::vector<std::string> closed_;
  std::vector<uint64_t> persists_;                              // not yet completed
  std::vector<internal::RegistryOperation> persistOperations_;  // every write asked for
};

}  // namespace mezzo::master
