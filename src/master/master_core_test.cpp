// MasterCore driven directly with a manual clock: the scheduler and agent
// protocols without sockets. Daemon-level behaviour over HTTP is in tests/.
#include "master/master_core_fixture.hpp"

#include <set>

namespace mezzo::master {
namespace {

TEST_F(MasterCoreTest, SubscribeSendsSubscribedWithMesosShapedId) {
  FrameworkId id = subscribe("s1");
  EXPECT_EQ(id.value(), "M-0000");
  auto events = drainEvents("s1");
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events[0].type(), Event::SUBSCRIBED);
  EXPECT_EQ(events[0].subscribed().framework_id().value(), "M-0000");
  EXPECT_EQ(events[0].subscribed().heartbeat_interval_seconds(), 15);
}

TEST_F(MasterCoreTest, LaunchesTaskAndForwardsUpdatesUntilAcknowledged) {
  registerAgent("cpus:2;mem:1024");
  FrameworkId framework = subscribe("s1");
  v1::Offer offer = firstOffer("s1");
  EXPECT_EQ(offer.hostname(), "host1");
  drainAgentEvents();
  ASSERT_TRUE(core_->handleCall(acceptCall(framework, offer, {task("t1", offer, "cpus:1;mem:128")}), "s1", now_));
  auto agentEvents = drainAgentEvents();
  ASSERT_EQ(agentEvents.size(), 1u);
  EXPECT_EQ(agentEvents[0].type(), internal::AgentEvent::RUN_TASK);
  EXPECT_EQ(agentEvents[0].run_task().task().task_id().value(), "t1");
  for (const auto& resource : agentEvents[0].run_task().task().resources()) {
    EXPECT_EQ(resource.allocation_info().role(), "*") << "the master adds the offer's role";
  }

  // The agent reports TASK_FINISHED with a uuid: forwarded, resources freed.
  internal::AgentCall update;
  update.set_type(internal::AgentCall::STATUS_UPDATE);
  *update.mutable_agent_id() = offer.agent_id();
  update.mutable_status_update()->mutable_framework_id()->set_value(framework.value());
  auto* status = update.mutable_status_update()->mutable_status();
  status->mutable_task_id()->set_value("t1");
  status->set_state(v1::TASK_FINISHED);
  status->set_uuid(std::string(16, 'u'));
  ASSERT_TRUE(core_->handleAgentCall(update, "agent-stream", now_));
  auto forwarded = updates(drainEvents("s1"));
  ASSERT_EQ(forwarded.size(), 1u);
  EXPECT_EQ(forwarded[0].state(), v1::TASK_FINISHED);
  EXPECT_EQ(forwarded[0].uuid(), std::string(16, 'u'));
  EXPECT_DOUBLE_EQ(core_->allocator().allocated(AgentId(offer.agent_id().value())).cpus(), 0);

  Call ack;
  ack.set_type(Call::ACKNOWLEDGE);
  ack.mutable_framework_id()->set_value(framework.value());
  *ack.mutable_acknowledge()->mutable_agent_id() = offer.agent_id();
  ack.mutable_acknowledge()->mutable_task_id()->set_value("t1");
  ack.mutable_acknowledge()->set_uuid(std::string(16, 'u'));
  ASSERT_TRUE(core_->handleCall(ack, "s1", now_));
  agentEvents = drainAgentEvents();
  ASSERT_EQ(agentEvents.size(), 1u);
  EXPECT_EQ(agentEvents[0].type(), internal::AgentEvent::ACKNOWLEDGE_UPDATE);
  EXPECT_TRUE(core_->frameworks().at(framework)->tasks.empty());
  EXPECT_EQ(core_->frameworks().at(framework)->completedTasks.size(), 1u);
}

// A BATCH applies its calls in order, each as if alone: updates of two
// tasks are forwarded in order; a call that cannot be batched (REGISTER) or
// names another agent is refused by name while the others still apply.
TEST_F(MasterCoreTest, BatchedAgentCallsApplyInOrderAndRefusalsAreNamed) {
  registerAgent("cpus:2;mem:1024");
  FrameworkId framework = subscribe("s1");
  v1::Offer offer = firstOffer("s1");
  drainAgentEvents();
  ASSERT_TRUE(core_->handleCall(
      acceptCall(framework, offer, {task("t1", offer, "cpus:0.5;mem:128"), task("t2", offer, "cpus:0.5;mem:128")}),
      "s1", now_));
  drainAgentEvents();
  auto statusUpdate = [&](const std::string& taskId, v1::TaskState state, char uuid) {
    internal::AgentCall update;
    update.set_type(internal::AgentCall::STATUS_UPDATE);
    *update.mutable_agent_id() = offer.agent_id();
    update.mutable_status_update()->mutable_framework_id()->set_value(framework.value());
    auto* status = update.mutable_status_update()->mutable_status();
    status->mutable_task_id()->set_value(taskId);
    status->set_state(state);
    status->set_uuid(std::string(16, uuid));
    return update;
  };
  internal::AgentCall batch;
  batch.set_type(internal::AgentCall::BATCH);
  *batch.mutable_agent_id() = offer.agent_id();
  *batch.add_calls() = statusUpdate("t1", v1::TASK_RUNNING, 'a');
  *batch.add_calls() = statusUpdate("t2", v1::TASK_RUNNING, 'b');
  ASSERT_TRUE(core_->handleAgentCall(batch, "agent-stream", now_));
  auto forwarded = updates(drainEvents("s1"));
  ASSERT_EQ(forwarded.size(), 2u);
  EXPECT_EQ(forwarded[0].task_id().value(), "t1");
  EXPECT_EQ(forwarded[1].task_id().value(), "t2");

  internal::AgentCall mixed;
  mixed.set_type(internal::AgentCall::BATCH);
  *mixed.mutable_agent_id() = offer.agent_id();
  mixed.add_calls()->set_type(internal::AgentCall::REGISTER);
  internal::AgentCall stranger = statusUpdate("t1", v1::TASK_FINISHED, 'c');
  stranger.mutable_agent_id()->set_value("another-agent");
  *mixed.add_calls() = stranger;
  *mixed.add_calls() = statusUpdate("t2", v1::TASK_FINISHED, 'd');
  Status refused = core_->handleAgentCall(mixed, "agent-stream", now_);
  EXPECT_FALSE(refused);
  EXPECT_NE(refused.message().find("REGISTER: cannot be batched"), std::string::npos) << refused.message();
  EXPECT_NE(refused.message().find("differs from the batch"), std::string::npos) << refused.message();
  forwarded = updates(drainEvents("s1"));
  ASSERT_EQ(forwarded.size(), 1u);
  EXPECT_EQ(forwarded[0].task_id().value(), "t2");
  EXPECT_EQ(forwarded[0].state(), v1::TASK_FINISHED);
}

TEST_F(MasterCoreTest, InvalidTasksGetTaskErrorAndOthersStillLaunch) {
  registerAgent("cpus:2;mem:1024");
  FrameworkId framework = subscribe("s1");
  v1::Offer offer = firstOffer("s1");
  drainAgentEvents();
  ASSERT_TRUE(core_->handleCall(acceptCall(framework, offer,
                                           {task("ok", offer, "cpus:1;mem:128"), task("ok", offer, "cpus:0.5"),
                                            task("big", offer, "cpus:8"), task("a/b", offer, "cpus:0.1")}),
                                "s1", now_));
  auto statuses = updates(drainEvents("s1"));
  ASSERT_EQ(statuses.size(), 3u);
  for (const auto& status : statuses) {
    EXPECT_EQ(status.state(), v1::TASK_ERROR);
    EXPECT_EQ(status.reason(), v1::TaskStatus::REASON_TASK_INVALID);
    EXPECT_FALSE(status.has_uuid());
  }
  EXPECT_NE(statuses[0].message().find("duplicate"), std::string::npos);
  EXPECT_NE(statuses[1].message().find("more resources"), std::string::npos);
  EXPECT_EQ(drainAgentEvents().size(), 1u);
}

TEST_F(MasterCoreTest, ReusedOfferDropsTasks) {
  registerAgent("cpus:2;mem:1024");
  FrameworkId framework = subscribe("s1", 0, std::nullopt, /*partitionAware=*/true);
  v1::Offer offer = firstOffer("s1");
  ASSERT_TRUE(core_->handleCall(acceptCall(framework, offer, {task("t1", offer, "cpus:1")}), "s1", now_));
  drainEvents("s1");
  ASSERT_TRUE(core_->handleCall(acceptCall(framework, offer, {task("t2", offer, "cpus:1")}), "s1", now_));
  auto statuses = updates(drainEvents("s1"));
  ASSERT_EQ(statuses.size(), 1u);
  EXPECT_EQ(statuses[0].state(), v1::TASK_DROPPED);
  EXPECT_EQ(statuses[0].reason(), v1::TaskStatus::REASON_INVALID_OFFERS);
}

TEST_F(MasterCoreTest, CallsAreCheckedAgainstTheStream) {
  FrameworkId framework = subscribe("s1");
  Call revive;
  revive.set_type(Call::REVIVE);
  revive.mutable_framework_id()->set_value(framework.value());
  EXPECT_TRUE(core_->handleCall(revive, "s1", now_).isOk());
  EXPECT_EQ(core_->handleCall(revive, "other", now_).code(), StatusCode::kInvalidArgument);
  revive.mutable_framework_id()->set_value("nope");
  EXPECT_EQ(core_->handleCall(revive, "s1", now_).code(), StatusCode::kNotFound);
}

TEST_F(MasterCoreTest, FailoverWithinTimeoutKeepsTasks) {
  registerAgent("cpus:2;mem:1024");
  FrameworkId framework = subscribe("s1", /*failoverTimeout=*/10);
  v1::Offer offer = firstOffer("s1");
  ASSERT_TRUE(core_->handleCall(acceptCall(framework, offer, {task("t1", offer, "cpus:1")}), "s1", now_));
  core_->frameworkStreamClosed("s1", now_);
  now_ = at(5);
  core_->tick(now_);
  ASSERT_TRUE(core_->frameworks().contains(framework));
  EXPECT_FALSE(core_->frameworks().at(framework)->connected);
  subscribe("s2", 10, framework);
  now_ = at(30);
  core_->tick(now_);
  ASSERT_TRUE(core_->frameworks().contains(framework));
  EXPECT_EQ(core_->frameworks().at(framework)->tasks.size(), 1u);
}

TEST_F(MasterCoreTest, FailoverTimeoutRemovesFrameworkAndShutsItDownOnAgents) {
  registerAgent("cpus:2;mem:1024");
  FrameworkId framework = subscribe("s1", /*failoverTimeout=*/10);
  v1::Offer offer = firstOffer("s1");
  ASSERT_TRUE(core_->handleCall(acceptCall(framework, offer, {task("t1", offer, "cpus:1")}), "s1", now_));
  drainAgentEvents();
  core_->frameworkStreamClosed("s1", now_);
  now_ = at(11);
  core_->tick(now_);
  EXPECT_FALSE(core_->frameworks().contains(framework));
  auto agentEvents = drainAgentEvents();
  ASSERT_FALSE(agentEvents.empty());
  EXPECT_EQ(agentEvents.back().type(), internal::AgentEvent::SHUTDOWN_FRAMEWORK);
  EXPECT_DOUBLE_EQ(core_->allocator().allocated(AgentId(offer.agent_id().value())).cpus(), 0);

  // The id cannot come back.
  Call call;
  call.set_type(Call::SUBSCRIBE);
  call.mutable_framework_id()->set_value(framework.value());
  auto* info = call.mutable_subscribe()->mutable_framework_info();
  info->set_user("u");
  info->set_name("n");
  info->mutable_id()->set_value(framework.value());
  EXPECT_FALSE(core_->subscribe(call, "s3", now_).isOk());
}

TEST_F(MasterCoreTest, NewerSubscriptionSupersedesOlderStream) {
  FrameworkId framework = subscribe("s1", 100);
  drainEvents("s1");
  subscribe("s2", 100, framework);
  auto old = drainEvents("s1");
  ASSERT_EQ(old.size(), 1u);
  EXPECT_EQ(old[0].type(), Event::ERROR);
  EXPECT_EQ(closed_, std::vector<std::string>{"s1"});
}

TEST_F(MasterCoreTest, ReconciliationAnswersKnownAndUnknownTasks) {
  registerAgent("cpus:2;mem:1024");
  FrameworkId framework = subscribe("s1");
  v1::Offer offer = firstOffer("s1");
  ASSERT_TRUE(core_->handleCall(acceptCall(framework, offer, {task("t1", offer, "cpus:1")}), "s1", now_));
  drainEvents("s1");
  Call reconcile;
  reconcile.set_type(Call::RECONCILE);
  reconcile.mutable_framework_id()->set_value(framework.value());
  reconcile.mutable_reconcile();
  ASSERT_TRUE(core_->handleCall(reconcile, "s1", now_));
  auto implicit = updates(drainEvents("s1"));
  ASSERT_EQ(implicit.size(), 1u);
  EXPECT_EQ(implicit[0].state(), v1::TASK_STAGING);
  EXPECT_EQ(implicit[0].reason(), v1::TaskStatus::REASON_RECONCILIATION);
  EXPECT_EQ(implicit[0].source(), v1::TaskStatus::SOURCE_MASTER);

  reconcile.mutable_reconcile()->add_tasks()->mutable_task_id()->set_value("ghost");
  ASSERT_TRUE(core_->handleCall(reconcile, "s1", now_));
  auto explicitAnswer = updates(drainEvents("s1"));
  ASSERT_EQ(explicitAnswer.size(), 1u);
  EXPECT_EQ(explicitAnswer[0].state(), v1::TASK_LOST);  // not partition aware
}

TEST_F(MasterCoreTest, DeclineFiltersTheAgentForThatFramework) {
  registerAgent("cpus:2;mem:1024");
  FrameworkId framework = subscribe("s1");
  v1::Offer offer = firstOffer("s1");
  Call decline;
  decline.set_type(Call::DECLINE);
  decline.mutable_framework_id()->set_value(framework.value());
  *decline.mutable_decline()->add_offer_ids() = offer.id();
  decline.mutable_decline()->mutable_filters()->set_refuse_seconds(60);
  ASSERT_TRUE(core_->handleCall(decline, "s1", now_));
  now_ = at(30);
  core_->allocate(now_);
  EXPECT_TRUE(drainEvents("s1").empty());
  now_ = at(61);
  core_->allocate(now_);
  EXPECT_EQ(drainEvents("s1").size(), 1u);
}

TEST_F(MasterCoreTest, HeartbeatsEveryIntervalOnConnectedStreams) {
  subscribe("s1");
  drainEvents("s1");
  now_ = at(14.9);
  core_->tick(now_);
  EXPECT_TRUE(drainEvents("s1").empty());
  now_ = at(15);
  core_->tick(now_);
  auto events = drainEvents("s1");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type(), Event::HEARTBEAT);
  now_ = at(30);
  core_->tick(now_);
  EXPECT_EQ(drainEvents("s1").size(), 1u);
}

