// Allocation policy over the wire (issue 3, point 3): weighted DRF between
// two hungry frameworks, suppress/revive, and a quota guarantee that a greedy
// framework in another role cannot take. Real master and agents, frameworks
// speaking the v1 scheduler API, quota set through the v1 operator API.
#include <gtest/gtest.h>

#include <map>

#include "harness/operator_client.hpp"
#include "harness/process.hpp"
#include "harness/scheduler_session.hpp"

namespace mezzo::testing {
namespace {

using namespace std::chrono_literals;

Call subscribeInRole(const std::string& name, const std::string& role) {
  Call call = subscribeCall(name);
  call.mutable_subscribe()->mutable_framework_info()->set_role(role);
  return call;
}

double offerScalar(const v1::Offer& offer, const std::string& name) {
  double total = 0;
  for (const auto& resource : offer.resources()) {
    if (resource.name() == name && resource.has_scalar()) total += resource.scalar().value();
  }
  return total;
}

Call declineCall(const v1::Offer& offer, double refuseSeconds) {
  Call call;
  call.set_type(Call::DECLINE);
  *call.mutable_decline()->add_offer_ids() = offer.id();
  call.mutable_decline()->mutable_filters()->set_refuse_seconds(refuseSeconds);
  return call;
}

// A framework that launches `perOffer` one-cpu tasks (at most) on every
// offer, as long as it has launched fewer than `maxTasks`, and returns the
// rest of each offer unfiltered.
struct HungryFramework {
  SchedulerSession session;
  int perOffer;
  int maxTasks;
  int launched = 0;
  double maxCpusHeld = 0;  // the most this framework ever held in tasks + offers

  HungryFramework(const net::Endpoint& master, int perOffer, int maxTasks)
      : session(master), perOffer(perOffer), maxTasks(maxTasks) {}

