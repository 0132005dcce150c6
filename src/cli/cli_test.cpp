#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>

#include "cli/agent_files.hpp"
#include "cli/command_framework.hpp"
#include "cli/local.hpp"
#include "cli/process_tree.hpp"
#include "cli/run.hpp"
#include "cli/table.hpp"

namespace mezzo::cli {
namespace {

using nlohmann::json;

TEST(TableTest, AlignsColumnsWithoutTrailingBlanks) {
  Table table({"ID", "NAME", "STATE"});
  table.addRow({"t-1", "a-long-name", "TASK_RUNNING"});
  table.addRow({"t-22", "b"});
  EXPECT_EQ(table.render(),
            "ID    NAME         STATE\n"
            "t-1   a-long-name  TASK_RUNNING\n"
            "t-22  b\n");
}

TEST(TableTest, FormatsAmounts) {
  EXPECT_EQ(formatAmount(2), "2");
  EXPECT_EQ(formatAmount(0.5), "0.5");
  EXPECT_EQ(formatAmount(0.1 + 0.2), "0.3");
  EXPECT_EQ(formatAmount(2048), "2048");
}

TEST(TableTest, RendersMasterEndpoints) {
  json tasks = json::parse(R"({"tasks":[{"id":"t1","name":"n1","state":"TASK_RUNNING","framework_id":"F-0000",
                                          "slave_id":"M-S0","resources":{"cpus":0.1}}]})");
  EXPECT_EQ(renderTasks(tasks),
            "ID  NAME  STATE         FRAMEWORK  AGENT\n"
            "t1  n1    TASK_RUNNING  F-0000     M-S0\n");
  json agents = json::parse(R"({"slaves":[{"id":"M-S0","hostname":"127.0.0.1","port":5051,
                                           "resources":{"cpus":2,"mem":2048.0},"active":true}]})");
  EXPECT_EQ(renderAgents(agents),
            "ID    HOSTNAME        CPUS  MEM   ACTIVE\n"
            "M-S0  127.0.0.1:5051  2     2048  true\n");
  json frameworks = json::parse(R"({"frameworks":[{"id":"F-0000","name":"mezzo-run","active":false,
                                                   "tasks":[{},{}]}]})");
  EXPECT_EQ(renderFrameworks(frameworks),
            "ID      NAME       ACTIVE  TASKS\n"
            "F-0000  mezzo-run  false   2\n");
  EXPECT_EQ(renderTasks(json::parse("{}")), "ID  NAME  STATE  FRAMEWORK  AGENT\n");
}

TEST(RunTest, ShellCommandQuotesOnlyWhenThereAreSeveralArguments) {
  EXPECT_EQ(shellCommand({"echo a; echo b"}), "echo a; echo b");
  EXPECT_EQ(shellCommand({"sh", "-c", "echo hi; exit 3"}), "sh -c 'echo hi; exit 3'");
  EXPECT_EQ(shellCommand({"echo", "it's", ""}), "echo 'it'\\''s' ''");
  EXPECT_EQ(shellCommand({"ls", "-l", "/tmp/a_b.c"}), "ls -l /tmp/a_b.c");
  EXPECT_EQ(shellCommand({}), "");
}

v1::TaskStatus status(v1::TaskState state, const std::string& message = "") {
  v1::TaskStatus status;
  status.mutable_task_id()->set_value("t");
  status.set_state(state);
  if (!message.empty()) status.set_message(message);
  return status;
}

TEST(RunTest, ExitCodes) {
  EXPECT_EQ(exitCodeFor(status(v1::TASK_FINISHED)), 0);
  EXPECT_EQ(exitCodeFor(status(v1::TASK_FAILED, "Command exited with status 3")), 3);
  EXPECT_EQ(exitCodeFor(status(v1::TASK_FAILED, "Command exited with status 0")), 1);
  EXPECT_EQ(exitCodeFor(status(v1::TASK_FAILED, "Command terminated with signal Killed")), 137);
  EXPECT_EQ(exitCodeFor(status(v1::TASK_FAILED, "Command terminated with signal SIGTERM")), 143);
  EXPECT_EQ(exitCodeFor(status(v1::TASK_FAILED, "something else")), 1);
  EXPECT_EQ(exitCodeFor(status(v1::TASK_KILLED)), 137);
  EXPECT_EQ(exitCodeFor(status(v1::TASK_LOST)), 1);
  EXPECT_EQ(exitCodeFor(status(v1::TASK_ERROR)), 1);
}

