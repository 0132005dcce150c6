#include "executor/executor_env.hpp"

#include <gtest/gtest.h>

#include <map>

namespace mezzo::executor {
namespace {

using namespace std::chrono_literals;

ExecutorEnvironment::Getter getter(std::map<std::string, std::string> values) {
  return [values](const std::string& name) -> std::optional<std::string> {
    auto it = values.find(name);
    if (it == values.end()) return std::nullopt;
    return it->second;
  };
}

TEST(ExecutorEnvironmentTest, ParsesTheAgentsVariables) {
  auto env = ExecutorEnvironment::parse(getter({{"MESOS_FRAMEWORK_ID", "F-0000"},
                                                {"MESOS_EXECUTOR_ID", "task-1"},
                                                {"MESOS_AGENT_ENDPOINT", "127.0.0.1:5051"},
                                                {"MESOS_SANDBOX", "/sandbox"},
                                                {"MESOS_CHECKPOINT", "1"},
                                                {"MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD", "7secs"},
                                                {"MESOS_RECOVERY_TIMEOUT", "1mins"}}));
  ASSERT_TRUE(env) << env.error();
  EXPECT_EQ(env->frameworkId, "F-0000");
  EXPECT_EQ(env->executorId, "task-1");
  EXPECT_EQ(env->agent.host, "127.0.0.1");
  EXPECT_EQ(env->agent.port, 5051);
  EXPECT_EQ(env->sandbox, "/sandbox");
  EXPECT_TRUE(env->checkpoint);
  EXPECT_EQ(env->shutdownGracePeriod, 7s);
  EXPECT_EQ(env->reconnectWindow(), 60s);
}

TEST(ExecutorEnvironmentTest, DefaultsAndErrors) {
  auto env = ExecutorEnvironment::parse(getter(
      {{"MESOS_FRAMEWORK_ID", "F"}, {"MESOS_EXECUTOR_ID", "E"}, {"MESOS_AGENT_ENDPOINT", "localhost:1"}}));
  ASSERT_TRUE(env) << env.error();
  EXPECT_FALSE(env->checkpoint);
  EXPECT_EQ(env->shutdownGracePeriod, 5s);
  EXPECT_LT(env->reconnectWindow(), 1min);

  EXPECT_FALSE(ExecutorEnvironment::parse(getter({{"MESOS_EXECUTOR_ID", "E"}, {"MESOS_AGENT_ENDPOINT", "h:1"}})));
  EXPECT_FALSE(ExecutorEnvironment::parse(getter({{"MESOS_FRAMEWORK_ID", "F"}, {"MESOS_EXECUTOR_ID", "E"}})));
  EXPECT_FALSE(ExecutorEnvironment::parse(
      getter({{"MESOS_FRAMEWORK_ID", "F"}, {"MESOS_EXECUTOR_ID", "E"}, {"MESOS_AGENT_ENDPOINT", "nohostport"}})));
  EXPECT_FALSE(ExecutorEnvironment::parse(getter({{"MESOS_FRAMEWORK_ID", "F"},
                                                  {"MESOS_EXECUTOR_ID", "E"},
                                                  {"MESOS_AGENT_ENDPOINT", "h:1"},
                                                  {"MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD", "soon"}})));
}

}  // namespace
}  // namespace mezzo::executor