  // Handles the next OFFERS or UPDATE event arriving within `wait`; updates
  // are acknowledged (the agent sends a task's next update only then).
  void serve(std::chrono::milliseconds wait) {
    auto event = session.waitFor(
        [](const Event& e) { return e.type() == Event::OFFERS || e.type() == Event::UPDATE; }, wait);
    if (!event) return;
    if (event->type() == Event::UPDATE) {
      if (event->update().status().has_uuid()) {
        EXPECT_TRUE(session.acknowledge(event->update().status()));
      }
      return;
    }
    double offeredCpus = 0;
    for (const v1::Offer& offer : event->offers().offers()) offeredCpus += offerScalar(offer, "cpus");
    maxCpusHeld = std::max(maxCpusHeld, launched + offeredCpus);
    for (const v1::Offer& offer : event->offers().offers()) {
      std::vector<v1::TaskInfo> tasks;
      double cpus = offerScalar(offer, "cpus");
      double mem = offerScalar(offer, "mem");
      while (static_cast<int>(tasks.size()) < perOffer && launched < maxTasks && cpus >= 1 && mem >= 64) {
        std::string id = session.frameworkId().substr(0, 8) + "-t" + std::to_string(launched++);
        tasks.push_back(commandTask(id, offer, "sleep 600", "cpus:1;mem:64"));
        cpus -= 1;
        mem -= 64;
      }
      auto response = tasks.empty() ? session.call(declineCall(offer, 0)) : session.call(launchCall(offer, tasks));
      EXPECT_TRUE(response.isOk() && response->status == 202) << (response.isOk() ? response->body : response.error());
    }
  }
};

// Sums the cpus of running tasks per role from the master's /tasks.
std::map<std::string, double> runningCpusByRole(const net::Endpoint& master) {
  std::map<std::string, double> out;
  auto tasks = getJson(master, "/tasks");
  for (const auto& task : tasks["tasks"]) {
    if (task["state"] == "TASK_RUNNING") out[task["role"].get<std::string>()] += task["resources"]["cpus"].get<double>();
  }
  return out;
}

TEST(AllocationPolicy, WeightedRolesShareInProportionToTheirWeights) {
  // 12 cpus; roles weighted 1 and 2, both hungry: DRF gives 4 and 8.
  LocalCluster cluster(ClusterOptions()
                           .withAgents(3)
                           .withAgentResources("cpus:4;mem:2048;disk:1024")
                           .withMasterFlag("--weights=light=1,heavy=2"));
  HungryFramework light(cluster.master(), 1, 100);
  HungryFramework heavy(cluster.master(), 1, 100);
  ASSERT_EQ(light.session.subscribe(subscribeInRole("light", "light")), 200u);
  ASSERT_EQ(heavy.session.subscribe(subscribeInRole("heavy", "heavy")), 200u);

  auto deadline = std::chrono::steady_clock::now() + 90s;
  std::map<std::string, double> running;
  while (std::chrono::steady_clock::now() < deadline) {
    light.serve(50ms);
    heavy.serve(50ms);
    running = runningCpusByRole(cluster.master());
    if (running["light"] + running["heavy"] >= 12) break;
  }
  ASSERT_EQ(running["light"] + running["heavy"], 12) << "the cluster (3 agents x 4 cpus) fills up";
  // Weighted dominant shares (cpus here) equal within one task: 4 and 8.
  EXPECT_NEAR(running["heavy"] / 2, running["light"], 1.0 + 1e-9)
      << "light " << running["light"] << " heavy " << running["heavy"];
}

TEST(AllocationPolicy, SuppressedFrameworkGetsNoOffersUntilItRevives) {
  LocalCluster cluster;  // the harness runs masters with --allocation_interval=100ms
  SchedulerSession session(cluster.master());
  ASSERT_EQ(session.subscribe(subscribeCall("suppressing")), 200u);
  auto offers = session.waitForType(Event::OFFERS);
  ASSERT_TRUE(offers);

  Call suppress;
  suppress.set_type(Call::SUPPRESS);
  auto suppressed = session.call(suppress);
  ASSERT_TRUE(suppressed.isOk() && suppressed->status == 202);
  for (const v1::Offer& offer : offers->offers().offers()) ASSERT_TRUE(session.call(declineCall(offer, 0)).isOk());
  EXPECT_FALSE(session.waitForType(Event::OFFERS, 3s)) << "no offers while suppressed (30 allocation cycles)";

  Call revive;
  revive.set_type(Call::REVIVE);
  auto revived = session.call(revive);
  ASSERT_TRUE(revived.isOk() && revived->status == 202);
  EXPECT_TRUE(session.waitForType(Event::OFFERS, 5s)) << "offers resume after REVIVE";
}

TEST(AllocationPolicy, QuotaGuaranteeIsHonouredAgainstAGreedyRole) {
  // 2 agents x 4 cpus. Role `prod` is guaranteed 3 cpus before any of its
  // frameworks exists; a greedy framework in `batch` must never hold more
  // than the other 5, and prod's framework then gets its 3.
  LocalCluster cluster(ClusterOptions()
                           .withAgents(2)
                           .withAgentResources("cpus:4;mem:2048;disk:1024"));
  auto set = operatorCall(cluster.master(), R"({"type":"UPDATE_QUOTA","update_quota":{"quota_configs":[
      {"role":"prod","guarantees":{"cpus":{"value":3},"mem":{"value":192}}}]}})");
  ASSERT_TRUE(set.isOk());
  ASSERT_EQ(set->status, 200u) << set->body;

  HungryFramework greedy(cluster.master(), 100, 100);
  ASSERT_EQ(greedy.session.subscribe(subscribeInRole("greedy", "batch")), 200u);
  auto until = std::chrono::steady_clock::now() + 4s;
  while (std::chrono::steady_clock::now() < until) greedy.serve(100ms);
  EXPECT_EQ(runningCpusByRole(cluster.master())["batch"], 5) << getJson(cluster.master(), "/tasks").dump();
  EXPECT_LE(greedy.maxCpusHeld, 5) << "offers to batch never reach into prod's guarantee";

  HungryFramework prod(cluster.master(), 100, 3);
  ASSERT_EQ(prod.session.subscribe(subscribeInRole("prod", "prod")), 200u);
  until = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < until && runningCpusByRole(cluster.master())["prod"] < 3) {
    prod.serve(100ms);
    greedy.serve(10ms);
  }
  auto running = runningCpusByRole(cluster.master());
  EXPECT_EQ(running["prod"], 3);
  EXPECT_EQ(running["batch"], 5);
}

