#include "mezzo/client/calls.hpp"

#include <gtest/gtest.h>

#include "mezzo/common/json_proto.hpp"

namespace mezzo::client {
namespace {

using Call = v1::scheduler::Call;

v1::FrameworkID frameworkId(const std::string& value) {
  v1::FrameworkID id;
  id.set_value(value);
  return id;
}

TEST(CallsTest, SubscribeSetsBothFrameworkIdsOnResubscription) {
  v1::FrameworkInfo info;
  info.set_user("alice");
  info.set_name("demo");
  Call first = calls::subscribe(info, std::nullopt);
  EXPECT_EQ(first.type(), Call::SUBSCRIBE);
  EXPECT_FALSE(first.has_framework_id());
  EXPECT_FALSE(first.subscribe().framework_info().has_id());

  Call again = calls::subscribe(info, frameworkId("M-0001"));
  EXPECT_EQ(again.framework_id().value(), "M-0001");
  EXPECT_EQ(again.subscribe().framework_info().id().value(), "M-0001");
}

TEST(CallsTest, LaunchFillsAgentIdAndFilters) {
  v1::Offer offer;
  offer.mutable_id()->set_value("M-O7");
  offer.mutable_framework_id()->set_value("M-0000");
  offer.mutable_agent_id()->set_value("M-S3");
  offer.set_hostname("h");
  v1::TaskInfo task;
  task.set_name("t");
  task.mutable_task_id()->set_value("t");
  task.mutable_command()->set_value("true");
  v1::Filters filters;
  filters.set_refuse_seconds(30);
  Call call = calls::launch(offer, {task}, filters);
  EXPECT_EQ(call.type(), Call::ACCEPT);
  ASSERT_EQ(call.accept().offer_ids_size(), 1);
  EXPECT_EQ(call.accept().offer_ids(0).value(), "M-O7");
  ASSERT_EQ(call.accept().operations_size(), 1);
  const auto& operation = call.accept().operations(0);
  EXPECT_EQ(operation.type(), v1::Offer::Operation::LAUNCH);
  EXPECT_EQ(operation.launch().task_infos(0).agent_id().value(), "M-S3");
  EXPECT_DOUBLE_EQ(call.accept().filters().refuse_seconds(), 30);
  EXPECT_TRUE(call.IsInitialized());
}

TEST(CallsTest, AcknowledgeOnlyWithUuid) {
  v1::TaskStatus status;
  status.mutable_task_id()->set_value("t");
  status.set_state(v1::TASK_RUNNING);
  status.mutable_agent_id()->set_value("M-S0");
  EXPECT_FALSE(calls::acknowledge(status).has_value());
  status.set_uuid(std::string(16, '\x01'));
  auto call = calls::acknowledge(status);
  ASSERT_TRUE(call.has_value());
  EXPECT_EQ(call->acknowledge().uuid(), status.uuid());
  EXPECT_EQ(call->acknowledge().task_id().value(), "t");
  EXPECT_EQ(call->acknowledge().agent_id().value(), "M-S0");
}

TEST(CallsTest, JsonShapesMatchTheWire) {
  auto json = messageToJson(calls::reconcile());
  EXPECT_EQ(json["type"], "RECONCILE");
  EXPECT_TRUE(json.contains("reconcile"));
  EXPECT_EQ(messageToJson(calls::revive({"eng"}))["revive"]["roles"][0], "eng");
  EXPECT_EQ(messageToJson(calls::suppress())["type"], "SUPPRESS");
  v1::TaskID task;
  task.set_value("t1");
  EXPECT_EQ(messageToJson(calls::kill(task))["kill"]["task_id"]["value"], "t1");
  EXPECT_EQ(messageToJson(calls::teardown())["type"], "TEARDOWN");
  v1::AgentID agent;
  agent.set_value("S");
  v1::ExecutorID executor;
  executor.set_value("E");
  EXPECT_EQ(messageToJson(calls::message(agent, executor, "hi"))["message"]["data"], "aGk=");
}

}  // namespace
}  // namespace mezzo::client