TEST_F(MasterCoreTest, OfferTimeoutRescindsAndReoffers) {
  MasterOptions options = core_->options();
  options.offerTimeout = std::chrono::seconds(10);
  core_ = std::make_unique<MasterCore>(options, at(0));
  registerAgent("cpus:2;mem:1024");
  subscribe("s1");
  v1::Offer offer = firstOffer("s1");
  now_ = at(9);
  core_->tick(now_);
  EXPECT_TRUE(drainEvents("s1").empty());
  now_ = at(10);
  core_->tick(now_);
  auto events = drainEvents("s1");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type(), Event::RESCIND);
  EXPECT_EQ(events[0].rescind().offer_id().value(), offer.id().value());
  EXPECT_TRUE(core_->offers().empty());
  EXPECT_TRUE(core_->allocationWanted());
  // The framework that let the offer time out is filtered from those
  // resources for the default refuse_seconds (5 s), then offered them again.
  core_->allocate(now_);
  EXPECT_TRUE(drainEvents("s1").empty());
  now_ = at(15);
  v1::Offer again = firstOffer("s1");
  EXPECT_NE(again.id().value(), offer.id().value());
}

TEST_F(MasterCoreTest, FrameworksThatLetOffersTimeOutDoNotStarveTheOthers) {
  // Many idle frameworks of equal (zero) share and one agent: every offer
  // times out. Ties used to go by name, so the same framework got the agent
  // every time; now each framework gets it in turn.
  // (Rounds of a second, so that the agent, which answers no pings here,
  // stays reachable throughout.)
  MasterOptions options = core_->options();
  options.offerTimeout = std::chrono::seconds(1);
  core_ = std::make_unique<MasterCore>(options, at(0));
  registerAgent("cpus:2;mem:1024");
  constexpr int kFrameworks = 20;
  for (int i = 0; i < kFrameworks; ++i) subscribe("s" + std::to_string(i));
  std::set<std::string> offered;
  for (int round = 0; round < kFrameworks; ++round) {
    now_ = at(round);
    core_->tick(now_);
    core_->allocate(now_);
    for (int i = 0; i < kFrameworks; ++i) {
      for (const Event& event : drainEvents("s" + std::to_string(i))) {
        if (event.type() == Event::OFFERS) offered.insert("s" + std::to_string(i));
      }
    }
  }
  EXPECT_EQ(offered.size(), static_cast<size_t>(kFrameworks));
}

