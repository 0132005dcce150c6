#include "agent/checkpoint.hpp"

#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace mezzo::agent {
namespace {

namespace fs = std::filesystem;

class CheckpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/mezzo-checkpoint-test-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    root = pattern;
  }
  void TearDown() override { fs::remove_all(root); }

  v1::TaskStatus update(const std::string& task, v1::TaskState state, const std::string& uuid) {
    v1::TaskStatus status;
    status.mutable_task_id()->set_value(task);
    status.set_state(state);
    status.set_uuid(uuid);
    return status;
  }

  std::string root;
};

TEST_F(CheckpointTest, EmptyWorkDirRecoversNothing) {
  auto state = Checkpointer(root).recover();
  ASSERT_TRUE(state) << state.error();
  EXPECT_FALSE(state->agent);
  EXPECT_TRUE(state->bootId.empty());
  EXPECT_TRUE(state->frameworks.empty());
}

TEST_F(CheckpointTest, RoundTripOfAgentFrameworkExecutorTaskAndUpdates) {
  Checkpointer checkpointer(root);
  v1::AgentInfo agent;
  agent.set_hostname("h");
  agent.mutable_id()->set_value("A1");
  ASSERT_TRUE(checkpointer.writeBootId("boot-1"));
  ASSERT_TRUE(checkpointer.writeAgent(agent));
  v1::FrameworkInfo framework;
  framework.mutable_id()->set_value("F1");
  framework.set_checkpoint(true);
  ASSERT_TRUE(checkpointer.writeFramework("A1", framework));
  v1::ExecutorInfo executor;
  executor.mutable_executor_id()->set_value("E1");
  ASSERT_TRUE(checkpointer.writeExecutor("A1", "F1", executor, ExecutorRun{"C1", "/sandbox", 4242, true}));
  v1::TaskInfo task;
  task.mutable_task_id()->set_value("T1");
  ASSERT_TRUE(checkpointer.writeTask("A1", "F1", "E1", task));
  ASSERT_TRUE(checkpointer.appendUpdate("A1", "F1", "E1", update("T1", v1::TASK_RUNNING, "u1")));
  ASSERT_TRUE(checkpointer.appendAcknowledgement("A1", "F1", "E1", "T1", "u1"));
  ASSERT_TRUE(checkpointer.appendUpdate("A1", "F1", "E1", update("T1", v1::TASK_KILLED, "u2")));

  auto state = checkpointer.recover();
  ASSERT_TRUE(state) << state.error();
  EXPECT_EQ(state->bootId, "boot-1");
  ASSERT_TRUE(state->agent);
  EXPECT_EQ(state->agent->id().value(), "A1");
  ASSERT_EQ(state->frameworks.size(), 1u);
  EXPECT_TRUE(state->frameworks[0].info.checkpoint());
  ASSERT_EQ(state->frameworks[0].executors.size(), 1u);
  const RecoveredExecutor& recovered = state->frameworks[0].executors[0];
  ASSERT_TRUE(recovered.run);
  EXPECT_EQ(recovered.run->pid, 4242);
  EXPECT_EQ(recovered.run->containerId, "C1");
  EXPECT_TRUE(recovered.run->commandExecutor);
  EXPECT_FALSE(recovered.terminated);
  ASSERT_EQ(recovered.tasks.size(), 1u);
  ASSERT_EQ(recovered.tasks[0].updates.size(), 2u);
  EXPECT_EQ(recovered.tasks[0].updates[1].state(), v1::TASK_KILLED);
  EXPECT_EQ(recovered.tasks[0].acknowledged, std::vector<std::string>{"u1"});

  ASSERT_TRUE(checkpointer.markExecutorTerminated("A1", "F1", "E1"));
  state = checkpointer.recover();
  ASSERT_TRUE(state);
  EXPECT_TRUE(state->frameworks[0].executors[0].terminated);
  checkpointer.removeFramework("A1", "F1");
  state = checkpointer.recover();
  ASSERT_TRUE(state);
  EXPECT_TRUE(state->frameworks.empty());
}

TEST_F(CheckpointTest, TornTailOfTheUpdateStreamIsIgnored) {
  const std::string path = root + "/task.updates";
  ASSERT_TRUE(appendRecord(path, 'U', "first"));
  ASSERT_TRUE(appendRecord(path, 'A', "second"));
  {
    std::ofstream out(path, std::ios::app | std::ios::binary);
    out << std::string("\0\0\0\x09Upart", 9);  // promises 9 bytes, has 4
  }
  auto records = readRecords(path);
  ASSERT_TRUE(records);
  ASSERT_EQ(records->size(), 2u);
  EXPECT_EQ((*records)[0], std::make_pair('U', std::string("first")));
  EXPECT_EQ((*records)[1], std::make_pair('A', std::string("second")));
}