Call subscribeWithRackConstraint(const std::string& name, const std::string& predicateJsonField,
                                 const std::string& value) {
  Call call = subscribeCall(name);
  auto& groups = (*call.mutable_subscribe()->mutable_offer_constraints()->mutable_role_constraints())["*"];
  auto* constraint = groups.add_groups()->add_attribute_constraints();
  constraint->mutable_selector()->set_attribute_name("rack");
  if (predicateJsonField == "text_equals") constraint->mutable_predicate()->mutable_text_equals()->set_value(value);
  if (predicateJsonField == "text_matches") constraint->mutable_predicate()->mutable_text_matches()->set_regex(value);
  return call;
}

TEST(AllocationPolicy, OfferConstraintsAndPerFrameworkMinimumsFromSubscribe) {
  LocalCluster cluster(ClusterOptions().withAgentFlag("--attributes=rack:r1"));
  SchedulerSession elsewhere(cluster.master());
  ASSERT_EQ(elsewhere.subscribe(subscribeWithRackConstraint("elsewhere", "text_equals", "r2")), 200u);
  SchedulerSession here(cluster.master());
  ASSERT_EQ(here.subscribe(subscribeWithRackConstraint("here", "text_matches", "r[0-9]")), 200u);
  auto offers = here.waitForType(Event::OFFERS, 10s);
  ASSERT_TRUE(offers) << "the agent on rack r1 matches r[0-9]";
  EXPECT_FALSE(elsewhere.waitForType(Event::OFFERS, 2s)) << "no agent on rack r2";

  SchedulerSession badRegex(cluster.master());
  EXPECT_EQ(badRegex.subscribe(subscribeWithRackConstraint("bad", "text_matches", "r[")), 400u);

  // `here` gives the agent back for an hour: the only other candidates are
  // `elsewhere` (constrained out) and `picky`, whose per-role minimum is
  // larger than the agent (2 cpus): nobody gets an offer.
  for (const v1::Offer& offer : offers->offers().offers()) ASSERT_TRUE(here.call(declineCall(offer, 3600)).isOk());
  Call picky = subscribeCall("picky");
  auto& filters = (*picky.mutable_subscribe()->mutable_framework_info()->mutable_offer_filters())["*"];
  (*filters.mutable_min_allocatable_resources()->add_quantities()->mutable_quantities())["cpus"].set_value(64);
  SchedulerSession pickySession(cluster.master());
  ASSERT_EQ(pickySession.subscribe(picky), 200u);
  EXPECT_FALSE(pickySession.waitForType(Event::OFFERS, 2s)) << "offers below the framework's minimum are not made";

  auto metrics = getJson(cluster.master(), "/metrics/snapshot");
  EXPECT_GT(metrics["allocator/mesos/allocation_runs"].get<double>(), 0);
  EXPECT_TRUE(metrics.contains("allocator/mesos/allocation_run_ms"));
}

TEST(AllocationPolicy, AFrameworkThatNeverAnswersDoesNotStarveALaterOne) {
  // One agent; the first framework takes its offer and never answers. With
  // DRF ties broken by name (framework ids are sequential) it got the agent
  // back after every offer timeout and the later framework never got an
  // offer. Ties now go to the framework allocated to fewer times, and a
  // timed-out offer is filtered from its framework for a few seconds.
  LocalCluster cluster(ClusterOptions().withAgents(1).withMasterFlag("--offer_timeout=1secs"));
  SchedulerSession idle(cluster.master());
  ASSERT_EQ(idle.subscribe(subscribeCall("idle")), 200u);
  ASSERT_TRUE(waitForOffer(idle)) << "the idle framework is offered the agent first";
  SchedulerSession later(cluster.master());
  ASSERT_EQ(later.subscribe(subscribeCall("later")), 200u);
  auto offer = waitForOffer(later, 8s);
  ASSERT_TRUE(offer) << "the later framework got no offer while the idle one held the agent";
  EXPECT_TRUE(idle.waitForType(Event::RESCIND, 1s)) << "the idle framework's offer timed out";
}