TEST_F(MasterCoreTest, FrameworksRecoveredFromAgentsWaitForTheirScheduler) {
  // A master that lost its state learns a framework and its task from a
  // re-registering agent; the framework (failover_timeout 0) is kept until
  // its scheduler re-subscribes.
  internal::AgentCall call;
  call.set_protocol_version(internal::PROTOCOL_VERSION_CURRENT);
  call.set_type(internal::AgentCall::REGISTER);
  auto* reg = call.mutable_register_();
  reg->mutable_agent_info()->set_hostname("host1");
  reg->mutable_agent_info()->mutable_id()->set_value("old-S3");
  Resources::parse("cpus:2;mem:1024")->toProto(reg->mutable_agent_info()->mutable_resources());
  auto* info = reg->add_frameworks();
  info->set_user("u");
  info->set_name("survivor");
  info->mutable_id()->set_value("old-0007");
  auto* task = reg->add_tasks();
  task->set_name("t");
  task->mutable_task_id()->set_value("t");
  task->mutable_framework_id()->set_value("old-0007");
  task->mutable_agent_id()->set_value("old-S3");
  task->set_state(v1::TASK_RUNNING);
  Resources::parse("cpus:1")->withAllocationRole("*").toProto(task->mutable_resources());
  ASSERT_TRUE(core_->registerAgent(call, "agent-stream", now_).isOk());
  completePersists();
  now_ = at(1000);
  core_->tick(now_);
  ASSERT_TRUE(core_->frameworks().contains(FrameworkId("old-0007")));
  EXPECT_TRUE(core_->frameworks().at(FrameworkId("old-0007"))->recovered);
  EXPECT_DOUBLE_EQ(core_->allocator().allocated(AgentId("old-S3")).cpus(), 1);

  subscribe("s1", 0, FrameworkId("old-0007"));
  EXPECT_FALSE(core_->frameworks().at(FrameworkId("old-0007"))->recovered);
  EXPECT_EQ(core_->frameworks().at(FrameworkId("old-0007"))->tasks.size(), 1u);
}