TEST_F(CheckpointTest, AtomicWriteReplacesWholeFiles) {
  const std::string path = root + "/dir/file";
  ASSERT_TRUE(writeFileAtomically(path, "one"));
  ASSERT_TRUE(writeFileAtomically(path, "two"));
  std::ifstream in(path);
  std::string text;
  std::getline(in, text);
  EXPECT_EQ(text, "two");
  EXPECT_FALSE(fs::exists(path + ".tmp"));
}

TEST_F(CheckpointTest, CorruptFileIsAnError) {
  Checkpointer checkpointer(root);
  v1::AgentInfo agent;
  agent.set_hostname("h");
  agent.mutable_id()->set_value("A1");
  ASSERT_TRUE(checkpointer.writeAgent(agent));
  std::ofstream(checkpointer.agentDir("A1") + "/slave.info", std::ios::trunc) << "\xff\xff garbage";
  EXPECT_FALSE(checkpointer.recover());
}

// Checkpoints of earlier agent ids go; the current one and `latest` stay.
TEST_F(CheckpointTest, CheckpointsOfEarlierAgentIdsAreRemoved) {
  Checkpointer checkpointer(root);
  for (const char* id : {"OLD-S1", "OLD-S2", "NEW-S3"}) {
    v1::AgentInfo agent;
    agent.set_hostname("host");
    agent.mutable_id()->set_value(id);
    ASSERT_TRUE(checkpointer.writeAgent(agent));
  }
  EXPECT_EQ(checkpointer.removeOtherAgents("NEW-S3"), 2u);
  EXPECT_FALSE(fs::exists(checkpointer.agentDir("OLD-S1")));
  EXPECT_FALSE(fs::exists(checkpointer.agentDir("OLD-S2")));
  auto state = checkpointer.recover();
  ASSERT_TRUE(state) << state.error();
  ASSERT_TRUE(state->agent);
  EXPECT_EQ(state->agent->id().value(), "NEW-S3");
  EXPECT_EQ(checkpointer.removeOtherAgents("NEW-S3"), 0u);
}

TEST_F(CheckpointTest, BootIdIsReadable) { EXPECT_FALSE(currentBootId().empty()); }

mode_t permissions(const fs::path& path) {
  struct stat info {};
  EXPECT_EQ(::lstat(path.c_str(), &info), 0) << path;
  return info.st_mode & 07777;
}

// TaskInfos carry environments (secrets): the meta tree is the agent's alone.
TEST_F(CheckpointTest, CheckpointsArePrivateToTheAgent) {
  Checkpointer checkpointer(root);
  fs::create_directories(checkpointer.metaDir());
  fs::permissions(checkpointer.metaDir(), fs::perms(0755));  // as an older version left it
  ASSERT_TRUE(checkpointer.writeBootId("boot-1"));
  v1::TaskInfo task;
  task.mutable_task_id()->set_value("T1");
  task.mutable_command()->mutable_environment()->add_variables()->set_name("SECRET");
  ASSERT_TRUE(checkpointer.writeTask("A1", "F1", "E1", task));
  ASSERT_TRUE(checkpointer.appendUpdate("A1", "F1", "E1", update("T1", v1::TASK_RUNNING, "u1")));
  const fs::path taskDir = checkpointer.taskDir("A1", "F1", "E1", "T1");
  EXPECT_EQ(permissions(taskDir / "task.info"), 0600u);
  EXPECT_EQ(permissions(taskDir / "task.updates"), 0600u);
  EXPECT_EQ(permissions(fs::path(checkpointer.metaDir()) / "boot_id"), 0600u);
  for (fs::path dir = taskDir; dir != fs::path(root); dir = dir.parent_path()) {
    EXPECT_EQ(permissions(dir), 0700u) << dir;
  }
}

// On a full disk an append fails and leaves no partial record behind, so
// the records appended once there is room again read back intact.
TEST_F(CheckpointTest, FailedAppendOnAFullDiskLeavesTheStreamIntact) {
  const fs::path mount = fs::path(root) / "tiny";
  fs::create_directories(mount);
  if (::mount("tmpfs", mount.c_str(), "tmpfs", 0, "size=64k") != 0) {
    GTEST_SKIP() << "Cannot mount a tmpfs (needs root): " << std::strerror(errno);
  }
  const std::string stream = (mount / "task.updates").string();
  ASSERT_TRUE(appendRecord(stream, 'A', "first"));
  const std::string filler = (mount / "filler").string();
  {
    std::ofstream out(filler, std::ios::binary);
    std::string block(4096, 'x');
    while (out.write(block.data(), static_cast<std::streamsize>(block.size()))) {
    }
  }
  Status full = appendRecord(stream, 'A', std::string(16 * 1024, 'y'));
  EXPECT_FALSE(full);
  fs::remove(filler);
  ASSERT_TRUE(appendRecord(stream, 'A', "second"));
  auto records = readRecords(stream);
  ::umount(mount.c_str());
  ASSERT_TRUE(records) << records.error();
  ASSERT_EQ(records->size(), 2u);
  EXPECT_EQ((*records)[0].second, "first");
  EXPECT_EQ((*records)[1].second, "second");
}

}  // namespace
}  // namespace mezzo::agent