TEST(AllocationPolicy, LegacyEndpointsShowRolesSummariesAndSuppression) {
  LocalCluster cluster(ClusterOptions().withAgents(1).withAgentResources("cpus:4;mem:2048;disk:1024"));
  auto quota = operatorCall(cluster.master(),
                            R"({"type":"UPDATE_QUOTA","update_quota":{"quota_configs":[{"role":"web",)"
                            R"("guarantees":{"cpus":{"value":1}},"limits":{"cpus":{"value":3}}}]}})");
  ASSERT_TRUE(quota.isOk() && quota->status == 200) << (quota.isOk() ? quota->body : quota.error());
  SchedulerSession web(cluster.master());
  ASSERT_EQ(web.subscribe(subscribeInRole("web", "web")), 200u);
  auto offer = waitForOffer(web);
  ASSERT_TRUE(offer);
  EXPECT_FALSE(offer->url().address().ip().empty()) << "offers carry the agent's ip";
  v1::TaskInfo task = commandTask("t-summary", *offer, "sleep 600", "cpus:1;mem:64");
  // A task with an executor of its own: the framework's executors are listed.
  v1::TaskInfo custom = commandTask("t-custom", *offer, "", "cpus:0.5;mem:32");
  custom.clear_command();
  v1::ExecutorInfo* executor = custom.mutable_executor();
  executor->mutable_executor_id()->set_value("custom-executor");
  executor->set_name("custom");
  executor->mutable_command()->set_value("sleep 600");
  ASSERT_TRUE(web.call(launchCall(*offer, {task, custom})));
  auto statuses = web.followTask("t-summary", v1::TASK_RUNNING);
  ASSERT_FALSE(statuses.empty());
  ASSERT_EQ(statuses.back().state(), v1::TASK_RUNNING);
  Call suppress;
  suppress.set_type(Call::SUPPRESS);
  suppress.mutable_suppress()->add_roles("web");
  ASSERT_TRUE(web.call(suppress));

  auto summary = getJson(cluster.master(), "/state-summary");
  ASSERT_EQ(summary["slaves"].size(), 1u);
  EXPECT_EQ(summary["slaves"][0]["TASK_RUNNING"], 1);
  EXPECT_EQ(summary["slaves"][0]["framework_ids"], nlohmann::json::array({web.frameworkId()}));
  ASSERT_EQ(summary["frameworks"].size(), 1u);
  EXPECT_EQ(summary["frameworks"][0]["TASK_RUNNING"], 1);
  EXPECT_EQ(summary["frameworks"][0]["TASK_FINISHED"], 0);
  EXPECT_EQ(summary["frameworks"][0]["slave_ids"].size(), 1u);

  nlohmann::json role;
  auto roles = getJson(cluster.master(), "/roles");
  for (const auto& entry : roles["roles"]) {
    if (entry["name"] == "web") role = entry;
  }
  ASSERT_FALSE(role.is_null()) << roles.dump();
  EXPECT_GE(role["allocated"]["cpus"].get<double>(), 1.5) << role.dump();
  EXPECT_EQ(role["quota"]["guarantee"]["cpus"], 1) << role.dump();
  EXPECT_EQ(role["quota"]["limit"]["cpus"], 3) << role.dump();
  EXPECT_GE(role["quota"]["consumed"]["cpus"].get<double>(), 1.5) << role.dump();
  EXPECT_EQ(role["frameworks"], nlohmann::json::array({web.frameworkId()}));

  auto state = getJson(cluster.master(), "/state");
  ASSERT_EQ(state["frameworks"].size(), 1u);
  const auto& framework = state["frameworks"][0];
  EXPECT_EQ(framework["suppressed_roles"], nlohmann::json::array({"web"}));
  ASSERT_EQ(framework["executors"].size(), 1u) << framework["executors"].dump();
  EXPECT_EQ(framework["executors"][0]["executor_id"], "custom-executor");
  EXPECT_FALSE(framework["executors"][0]["slave_id"].get<std::string>().empty());

  auto metrics = getJson(cluster.master(), "/metrics/snapshot");
  std::string prefix = "master/frameworks/web/" + web.frameworkId() + "/";
  EXPECT_EQ(metrics[prefix + "roles/web/suppressed"], 1) << metrics.dump();
  EXPECT_EQ(metrics[prefix + "subscribed"], 1);

  EXPECT_EQ(getJson(cluster.master(), "/tasks?limit=1")["tasks"].size(), 1u);
  EXPECT_EQ(getJson(cluster.master(), "/tasks?offset=5")["tasks"].size(), 0u);
}

}  // namespace
}  // namespace mezzo::testing
