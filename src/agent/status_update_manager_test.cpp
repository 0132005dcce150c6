#include "agent/status_update_manager.hpp"

#include <gtest/gtest.h>

namespace mezzo::agent {
namespace {

using namespace std::chrono_literals;

const FrameworkId kFramework("fw-1");

v1::TaskStatus update(const std::string& task, v1::TaskState state, const std::string& uuid) {
  v1::TaskStatus status;
  status.mutable_task_id()->set_value(task);
  status.set_state(state);
  status.set_uuid(uuid);
  return status;
}

std::vector<std::string> uuids(const std::vector<OutgoingUpdate>& updates) {
  std::vector<std::string> out;
  for (const auto& u : updates) out.push_back(u.status.uuid());
  return out;
}

class StatusUpdateManagerTest : public ::testing::Test {
 protected:
  ManualClock clock;
  StatusUpdateManager manager{StatusUpdateOptions{10s, 40s}};
};

TEST_F(StatusUpdateManagerTest, SendsInOrderOneOutstandingPerTask) {
  manager.add(kFramework, update("t1", v1::TASK_STARTING, "a"));
  manager.add(kFramework, update("t1", v1::TASK_RUNNING, "b"));
  manager.add(kFramework, update("t1", v1::TASK_FINISHED, "c"));
  EXPECT_EQ(uuids(manager.takeDue(clock.now())), std::vector<std::string>{"a"});
  // Nothing more until "a" is acknowledged or its retry is due.
  EXPECT_TRUE(manager.takeDue(clock.now()).empty());
  clock.advance(5s);
  EXPECT_TRUE(manager.takeDue(clock.now()).empty());

  EXPECT_EQ(manager.acknowledge(kFramework, TaskId("t1"), "a"), StatusUpdateManager::AckResult::kAcknowledged);
  EXPECT_EQ(uuids(manager.takeDue(clock.now())), std::vector<std::string>{"b"});
  EXPECT_EQ(manager.acknowledge(kFramework, TaskId("t1"), "b"), StatusUpdateManager::AckResult::kAcknowledged);
  EXPECT_EQ(uuids(manager.takeDue(clock.now())), std::vector<std::string>{"c"});
  EXPECT_EQ(manager.acknowledge(kFramework, TaskId("t1"), "c"), StatusUpdateManager::AckResult::kStreamFinished);
  EXPECT_EQ(manager.pendingCount(), 0u);
  EXPECT_FALSE(manager.hasPending(kFramework));
}

TEST_F(StatusUpdateManagerTest, TasksAreIndependentStreams) {
  manager.add(kFramework, update("t1", v1::TASK_RUNNING, "a"));
  manager.add(kFramework, update("t2", v1::TASK_RUNNING, "b"));
  manager.add(FrameworkId("fw-2"), update("t1", v1::TASK_RUNNING, "c"));
  auto due = uuids(manager.takeDue(clock.now()));
  std::sort(due.begin(), due.end());
  EXPECT_EQ(due, (std::vector<std::string>{"a", "b", "c"}));
}

TEST_F(StatusUpdateManagerTest, RetriesWithDoublingBackoffUpToTheMaximum) {
  manager.add(kFramework, update("t1", v1::TASK_RUNNING, "a"));
  ASSERT_EQ(manager.takeDue(clock.now()).size(), 1u);
  EXPECT_EQ(manager.nextRetry(), clock.now() + 10s);

  clock.advance(9s);
  EXPECT_TRUE(manager.takeDue(clock.now()).empty());
  clock.advance(1s);  // t = 10 s: first retry, next wait 20 s
  EXPECT_EQ(manager.takeDue(clock.now()).size(), 1u);
  EXPECT_EQ(manager.nextRetry(), clock.now() + 20s);
  clock.advance(20s);  // t = 30 s: second retry, next wait 40 s (the maximum)
  EXPECT_EQ(manager.takeDue(clock.now()).size(), 1u);
  EXPECT_EQ(manager.nextRetry(), clock.now() + 40s);
  clock.advance(40s);
  EXPECT_EQ(manager.takeDue(clock.now()).size(), 1u);
  EXPECT_EQ(manager.nextRetry(), clock.now() + 40s);  // capped
}

TEST_F(StatusUpdateManagerTest, AcknowledgementResetsBackoffForTheNextUpdate) {
  manager.add(kFramework, update("t1", v1::TASK_RUNNING, "a"));
  manager.add(kFramework, update("t1", v1::TASK_FAILED, "b"));
  manager.takeDue(clock.now());
  clock.advance(10s);
  manager.takeDue(clock.now());  // retry; backoff now 20 s
  manager.acknowledge(kFramework, TaskId("t1"), "a");
  EXPECT_FALSE(manager.nextRetry().has_value());
  EXPECT_EQ(uuids(manager.takeDue(clock.now())), std::vector<std::string>{"b"});
  EXPECT_EQ(manager.nextRetry(), clock.now() + 10s);
}

TEST_F(StatusUpdateManagerTest, AcknowledgementOfUnknownOrNonHeadUuidIsIgnored) {
  manager.add(kFramework, update("t1", v1::TASK_RUNNING, "a"));
  manager.add(kFramework, update("t1", v1::TASK_FINISHED, "b"));
  manager.takeDue(clock.now());
  EXPECT_EQ(manager.acknowledge(kFramework, TaskId("t1"), "zzz"), StatusUpdateManager::AckResult::kIgnored);
  EXPECT_EQ(manager.acknowledge(kFramework, TaskId("t1"), "b"), StatusUpdateManager::AckResult::kIgnored);
  EXPECT_EQ(manager.acknowledge(kFramework, TaskId("nope"), "a"), StatusUpdateManager::AckResult::kIgnored);
  EXPECT_EQ(manager.acknowledge(FrameworkId("other"), TaskId("t1"), "a"), StatusUpdateManager::AckResult::kIgnored);
  EXPECT_EQ(manager.pendingCount(), 2u);
  EXPECT_EQ(manager.head(kFramework, TaskId("t1"))->uuid(), "a");
}

TEST_F(StatusUpdateManagerTest, DuplicatesAreDropped) {
  EXPECT_EQ(manager.add(kFramework, update("t1", v1::TASK_RUNNING, "a")), StatusUpdateManager::AddResult::kAdded);
  EXPECT_EQ(manager.add(kFramework, update("t1", v1::TASK_RUNNING, "a")), StatusUpdateManager::AddResult::kDuplicate);
  EXPECT_EQ(manager.pendingCount(), 1u);
  manager.takeDue(clock.now());
  manager.acknowledge(kFramework, TaskId("t1"), "a");
  // Re-sent by a re-subscribing executor after the ack: still a duplicate.
  EXPECT_EQ(manager.add(kFramework, update("t1", v1::TASK_RUNNING, "a")), StatusUpdateManager::AddResult::kDuplicate);
  EXPECT_EQ(manager.pendingCount(), 0u);
}

TEST_F(StatusUpdateManagerTest, ResetInFlightResendsHeadsAtOnce) {
  manager.add(kFramework, update("t1", v1::TASK_RUNNING, "a"));
  manager.takeDue(clock.now());
  EXPECT_TRUE(manager.takeDue(clock.now()).empty());
  manager.resetInFlight();  // reconnected to the master
  EXPECT_EQ(uuids(manager.takeDue(clock.now())), std::vector<std::string>{"a"});
  EXPECT_EQ(manager.nextRetry(), clock.now() + 10s);
}

TEST_F(StatusUpdateManagerTest, RemoveFrameworkDropsItsStreams) {
  manager.add(kFramework, update("t1", v1::TASK_RUNNING, "a"));
  manager.add(FrameworkId("fw-2"), update("t1", v1::TASK_RUNNING, "b"));
  manager.removeFramework(kFramework);
  EXPECT_FALSE(manager.hasPending(kFramework));
  EXPECT_TRUE(manager.hasPending(FrameworkId("fw-2"), TaskId("t1")));
  EXPECT_EQ(uuids(manager.takeDue(clock.now())), std::vector<std::string>{"b"});
}

// Many streams at different stages: each takeDue() hands out exactly the
// heads that are due, in stream order, and nextRetry() is the earliest.
TEST_F(StatusUpdateManagerTest, ManyStreamsHandOutExactlyWhatIsDue) {
  for (int i = 0; i < 100; ++i) {
    manager.add(kFramework, update("t" + std::to_string(100 + i), v1::TASK_RUNNING, "r" + std::to_string(i)));
  }
  EXPECT_EQ(manager.takeDue(clock.now()).size(), 100u);
  clock.advance(3s);
  // Half are acknowledged; their finished updates are due at once, the rest are not due yet.
  for (int i = 0; i < 50; ++i) {
    const std::string task = "t" + std::to_string(100 + i);
    manager.add(kFramework, update(task, v1::TASK_FINISHED, "f" + std::to_string(i)));
    ASSERT_EQ(manager.acknowledge(kFramework, TaskId(task), "r" + std::to_string(i)),
              StatusUpdateManager::AckResult::kAcknowledged);
  }
  auto due = manager.takeDue(clock.now());
  ASSERT_EQ(due.size(), 50u);
  EXPECT_EQ(due.front().status.uuid(), "f0");
  EXPECT_EQ(due.back().status.uuid(), "f49");
  EXPECT_EQ(manager.nextRetry(), clock.now() + 7s);  // the unacknowledged RUNNINGs, sent 3 s ago
  clock.advance(7s);
  due = manager.takeDue(clock.now());
  ASSERT_EQ(due.size(), 50u);  // retries of the RUNNINGs
  EXPECT_EQ(due.front().status.uuid(), "r50");
  manager.removeFramework(kFramework);
  EXPECT_FALSE(manager.nextRetry().has_value());
  EXPECT_TRUE(manager.takeDue(clock.now() + 1h).empty());
}

TEST_F(StatusUpdateManagerTest, NonTerminalAckKeepsStreamOpen) {
  manager.add(kFramework, update("t1", v1::TASK_RUNNING, "a"));
  manager.takeDue(clock.now());
  EXPECT_EQ(manager.acknowledge(kFramework, TaskId("t1"), "a"), StatusUpdateManager::AckResult::kAcknowledged);
  EXPECT_FALSE(manager.hasPending(kFramework, TaskId("t1")));
  manager.add(kFramework, update("t1", v1::TASK_KILLED, "b"));
  EXPECT_EQ(uuids(manager.takeDue(clock.now())), std::vector<std::string>{"b"});
}

}  // namespace
}  // namespace mezzo::agent
