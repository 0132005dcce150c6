// Maintenance on MasterCore with a manual clock: a schedule applies only
// once durable; offers of agents on DRAINING machines carry the
// unavailability; frameworks with tasks there get inverse offers, whose
// answers are the maintenance status and filter new ones until
// refuse_seconds pass; START_MAINTENANCE removes the machines' agents
// (tasks TASK_GONE_BY_OPERATOR / TASK_LOST, agent SHUTDOWN) and refuses
// their registration until STOP_MAINTENANCE.
#include "master/agent_lifecycle_fixture.hpp"

namespace mezzo::master {
namespace {

class MaintenanceTest : public AgentLifecycleTest {
 protected:
  static v1::MachineID machine(const std::string& hostname) {
    v1::MachineID id;
    id.set_hostname(hostname);
    return id;
  }

  static google::protobuf::RepeatedPtrField<v1::MachineID> machines(const std::string& hostname) {
    google::protobuf::RepeatedPtrField<v1::MachineID> ids;
    *ids.Add() = machine(hostname);
    return ids;
  }

  v1::maintenance::Schedule scheduleFor(const std::string& hostname) {
    v1::maintenance::Schedule schedule;
    auto* window = schedule.add_windows();
    *window->add_machine_ids() = machine(hostname);
    window->mutable_unavailability()->mutable_start()->set_nanoseconds(at(3600).time_since_epoch().count());
    window->mutable_unavailability()->mutable_duration()->set_nanoseconds(7200'000'000'000);
    return schedule;
  }

  void applied(const Result<uint64_t>& ticket) {
    ASSERT_TRUE(ticket.isOk()) << ticket.error();
    completePersists();
  }

  AgentId registerOn(const std::string& hostname, const std::string& stream, Status* refused = nullptr) {
    internal::AgentCall call;
    call.set_protocol_version(internal::PROTOCOL_VERSION_CURRENT);
    call.set_type(internal::AgentCall::REGISTER);
    call.mutable_register_()->mutable_agent_info()->set_hostname(hostname);
    call.mutable_register_()->set_ip("10.0.0.9");
    Resources::parse("cpus:2;mem:512")->toProto(call.mutable_register_()->mutable_agent_info()->mutable_resources());
    auto id = core_->registerAgent(call, stream, now_);
    if (!id) {
      if (refused != nullptr) *refused = id.status();
      return AgentId("");
    }
    completePersists();
    return *id;
  }

  static std::vector<v1::InverseOffer> inverseOffers(const std::vector<Event>& events) {
    std::vector<v1::InverseOffer> out;
    for (const Event& event : events) {
      if (event.type() != Event::INVERSE_OFFERS) continue;
      for (const auto& offer : event.inverse_offers().inverse_offers()) out.push_back(offer);
    }
    return out;
  }

  Call answerCall(const FrameworkId& framework, const v1::InverseOffer& offer, bool accept,
                  std::optional<double> refuseSeconds = std::nullopt) {
    Call call;
    call.set_type(accept ? Call::ACCEPT_INVERSE_OFFERS : Call::DECLINE_INVERSE_OFFERS);
    call.mutable_framework_id()->set_value(framework.value());
    auto fill = [&](auto* answer) {
      *answer->add_inverse_offer_ids() = offer.id();
      if (refuseSeconds) answer->mutable_filters()->set_refuse_seconds(*refuseSeconds);
    };
    if (accept) {
      fill(call.mutable_accept_inverse_offers());
    } else {
      fill(call.mutable_decline_inverse_offers());
    }
    return call;
  }

  // Two frameworks with a task each on host1, which is scheduled; returns
  // the inverse offers "pa" got (the "np" stream is left as it is).
  std::vector<v1::InverseOffer> startDrainingHost1() {
    startTwoFrameworks();
    applied(core_->updateMaintenanceSchedule(scheduleFor("host1"), now_));
    core_->allocate(now_);
    collect();
    return inverseOffers(drainEvents("pa"));
  }

  // The statuses of draining machine host1, by framework.
  std::map<std::string, v1::allocator::InverseOfferStatus::Status> statuses() {
    std::map<std::string, v1::allocator::InverseOfferStatus::Status> out;
    const v1::maintenance::ClusterStatus status = core_->maintenanceStatus();
    for (const auto& machine : status.draining_machines()) {
      if (machine.id().hostname() != "host1") continue;
      for (const auto& entry : machine.statuses()) out[entry.framework_id().value()] = entry.status();
    }
    return out;
  }
};

TEST_F(MaintenanceTest, DrainingAgentsOffersCarryUnavailabilityAndUsersGetInverseOffers) {
  startTwoFrameworks();
  AgentId other = registerOn("host2", "other-stream");
  now_ = at(10);
  auto ticket = core_->updateMaintenanceSchedule(scheduleFor("HOST1"), now_);
  ASSERT_TRUE(ticket.isOk()) << ticket.error();
  collect();
  ASSERT_FALSE(persistOperations_.empty());
  EXPECT_TRUE(persistOperations_.back().has_update_maintenance_schedule());
  core_->allocate(now_);
  collect();
  EXPECT_TRUE(inverseOffers(drainEvents("pa")).empty()) << "nothing changes before the write is durable";
  EXPECT_TRUE(core_->maintenanceStatus().draining_machines().empty());

  completePersists();
  core_->allocate(now_);
  collect();
  auto paEvents = drainEvents("pa");
  auto npEvents = drainEvents("np");
  auto paInverse = inverseOffers(paEvents);
  auto npInverse = inverseOffers(npEvents);
  ASSERT_EQ(paInverse.size(), 1u);
  ASSERT_EQ(npInverse.size(), 1u);
  EXPECT_EQ(paInverse[0].agent_id().value(), agent_.value());
  EXPECT_EQ(paInverse[0].framework_id().value(), pa_.value());
  EXPECT_EQ(paInverse[0].unavailability().start().nanoseconds(), at(3600).time_since_epoch().count());
  EXPECT_EQ(paInverse[0].unavailability().duration().nanoseconds(), 7200'000'000'000);
  EXPECT_TRUE(paInverse[0].resources().empty()) << "all of the agent";

  // Offers: host1's carry the unavailability, host2's do not.
  size_t drainingOffers = 0;
  size_t normalOffers = 0;
  for (const auto& [id, offer] : core_->offers()) {
    if (offer.agent == agent_) {
      ++drainingOffers;
      EXPECT_EQ(offer.offer.unavailability().start().nanoseconds(), at(3600).time_since_epoch().count());
    } else {
      ++normalOffers;
      EXPECT_EQ(offer.agent, other);
      EXPECT_FALSE(offer.offer.has_unavailability());
    }
  }
  EXPECT_GT(drainingOffers, 0u);
  EXPECT_GT(normalOffers, 0u);

  auto answers = statuses();
  EXPECT_EQ(answers[pa_.value()], v1::allocator::InverseOfferStatus::UNKNOWN);
  EXPECT_EQ(answers[np_.value()], v1::allocator::InverseOfferStatus::UNKNOWN);
  EXPECT_EQ(core_->maintenanceStatus().draining_machines(0).id().hostname(), "host1");

  // One outstanding inverse offer per framework and agent.
  now_ = at(20);
  core_->allocate(now_);
  collect();
  EXPECT_TRUE(inverseOffers(drainEvents("pa")).empty());
}

TEST_F(MaintenanceTest, AnswersAreTheStatusAndFilterNewInverseOffers) {
  startTwoFrameworks();
  applied(core_->updateMaintenanceSchedule(scheduleFor("host1"), now_));
  core_->allocate(now_);
  collect();
  auto paInverse = inverseOffers(drainEvents("pa"));
  auto npInverse = inverseOffers(drainEvents("np"));
  ASSERT_EQ(paInverse.size(), 1u);
  ASSERT_EQ(npInverse.size(), 1u);

  now_ = at(1);
  ASSERT_TRUE(core_->handleCall(answerCall(pa_, paInverse[0], /*accept=*/true), "pa", now_));
  ASSERT_TRUE(core_->handleCall(answerCall(np_, npInverse[0], /*accept=*/false, 60), "np", now_));
  auto answers = statuses();
  EXPECT_EQ(answers[pa_.value()], v1::allocator::InverseOfferStatus::ACCEPT);
  EXPECT_EQ(answers[np_.value()], v1::allocator::InverseOfferStatus::DECLINE);
  EXPECT_TRUE(core_->inverseOffers().empty());
  // Answering again (an unknown inverse offer now) is ignored.
  ASSERT_TRUE(core_->handleCall(answerCall(np_, npInverse[0], /*accept=*/true), "np", now_));
  EXPECT_EQ(statuses()[np_.value()], v1::allocator::InverseOfferStatus::DECLINE);

  now_ = at(4);  // within both filters
  core_->allocate(now_);
  collect();
  EXPECT_TRUE(inverseOffers(drainEvents("pa")).empty());
  EXPECT_TRUE(inverseOffers(drainEvents("np")).empty());
  now_ = at(7);  // past the default 5 s of pa's answer, not np's 60 s
  core_->allocate(now_);
  collect();
  EXPECT_EQ(inverseOffers(drainEvents("pa")).size(), 1u);
  EXPECT_TRUE(inverseOffers(drainEvents("np")).empty());
  now_ = at(62);
  core_->allocate(now_);
  collect();
  EXPECT_EQ(inverseOffers(drainEvents("np")).size(), 1u);
}

TEST_F(MaintenanceTest, AddingAnotherMachineLeavesThisOneAlone) {
  auto paInverse = startDrainingHost1();
  ASSERT_EQ(paInverse.size(), 1u);
  ASSERT_TRUE(core_->handleCall(answerCall(pa_, paInverse[0], /*accept=*/true, 3600), "pa", now_));
  drainEvents("np");

  v1::maintenance::Schedule bigger = scheduleFor("host1");
  *bigger.mutable_windows(0)->add_machine_ids() = machine("host9");
  applied(core_->updateMaintenanceSchedule(bigger, now_));
  for (const Event& event : drainEvents("np")) {
    EXPECT_NE(event.type(), Event::RESCIND_INVERSE_OFFER) << "same machine, same window: nothing to take back";
  }
  EXPECT_EQ(statuses()[pa_.value()], v1::allocator::InverseOfferStatus::ACCEPT) << "the answer still stands";

  // A new window for host1 is a new question.
  v1::maintenance::Schedule moved = bigger;
  moved.mutable_windows(0)->mutable_unavailability()->mutable_start()->set_nanoseconds(at(7200).time_since_epoch().count());
  applied(core_->updateMaintenanceSchedule(moved, now_));
  bool rescinded = false;
  for (const Event& event : drainEvents("np")) rescinded |= event.type() == Event::RESCIND_INVERSE_OFFER;
  EXPECT_TRUE(rescinded);
  auto status = core_->maintenanceStatus();
  ASSERT_EQ(status.draining_machines_size(), 2);
  for (const auto& machine : status.draining_machines()) EXPECT_TRUE(machine.statuses().empty());
}

TEST_F(MaintenanceTest, LeavingTheScheduleRescindsInverseOffers) {
  auto paInverse = startDrainingHost1();
  ASSERT_EQ(paInverse.size(), 1u);
  applied(core_->updateMaintenanceSchedule(v1::maintenance::Schedule(), now_));
  bool rescinded = false;
  for (const Event& event : drainEvents("pa")) {
    if (event.type() == Event::RESCIND_INVERSE_OFFER) {
      rescinded = event.rescind_inverse_offer().inverse_offer_id().value() == paInverse[0].id().value();
    }
  }
  EXPECT_TRUE(rescinded);
  EXPECT_TRUE(core_->inverseOffers().empty());
  EXPECT_TRUE(core_->maintenanceStatus().draining_machines().empty());
  core_->allocate(at(10));
  collect();
  for (const auto& [id, offer] : core_->offers()) EXPECT_FALSE(offer.offer.has_unavailability());
}

TEST_F(MaintenanceTest, MachineDownRemovesItsAgentsUntilItIsUpAgain) {
  startTwoFrameworks();
  AgentId other = registerOn("host2", "other-stream");
  EXPECT_FALSE(core_->startMaintenance(machines("host1"), now_).isOk()) << "not scheduled yet";
  applied(core_->updateMaintenanceSchedule(scheduleFor("host1"), now_));
  EXPECT_FALSE(core_->stopMaintenance(machines("host1"), now_).isOk()) << "DRAINING, not DOWN";
  drainEvents("pa");
  drainEvents("np");
  drainAgentEvents();

  auto ticket = core_->startMaintenance(machines("host1"), now_);
  ASSERT_TRUE(ticket.isOk()) << ticket.error();
  collect();
  const auto& write = persistOperations_.back();
  ASSERT_TRUE(write.has_start_maintenance());
  ASSERT_EQ(write.start_maintenance().removed_agents_size(), 1);
  EXPECT_EQ(write.start_maintenance().removed_agents(0).value(), agent_.value());
  EXPECT_EQ(core_->agents().size(), 2u) << "nothing happens before the write is durable";

  completePersists();
  EXPECT_FALSE(core_->agents().contains(agent_));
  EXPECT_TRUE(core_->agents().contains(other));
  EXPECT_FALSE(core_->registry().admitted().contains(agent_));
  auto pa = updates(drainEvents("pa"));
  auto np = updates(drainEvents("np"));
  ASSERT_EQ(pa.size(), 1u);
  EXPECT_EQ(pa[0].state(), v1::TASK_GONE_BY_OPERATOR);
  EXPECT_EQ(pa[0].reason(), v1::TaskStatus::REASON_AGENT_REMOVED_BY_OPERATOR);
  EXPECT_EQ(pa[0].message(), "Operator initiated 'Machine DOWN'");
  ASSERT_EQ(np.size(), 1u);
  EXPECT_EQ(np[0].state(), v1::TASK_LOST);
  bool shutdown = false;
  for (const auto& event : drainAgentEvents()) {
    if (event.type() == internal::AgentEvent::SHUTDOWN) {
      shutdown = event.shutdown().message() == "Operator initiated 'Machine DOWN'";
    }
  }
  EXPECT_TRUE(shutdown);
  auto status = core_->maintenanceStatus();
  ASSERT_EQ(status.down_machines_size(), 1);
  EXPECT_EQ(status.down_machines(0).hostname(), "host1");
  EXPECT_TRUE(status.draining_machines().empty());

  Status refused;
  EXPECT_TRUE(registerOn("host1", "again", &refused).value().empty());
  EXPECT_EQ(refused.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(refused.message().find("DOWN"), std::string::npos) << refused.message();

  applied(core_->stopMaintenance(machines("host1"), now_));
  EXPECT_TRUE(core_->registry().machines().empty());
  EXPECT_TRUE(core_->registry().schedule().windows().empty());
  EXPECT_FALSE(registerOn("host1", "again").value().empty()) << "UP again: a new agent registers";
}

TEST_F(MaintenanceTest, RefusedCallsWriteNothing) {
  startTwoFrameworks();
  v1::maintenance::Schedule bad = scheduleFor("host1");
  bad.mutable_windows(0)->clear_machine_ids();
  EXPECT_EQ(core_->updateMaintenanceSchedule(bad, now_).status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(core_->startMaintenance({}, now_).isOk());
  collect();
  EXPECT_TRUE(persistOperations_.empty() || !persistOperations_.back().has_update_maintenance_schedule());
  EXPECT_TRUE(core_->registry().machines().empty());
}

}  // namespace
}  // namespace mezzo::master