TEST_F(MasterCoreTest, AgentIsAdmittedToTheRegistryBeforeItIsRegistered) {
  internal::AgentCall call;
  call.set_protocol_version(internal::PROTOCOL_VERSION_CURRENT);
  call.set_type(internal::AgentCall::REGISTER);
  call.mutable_register_()->mutable_agent_info()->set_hostname("host1");
  Resources::parse("cpus:1;mem:128")->toProto(call.mutable_register_()->mutable_agent_info()->mutable_resources());
  auto id = core_->registerAgent(call, "a-stream", now_);
  ASSERT_TRUE(id.isOk());
  collect();
  ASSERT_EQ(persists_.size(), 1u);
  EXPECT_TRUE(agentEvents_.empty()) << "REGISTERED must wait for the registry write";
  EXPECT_TRUE(core_->agents().empty());
  // A failed write disconnects the agent and admits nothing.
  core_->registryOperationDone(persists_[0], Status::ioError("disk full"), now_);
  persists_.clear();
  collect();
  EXPECT_EQ(closed_, std::vector<std::string>{"a-stream"});
  EXPECT_TRUE(core_->registry().admitted().empty());

  // The retry succeeds.
  ASSERT_TRUE(core_->registerAgent(call, "b-stream", now_).isOk());
  completePersists();
  auto events = drainAgentEvents();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type(), internal::AgentEvent::REGISTERED);
  EXPECT_EQ(core_->registry().admitted().size(), 1u);
  EXPECT_EQ(core_->agents().size(), 1u);
}

