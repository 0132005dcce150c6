#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include <unistd.h>

#include "harness/zookeeper_server.hpp"
#include "store/registry.hpp"

namespace mezzo::store {
namespace {

TimePoint at(int seconds) { return TimePoint(std::chrono::seconds(1'700'000'000 + seconds)); }

v1::AgentInfo agent(const std::string& id, const std::string& host = "host") {
  v1::AgentInfo info;
  info.set_hostname(host);
  info.mutable_id()->set_value(id);
  return info;
}

TEST(RegistryState, AdmitsOnceAndTracksReachability) {
  RegistryState state;
  ASSERT_TRUE(state.apply(admitAgent(agent("a1"))));
  EXPECT_EQ(state.apply(admitAgent(agent("a1"))).code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(state.apply(markAgentUnreachable(AgentId("a1"), at(5))));
  EXPECT_FALSE(state.admitted().contains(AgentId("a1")));
  EXPECT_EQ(state.unreachable().at(AgentId("a1")).since, at(5));
  ASSERT_TRUE(state.apply(markAgentReachable(agent("a1", "newhost"))));
  EXPECT_EQ(state.admitted().at(AgentId("a1")).hostname(), "newhost");
  ASSERT_TRUE(state.apply(markAgentGone(AgentId("a1"), at(9))));
  EXPECT_FALSE(state.apply(admitAgent(agent("a1"))).isOk()) << "gone is final";
  EXPECT_FALSE(state.apply(markAgentReachable(agent("a1"))).isOk());
  EXPECT_TRUE(state.gone().contains(AgentId("a1")));
}

TEST(RegistryState, RefusedOperationsChangeNothing) {
  RegistryState state;
  ASSERT_TRUE(state.apply(admitAgent(agent("a1"))));
  ASSERT_TRUE(state.apply(updateWeights({{"eng", 2}})));
  RegistryState before = state;
  EXPECT_FALSE(state.apply(markAgentUnreachable(AgentId("nope"), at(1))).isOk());
  EXPECT_FALSE(state.apply(updateWeights({{"ops", 3}, {"bad", -1}})).isOk());
  EXPECT_FALSE(state.apply(internal::RegistryOperation()).isOk());
  EXPECT_FALSE(state.apply(removeAgent(AgentId("nope"))).isOk());
  EXPECT_TRUE(state == before);
  EXPECT_FALSE(state.weights().contains("ops"));
}

TEST(RegistryState, QuotaIsReplacedPerRoleAndRemovedWhenEmpty) {
  RegistryState state;
  v1::quota::QuotaConfig eng;
  eng.set_role("eng");
  (*eng.mutable_guarantees())["cpus"].set_value(2);
  (*eng.mutable_limits())["cpus"].set_value(4);
  v1::quota::QuotaConfig ops;
  ops.set_role("ops");
  (*ops.mutable_limits())["mem"].set_value(1024);
  ASSERT_TRUE(state.apply(updateQuota({eng, ops})));
  EXPECT_EQ(state.quotas().at("eng").limits().at("cpus").value(), 4);
  v1::quota::QuotaConfig reset;
  reset.set_role("eng");
  ASSERT_TRUE(state.apply(updateQuota({reset})));
  EXPECT_FALSE(state.quotas().contains("eng"));
  EXPECT_TRUE(state.quotas().contains("ops"));
  v1::quota::QuotaConfig nameless;
  EXPECT_FALSE(state.apply(updateQuota({ops, nameless})).isOk());
}

TEST(RegistryState, SnapshotRoundTrips) {
  RegistryState state;
  ASSERT_TRUE(state.apply(admitAgent(agent("a1"))));
  ASSERT_TRUE(state.apply(admitAgent(agent("a2"))));
  ASSERT_TRUE(state.apply(markAgentUnreachable(AgentId("a2"), at(3))));
  ASSERT_TRUE(state.apply(admitAgent(agent("a3"))));
  ASSERT_TRUE(state.apply(markAgentGone(AgentId("a3"), at(4))));
  ASSERT_TRUE(state.apply(updateWeights({{"eng", 2}, {"ops", 0.5}})));
  v1::quota::QuotaConfig quota;
  quota.set_role("eng");
  (*quota.mutable_limits())["cpus"].set_value(8);
  ASSERT_TRUE(state.apply(updateQuota({quota})));
  auto restored = RegistryState::fromSnapshot(state.toSnapshot());
  ASSERT_TRUE(restored.isOk());
  EXPECT_TRUE(*restored == state);
}

v1::MachineID machine(const std::string& hostname, const std::string& ip = "") {
  v1::MachineID id;
  if (!hostname.empty()) id.set_hostname(hostname);
  if (!ip.empty()) id.set_ip(ip);
  return id;
}

v1::maintenance::Schedule scheduleOf(const std::vector<std::vector<v1::MachineID>>& windows, int start = 100) {
  v1::maintenance::Schedule schedule;
  for (const auto& machines : windows) {
    auto* window = schedule.add_windows();
    for (const auto& id : machines) *window->add_machine_ids() = id;
    window->mutable_unavailability()->mutable_start()->set_nanoseconds(at(start).time_since_epoch().count());
    window->mutable_unavailability()->mutable_duration()->set_nanoseconds(3600'000'000'000);
  }
  return schedule;
}

google::protobuf::RepeatedPtrField<v1::MachineID> machines(const std::vector<v1::MachineID>& ids) {
  return {ids.begin(), ids.end()};
}

TEST(RegistryState, MaintenanceMachinesMoveDrainingDownUp) {
  RegistryState state;
  ASSERT_TRUE(state.apply(admitAgent(agent("a1", "m1"))));
  ASSERT_TRUE(state.apply(updateMaintenanceSchedule(scheduleOf({{machine("M1")}, {machine("m2", "10.0.0.2")}}))));
  ASSERT_EQ(state.machines().size(), 2u);
  EXPECT_EQ(state.machines().at({"m1", ""}).mode(), v1::MachineInfo::DRAINING) << "hostnames compare lower-cased";
  EXPECT_EQ(state.schedule().windows_size(), 2);

  // Only scheduled DRAINING machines go down; the agents on them leave the registry in the same operation.
  EXPECT_EQ(state.apply(startMaintenance(machines({machine("m3")}), {})).code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(state.apply(startMaintenance(machines({machine("m1")}), {AgentId("a1")})));
  EXPECT_EQ(state.machines().at({"m1", ""}).mode(), v1::MachineInfo::DOWN);
  EXPECT_FALSE(state.admitted().contains(AgentId("a1")));
  EXPECT_FALSE(state.apply(startMaintenance(machines({machine("m1")}), {})).isOk()) << "already DOWN";

  // A DOWN machine stays DOWN through a schedule update and may not leave the schedule.
  RegistryState before = state;
  EXPECT_EQ(state.apply(updateMaintenanceSchedule(scheduleOf({{machine("m2", "10.0.0.2")}}))).code(),
            StatusCode::kFailedPrecondition);
  EXPECT_TRUE(state == before);
  ASSERT_TRUE(state.apply(updateMaintenanceSchedule(scheduleOf({{machine("m1"), machine("m4")}}, 500))));
  EXPECT_EQ(state.machines().at({"m1", ""}).mode(), v1::MachineInfo::DOWN);
  EXPECT_EQ(state.machines().at({"m1", ""}).unavailability().start().nanoseconds(),
            at(500).time_since_epoch().count());
  EXPECT_FALSE(state.machines().contains({"m2", "10.0.0.2"})) << "left the schedule: UP again";

  // Only DOWN machines come up; they leave the schedule, empty windows go.
  EXPECT_FALSE(state.apply(stopMaintenance(machines({machine("m4")}))).isOk());
  ASSERT_TRUE(state.apply(stopMaintenance(machines({machine("m1")}))));
  EXPECT_FALSE(state.machines().contains({"m1", ""}));
  ASSERT_EQ(state.schedule().windows_size(), 1);
  ASSERT_EQ(state.schedule().windows(0).machine_ids_size(), 1);
  EXPECT_EQ(state.schedule().windows(0).machine_ids(0).hostname(), "m4");

  auto restored = RegistryState::fromSnapshot(state.toSnapshot());
  ASSERT_TRUE(restored.isOk());
  EXPECT_TRUE(*restored == state);
}

TEST(RegistryState, InvalidSchedulesAreRefused) {
  RegistryState state;
  v1::maintenance::Schedule emptyWindow = scheduleOf({{}});
  EXPECT_EQ(state.apply(updateMaintenanceSchedule(emptyWindow)).code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(state.apply(updateMaintenanceSchedule(scheduleOf({{machine("")}}))).isOk()) << "no hostname, no ip";
  EXPECT_FALSE(state.apply(updateMaintenanceSchedule(scheduleOf({{machine("a", "not-an-ip")}}))).isOk());
  EXPECT_FALSE(state.apply(updateMaintenanceSchedule(scheduleOf({{machine("a")}, {machine("A")}}))).isOk())
      << "a machine in two windows";
  v1::maintenance::Schedule negative = scheduleOf({{machine("a")}});
  negative.mutable_windows(0)->mutable_unavailability()->mutable_duration()->set_nanoseconds(-1);
  EXPECT_FALSE(state.apply(updateMaintenanceSchedule(negative)).isOk());
  EXPECT_FALSE(state.apply(startMaintenance(machines({}), {})).isOk()) << "empty machine list";
  EXPECT_TRUE(state.machines().empty());
  EXPECT_TRUE(state.schedule().windows().empty());
}

// Each backend replays what was appended, across compactions and reopening.
class RegistryStoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("mezzo-registry-" + std::to_string(::getpid()) + "-" +
                                                     ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    store_ = open();
    if (store_ == nullptr && GetParam() == "zookeeper") {
      GTEST_SKIP() << "ZooKeeper (Debian package `zookeeper`, java) is not available on this machine";
    }
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  // One ZooKeeper for the whole binary, started on first use.
  static testing::ZooKeeperServer& zookeeper() {
    static testing::ZooKeeperServer server;
    return server;
  }
  std::string zookeeperServers() const { return "127.0.0.1:" + std::to_string(zookeeper().port()); }
  std::string zookeeperPath() const {
    return std::string("/mezzo-test/") + ::testing::UnitTest::GetInstance()->current_test_info()->name();
  }

  std::unique_ptr<RegistryStore> open() {
    if (GetParam() == "in_memory") return makeInMemoryRegistryStore();
    if (GetParam() == "zookeeper") {
      if (!zookeeper().available()) return nullptr;
      auto store = openZooKeeperRegistryStore({zookeeperServers(), zookeeperPath(), std::chrono::seconds(5), {}});
      EXPECT_TRUE(store.isOk()) << store.error();
      return store.isOk() ? std::move(*store) : nullptr;
    }
    auto store = openSqliteRegistryStore((dir_ / "registry.sqlite").string());
    EXPECT_TRUE(store.isOk()) << store.error();
    return std::move(*store);
  }
  bool durable() const { return GetParam() != "in_memory"; }

  std::filesystem::path dir_;
  std::unique_ptr<RegistryStore> store_;
};

TEST_P(RegistryStoreTest, EmptyStoreRecoversEmptyState) {
  auto state = store_->recover();
  ASSERT_TRUE(state.isOk()) << state.error();
  EXPECT_TRUE(state->admitted().empty());
  EXPECT_EQ(store_->logLength(), 0u);
}

TEST_P(RegistryStoreTest, RandomOperationsReplayExactly) {
  std::mt19937 rng(7);
  RegistryState expected;
  for (int step = 0; step < 300; ++step) {
    std::string id = "a" + std::to_string(rng() % 20);
    internal::RegistryOperation operation;
    switch (rng() % 7) {
      case 0: operation = admitAgent(agent(id)); break;
      case 1: operation = markAgentUnreachable(AgentId(id), at(step)); break;
      case 2: operation = markAgentReachable(agent(id, "back")); break;
      case 3: operation = markAgentGone(AgentId(id), at(step)); break;
      case 4: operation = removeAgent(AgentId(id)); break;
      case 5:
        operation = rng() % 2 == 0 ? updateMaintenanceSchedule(scheduleOf({{machine("m" + std::to_string(rng() % 4))}}))
                                   : startMaintenance(machines({machine("m" + std::to_string(rng() % 4))}), {});
        break;
      default: operation = updateWeights({{"role" + std::to_string(rng() % 3), 1.0 + rng() % 4}}); break;
    }
    // The master appends only what applies to its state.
    if (!expected.apply(operation)) continue;
    ASSERT_TRUE(store_->append(operation));
    if (rng() % 50 == 0) {
      ASSERT_TRUE(store_->compact(expected));
    }
    if (durable() && rng() % 40 == 0) {
      store_ = open();  // close and reopen the file
    }
  }
  auto recovered = store_->recover();
  ASSERT_TRUE(recovered.isOk()) << recovered.error();
  EXPECT_TRUE(*recovered == expected);
  EXPECT_FALSE(expected.admitted().empty() && expected.gone().empty());
}

TEST_P(RegistryStoreTest, CompactionEmptiesTheLog) {
  RegistryState state;
  for (int i = 0; i < 5; ++i) {
    auto operation = admitAgent(agent("a" + std::to_string(i)));
    ASSERT_TRUE(state.apply(operation));
    ASSERT_TRUE(store_->append(operation));
  }
  EXPECT_EQ(store_->logLength(), 5u);
  ASSERT_TRUE(store_->compact(state));
  EXPECT_EQ(store_->logLength(), 0u);
  auto recovered = store_->recover();
  ASSERT_TRUE(recovered.isOk());
  EXPECT_EQ(recovered->admitted().size(), 5u);
}

// A snapshot beyond ZooKeeper's 1 MB znode limit is stored in chunks.
TEST_P(RegistryStoreTest, LargeSnapshotRoundTrips) {
  RegistryState state;
  for (int i = 0; i < 30'000; ++i) {
    ASSERT_TRUE(state.apply(admitAgent(agent("agent-" + std::to_string(i), "host-with-a-long-name-" + std::to_string(i)))));
  }
  ASSERT_GT(state.toSnapshot().ByteSizeLong(), 1'000'000u);
  ASSERT_TRUE(store_->compact(state));
  ASSERT_TRUE(store_->append(admitAgent(agent("late"))));
  if (durable()) store_ = open();
  auto recovered = store_->recover();
  ASSERT_TRUE(recovered.isOk()) << recovered.error();
  if (durable()) {
    EXPECT_EQ(recovered->admitted().size(), 30'001u);
  }
}

// Writes are refused once the fence znode (the leader's election node) is gone.
TEST_P(RegistryStoreTest, FencedWritesNeedTheFenceNode) {
  if (GetParam() != "zookeeper") {
    GTEST_SKIP() << "fencing is a ZooKeeper store feature";
  }
  std::string fence = zookeeperPath() + "/log";  // exists once the store is open
  auto fenced = openZooKeeperRegistryStore(
      {zookeeperServers(), zookeeperPath(), std::chrono::seconds(5), [&] { return fence; }});
  ASSERT_TRUE(fenced.isOk()) << fenced.error();
  ASSERT_TRUE((*fenced)->recover().isOk());
  ASSERT_TRUE((*fenced)->append(admitAgent(agent("a1"))));
  fence = zookeeperPath() + "/no-such-leader";
  Status refused = (*fenced)->append(admitAgent(agent("a2")));
  EXPECT_EQ(refused.code(), StatusCode::kFailedPrecondition) << refused.message();
  auto recovered = store_->recover();
  ASSERT_TRUE(recovered.isOk());
  EXPECT_EQ(recovered->admitted().size(), 1u) << "the fenced-off write left nothing behind";
}

INSTANTIATE_TEST_SUITE_P(Backends, RegistryStoreTest, ::testing::Values("in_memory", "sqlite", "zookeeper"));

TEST(SqliteRegistryStore, UnopenablePathIsAnError) {
  auto store = openSqliteRegistryStore("/nonexistent-dir/for/sure/registry.sqlite");
  EXPECT_FALSE(store.isOk());
}

TEST(SqliteRegistryStore, EmptyFileIsRefusedLikeCorruption) {
  char pattern[] = "/tmp/mezzo-registry-XXXXXX";
  ASSERT_NE(::mkdtemp(pattern), nullptr);
  const std::filesystem::path dir(pattern);
  const std::string path = (dir / "registry.sqlite").string();
  { std::ofstream truncated(path); }
  auto store = openSqliteRegistryStore(path);
  ASSERT_FALSE(store.isOk()) << "a 0-byte registry must not open as an empty one";
  EXPECT_NE(store.error().find("empty (0-byte)"), std::string::npos) << store.error();
  EXPECT_EQ(std::filesystem::file_size(path), 0u) << "the refused file is left as it was";
  std::filesystem::remove(path);
  EXPECT_TRUE(openSqliteRegistryStore(path).isOk()) << "a missing file is a new registry";
  std::filesystem::remove_all(dir);
}

TEST(RegistryChoice, ZooKeeperIsTheDefaultWithZk) {
  EXPECT_EQ(chooseRegistry("", true)->backend, "zookeeper");
  EXPECT_EQ(chooseRegistry("", false)->backend, "sqlite");
  auto mesosName = chooseRegistry("replicated_log", true);
  ASSERT_TRUE(mesosName);
  EXPECT_EQ(mesosName->backend, "zookeeper");
  EXPECT_NE(mesosName->note.find("replicated_log"), std::string::npos);
  EXPECT_EQ(chooseRegistry("replicated_log", false)->backend, "sqlite");
  EXPECT_EQ(chooseRegistry("in_memory", true)->backend, "in_memory");
}

TEST(RegistryChoice, LocalRegistryWithZkIsRefused) {
  auto refused = chooseRegistry("sqlite", true);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().find("--registry=sqlite cannot be used with --zk"), std::string::npos);
  EXPECT_FALSE(chooseRegistry("zookeeper", false));
  EXPECT_FALSE(chooseRegistry("leveldb", false));
}

}  // namespace
}  // namespace mezzo::store