TEST(RunTest, DescribesUpdatesLikeMesosExecute) {
  v1::TaskStatus failed = status(v1::TASK_FAILED, "Command exited with status 3");
  failed.set_source(v1::TaskStatus::SOURCE_EXECUTOR);
  failed.set_reason(v1::TaskStatus::REASON_COMMAND_EXECUTOR_FAILED);
  EXPECT_EQ(describeUpdate(failed),
            "Received status update TASK_FAILED for task 't'\n"
            "  message: 'Command exited with status 3'\n"
            "  source: SOURCE_EXECUTOR\n"
            "  reason: REASON_COMMAND_EXECUTOR_FAILED\n");
  EXPECT_EQ(describeUpdate(status(v1::TASK_RUNNING)), "Received status update TASK_RUNNING for task 't'\n");
}

TEST(LocalTest, EachAgentGetsItsOwnPortRange) {
  EXPECT_EQ(agentResourcesFor("", 0), std::string(kDefaultAgentResources) + ";ports:[31000-31999]");
  EXPECT_EQ(agentResourcesFor("cpus:1;mem:512", 2), "cpus:1;mem:512;ports:[33000-33999]");
  EXPECT_EQ(agentResourcesFor("cpus:1;ports:[5000-5010]", 1), "cpus:1;ports:[5000-5010]");
}

TEST(CommandFrameworkTest, PicksScalarsKeepingTheOffersMetadata) {
  auto offered = Resources::parse("cpus:1;mem:100;cpus(eng):0.5;disk:10");
  ASSERT_TRUE(offered.isOk());
  Resources available = offered->withAllocationRole("eng");
  auto picked = pickResources(available, 1.2, 64);
  ASSERT_TRUE(picked.has_value());
  EXPECT_DOUBLE_EQ(picked->cpus(), 1.2);
  EXPECT_DOUBLE_EQ(picked->mem(), 64);
  EXPECT_DOUBLE_EQ(picked->disk(), 0);
  EXPECT_TRUE(available.contains(*picked));
  for (const ResourceEntry& entry : picked->entries()) EXPECT_EQ(entry.allocationRole, "eng");
  EXPECT_FALSE(pickResources(available, 2, 1).has_value());
  EXPECT_FALSE(pickResources(available, 0.1, 101).has_value());
}

TEST(AgentFilesTest, PathsEndpointsAndEncoding) {
  EXPECT_EQ(sandboxPath("F-0000", "t1", "stdout"), "/frameworks/F-0000/executors/t1/runs/latest/stdout");
  EXPECT_EQ(urlEncode("/a b/c&d=e"), "/a%20b/c%26d%3De");
  v1::Offer offer;
  offer.set_hostname("agent.example");
  EXPECT_EQ(agentEndpoint(offer).toString(), "agent.example:5051");
  offer.mutable_url()->set_scheme("http");
  offer.mutable_url()->mutable_address()->set_hostname("127.0.0.1");
  offer.mutable_url()->mutable_address()->set_port(40001);
  EXPECT_EQ(agentEndpoint(offer).toString(), "127.0.0.1:40001");
  offer.mutable_url()->mutable_address()->set_ip("10.1.2.3");
  EXPECT_EQ(agentEndpoint(offer).toString(), "10.1.2.3:40001");
}

TEST(ProcessTreeTest, FindsEveryDescendantOnce) {
  // 1 -> 10 -> {11, 12 -> 13}; 20 is elsewhere; a cycle does not loop.
  ParentMap parents = {{10, 1}, {11, 10}, {12, 10}, {13, 12}, {20, 1}, {30, 31}, {31, 30}};
  std::vector<pid_t> below = descendantsOf(10, parents);
  std::sort(below.begin(), below.end());
  EXPECT_EQ(below, (std::vector<pid_t>{11, 12, 13}));
  EXPECT_TRUE(descendantsOf(13, parents).empty());
  EXPECT_EQ(descendantsOf(30, parents), (std::vector<pid_t>{31}));
  EXPECT_EQ(readProcessParents().at(::getpid()), ::getppid());
}

TEST(RunOptionsTest, RefusesNegativeAndNonFiniteAmounts) {
  RunOptions options;
  EXPECT_TRUE(validateRunOptions(options).isOk());
  options.cpus = -0.5;
  EXPECT_EQ(validateRunOptions(options).message(), "--cpus must be a non-negative number, not -0.5");
  options.cpus = 1;
  options.mem = std::nan("");
  EXPECT_EQ(validateRunOptions(options).code(), StatusCode::kInvalidArgument);
  options.mem = 0;
  EXPECT_TRUE(validateRunOptions(options).isOk());
  options.cpus = 0;
  EXPECT_FALSE(validateRunOptions(options).isOk());
  options.cpus = 1;
  options.timeoutSeconds = -1;
  EXPECT_NE(validateRunOptions(options).message().find("--timeout"), std::string::npos);
}

}  // namespace
}  // namespace mezzo::cli