TEST_F(MasterCoreTest, RecoveredRegistryKnowsAgentsAndWeights) {
  store::RegistryState registry;
  v1::AgentInfo info;
  info.set_hostname("old-host");
  info.mutable_id()->set_value("M-S0");
  ASSERT_TRUE(registry.apply(store::admitAgent(info)));
  ASSERT_TRUE(registry.apply(store::updateWeights({{"eng", 3}})));
  core_ = std::make_unique<MasterCore>(core_->options(), at(0), registry);
  EXPECT_EQ(core_->options().weights.at("eng"), 3);
  // The known agent re-registers without a new registry write.
  internal::AgentCall call;
  call.set_protocol_version(internal::PROTOCOL_VERSION_CURRENT);
  call.set_type(internal::AgentCall::REGISTER);
  *call.mutable_register_()->mutable_agent_info() = info;
  Resources::parse("cpus:1;mem:128")->toProto(call.mutable_register_()->mutable_agent_info()->mutable_resources());
  ASSERT_TRUE(core_->registerAgent(call, "s", now_).isOk());
  collect();
  EXPECT_TRUE(persists_.empty());
  EXPECT_EQ(core_->agents().size(), 1u);
}

v1::master::Call::UpdateQuota quotaUpdate(const std::string& role, double cpuLimit, bool force = false) {
  v1::master::Call::UpdateQuota update;
  update.set_force(force);
  auto* config = update.add_quota_configs();
  config->set_role(role);
  (*config->mutable_limits())["cpus"].set_value(cpuLimit);
  return update;
}

TEST_F(MasterCoreTest, QuotaAppliesOnceDurableAndRescindsOffersMadeUnderTheOldOne) {
  registerAgent("cpus:4;mem:1024");
  FrameworkId framework = subscribe("f", 0, std::nullopt, false, "batch");
  v1::Offer offer = firstOffer("f");
  EXPECT_DOUBLE_EQ(Resources::fromProto(offer.resources())->cpus(), 4);

  auto ticket = core_->updateQuota(quotaUpdate("batch", 1), now_);
  ASSERT_TRUE(ticket.isOk()) << ticket.error();
  collect();
  EXPECT_EQ(persists_.size(), 1u);
  EXPECT_TRUE(core_->registry().quotas().empty()) << "not applied before the registry write";
  for (const Event& event : drainEvents("f")) EXPECT_NE(event.type(), Event::RESCIND);

  completePersists();
  EXPECT_TRUE(core_->registry().quotas().contains("batch"));
  bool rescinded = false;
  for (const Event& event : drainEvents("f")) rescinded |= event.type() == Event::RESCIND;
  EXPECT_TRUE(rescinded) << "the 4-cpu offer exceeds the new limit";
  v1::Offer capped = firstOffer("f");
  EXPECT_DOUBLE_EQ(Resources::fromProto(capped.resources())->cpus(), 1);
  (void)framework;
}

TEST_F(MasterCoreTest, QuotaBelowCurrentUseNeedsForceAndBadUpdatesChangeNothing) {
  registerAgent("cpus:4;mem:1024");
  FrameworkId framework = subscribe("f", 0, std::nullopt, false, "batch");
  v1::Offer offer = firstOffer("f");
  ASSERT_TRUE(core_->handleCall(acceptCall(framework, offer, {task("t1", offer, "cpus:2;mem:64")}), "f", now_));
  collect();

  auto refused = core_->updateQuota(quotaUpdate("batch", 1), now_);
  EXPECT_FALSE(refused.isOk());
  EXPECT_NE(refused.error().find("force"), std::string::npos) << refused.error();
  auto negative = core_->updateQuota(quotaUpdate("batch", -1, true), now_);
  EXPECT_FALSE(negative.isOk());
  v1::master::Call::UpdateWeights weights;
  auto* good = weights.add_weight_infos();
  good->set_role("eng");
  good->set_weight(2);
  auto* bad = weights.add_weight_infos();
  bad->set_role("ops");
  bad->set_weight(0);
  EXPECT_FALSE(core_->updateWeights(weights, now_).isOk());
  collect();
  EXPECT_TRUE(persists_.empty()) << "refused calls write nothing";
  EXPECT_FALSE(core_->options().weights.contains("eng"));

  ASSERT_TRUE(core_->updateQuota(quotaUpdate("batch", 1, true), now_).isOk());
  completePersists();
  EXPECT_DOUBLE_EQ(core_->registry().quotas().at("batch").limits().at("cpus").value(), 1);
}

}  // namespace
}  // namespace mezzo::master

namespace mezzo::master {
namespace {

// What Mezzo cannot do is refused at ACCEPT with TASK_ERROR naming the
// field, before anything reaches the agent; host-path and sandbox-path
// volumes of a MESOS container without an image are launched.
TEST_F(MasterCoreTest, UnsupportedFieldsAreTaskErrorsNamingTheField) {
  // (GPU agents are offered to frameworks without GPU_RESOURCES here, so
  // that the refusal of gpus is what is tested.)
  MasterOptions options = core_->options();
  options.allocator.filterGpuResources = false;
  core_ = std::make_unique<MasterCore>(options, now_);
  registerAgent("cpus:4;mem:1024;gpus:1");
  FrameworkId framework = subscribe("s1");
  v1::Offer offer = firstOffer("s1");
  drainAgentEvents();
  using Edit = std::function<void(v1::TaskInfo&)>;
  auto volume = [](v1::TaskInfo& t, v1::Volume::Source::Type type) {
    t.mutable_container()->set_type(v1::ContainerInfo::MESOS);
    v1::Volume* v = t.mutable_container()->add_volumes();
    v->set_mode(v1::Volume::RW);
    v->set_container_path("data");
    v->mutable_source()->set_type(type);
  };
  const std::vector<std::tuple<std::string, Edit, std::string>> refused = {
      {"docker", [](v1::TaskInfo& t) {
         t.mutable_container()->set_type(v1::ContainerInfo::DOCKER);
         t.mutable_container()->mutable_docker()->set_image("alpine");
       }, "'container.docker'"},
      {"image", [](v1::TaskInfo& t) {
         t.mutable_container()->set_type(v1::ContainerInfo::MESOS);
         auto* image = t.mutable_container()->mutable_mesos()->mutable_image();
         image->set_type(v1::Image::DOCKER);
         image->mutable_docker()->set_name("alpine");
       }, "'container.mesos.image'"},
      {"cni", [](v1::TaskInfo& t) {
         t.mutable_container()->set_type(v1::ContainerInfo::MESOS);
         t.mutable_container()->add_network_infos()->set_name("cni-net");
       }, "'container.network_infos'"},
      {"secret-env", [](v1::TaskInfo& t) {
         auto* variable = t.mutable_command()->mutable_environment()->add_variables();
         variable->set_name("PASSWORD");
         variable->set_type(v1::Environment::Variable::SECRET);
       }, "'command.environment.variables[0]'"},
      {"secret-volume", [&](v1::TaskInfo& t) { volume(t, v1::Volume::Source::SECRET); }, "'container.volumes[0].source'"},
      {"docker-volume", [&](v1::TaskInfo& t) { volume(t, v1::Volume::Source::DOCKER_VOLUME); },
       "'container.volumes[0].source.type'"},
      {"csi-volume", [&](v1::TaskInfo& t) { volume(t, v1::Volume::Source::CSI_VOLUME); }, "CSI_VOLUME"},
      {"gpus", [](v1::TaskInfo& t) { t.clear_resources(); Resources::parse("cpus:0.1;gpus:1")->toProto(t.mutable_resources()); },
       "'resources'"},
  };
  std::vector<v1::TaskInfo> tasks;
  for (const auto& [id, edit, field] : refused) {
    tasks.push_back(task(id, offer, "cpus:0.1;mem:16"));
    edit(tasks.back());
  }
  tasks.push_back(task("host-and-sandbox", offer, "cpus:0.1;mem:16"));
  volume(tasks.back(), v1::Volume::Source::SANDBOX_PATH);
  tasks.back().mutable_container()->mutable_volumes(0)->mutable_source()->mutable_sandbox_path()->set_path("x");
  v1::Volume* hostPath = tasks.back().mutable_container()->add_volumes();
  hostPath->set_mode(v1::Volume::RO);
  hostPath->set_container_path("/data");
  hostPath->set_host_path("/tmp");
  ASSERT_TRUE(core_->handleCall(acceptCall(framework, offer, tasks), "s1", now_));

  std::map<std::string, v1::TaskStatus> byTask;
  for (const auto& status : updates(drainEvents("s1"))) byTask[status.task_id().value()] = status;
  for (const auto& [id, edit, field] : refused) {
    ASSERT_TRUE(byTask.contains(id)) << id;
    EXPECT_EQ(byTask[id].state(), v1::TASK_ERROR) << id;
    EXPECT_EQ(byTask[id].reason(), v1::TaskStatus::REASON_TASK_INVALID) << id;
    EXPECT_NE(byTask[id].message().find(field), std::string::npos) << id << ": " << byTask[id].message();
  }
  EXPECT_FALSE(byTask.contains("host-and-sandbox"));
  auto launched = drainAgentEvents();
  ASSERT_EQ(launched.size(), 1u);
  EXPECT_EQ(launched[0].run_task().task().task_id().value(), "host-and-sandbox");
}

// The executor of a task (LAUNCH) and of a task group (LAUNCH_GROUP) is
// checked too.
TEST_F(MasterCoreTest, UnsupportedExecutorContainersAreRefused) {
  registerAgent("cpus:4;mem:1024");
  FrameworkId framework = subscribe("s1");
  v1::Offer offer = firstOffer("s1");
  drainAgentEvents();
  v1::TaskInfo custom = task("custom", offer, "cpus:0.1;mem:16");
  custom.clear_command();
  custom.mutable_executor()->mutable_executor_id()->set_value("e1");
  custom.mutable_executor()->mutable_command()->set_value("run-executor");
  custom.mutable_executor()->mutable_container()->set_type(v1::ContainerInfo::DOCKER);
  Call call = acceptCall(framework, offer, {custom});
  auto* group = call.mutable_accept()->add_operations();
  group->set_type(v1::Offer::Operation::LAUNCH_GROUP);
  auto* executor = group->mutable_launch_group()->mutable_executor();
  executor->set_type(v1::ExecutorInfo::DEFAULT);
  executor->mutable_executor_id()->set_value("e2");
  executor->mutable_container()->set_type(v1::ContainerInfo::MESOS);
  executor->mutable_container()->add_network_infos();
  *group->mutable_launch_group()->mutable_task_group()->add_tasks() = task("grouped", offer, "cpus:0.1;mem:16");
  ASSERT_TRUE(core_->handleCall(call, "s1", now_));
  auto statuses = updates(drainEvents("s1"));
  ASSERT_EQ(statuses.size(), 2u);
  EXPECT_EQ(statuses[0].task_id().value(), "custom");
  EXPECT_NE(statuses[0].message().find("'executor.container.type'"), std::string::npos) << statuses[0].message();
  EXPECT_EQ(statuses[1].task_id().value(), "grouped");
  EXPECT_EQ(statuses[1].reason(), v1::TaskStatus::REASON_TASK_GROUP_INVALID);
  EXPECT_NE(statuses[1].message().find("'executor.container.network_infos'"), std::string::npos)
      << statuses[1].message();
  EXPECT_TRUE(drainAgentEvents().empty());
}

// RESERVE (not implemented) with an id: OPERATION_ERROR, remembered for
// RECONCILE_OPERATIONS; without an id the whole ACCEPT is refused and
// nothing of it applies (the offer stays, the launch does not happen).
TEST_F(MasterCoreTest, UnsupportedOfferOperationsAreAnsweredOrRefused) {
  registerAgent("cpus:4;mem:1024");
  FrameworkId framework = subscribe("s1");
  v1::Offer offer = firstOffer("s1");
  drainAgentEvents();
  Call call = acceptCall(framework, offer, {task("t1", offer, "cpus:0.1;mem:16")});
  call.mutable_accept()->add_operations()->set_type(v1::Offer::Operation::RESERVE);
  Status refused = core_->handleCall(call, "s1", now_);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(refused.message().find("RESERVE"), std::string::npos) << refused.message();
  EXPECT_TRUE(drainAgentEvents().empty());
  EXPECT_TRUE(updates(drainEvents("s1")).empty());
  EXPECT_TRUE(core_->offers().contains(OfferId(offer.id().value()))) << "the offer was not consumed";

  call.mutable_accept()->mutable_operations(1)->mutable_id()->set_value("reserve-1");
  ASSERT_TRUE(core_->handleCall(call, "s1", now_));
  EXPECT_EQ(drainAgentEvents().size(), 1u) << "the launch of the same ACCEPT happens";
  auto operationStatuses = [&] {
    std::vector<v1::OperationStatus> out;
    for (const Event& event : drainEvents("s1")) {
      if (event.type() == Event::UPDATE_OPERATION_STATUS) out.push_back(event.update_operation_status().status());
    }
    return out;
  };
  auto answered = operationStatuses();
  ASSERT_EQ(answered.size(), 1u);
  EXPECT_EQ(answered[0].operation_id().value(), "reserve-1");
  EXPECT_EQ(answered[0].state(), v1::OPERATION_ERROR);
  EXPECT_EQ(answered[0].agent_id().value(), offer.agent_id().value());
  EXPECT_NE(answered[0].message().find("RESERVE"), std::string::npos);
  EXPECT_FALSE(answered[0].has_uuid());

  Call reconcile;
  reconcile.set_type(Call::RECONCILE_OPERATIONS);
  reconcile.mutable_framework_id()->set_value(framework.value());
  reconcile.mutable_reconcile_operations()->add_operations()->mutable_operation_id()->set_value("reserve-1");
  reconcile.mutable_reconcile_operations()->add_operations()->mutable_operation_id()->set_value("never-sent");
  ASSERT_TRUE(core_->handleCall(reconcile, "s1", now_));
  auto reconciled = operationStatuses();
  ASSERT_EQ(reconciled.size(), 2u);
  EXPECT_EQ(reconciled[0].state(), v1::OPERATION_ERROR);
  EXPECT_EQ(reconciled[1].operation_id().value(), "never-sent");
  EXPECT_EQ(reconciled[1].state(), v1::OPERATION_UNKNOWN);
  reconcile.mutable_reconcile_operations()->clear_operations();
  ASSERT_TRUE(core_->handleCall(reconcile, "s1", now_));
  EXPECT_EQ(operationStatuses().size(), 1u) << "implicit: every known operation";

  Call ack;
  ack.set_type(Call::ACKNOWLEDGE_OPERATION_STATUS);
  ack.mutable_framework_id()->set_value(framework.value());
  ack.mutable_acknowledge_operation_status()->mutable_operation_id()->set_value("reserve-1");
  ack.mutable_acknowledge_operation_status()->set_uuid("short");
  EXPECT_FALSE(core_->handleCall(ack, "s1", now_));
  ack.mutable_acknowledge_operation_status()->set_uuid(std::string(16, 'u'));
  EXPECT_TRUE(core_->handleCall(ack, "s1", now_));
}

}  // namespace
}  // namespace mezzo::master
