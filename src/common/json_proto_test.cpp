#include "mezzo/common/json_proto.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "mezzo/v1/mesos.pb.h"
#include "mezzo/v1/scheduler/scheduler.pb.h"

namespace mezzo {
namespace {

using nlohmann::json;

template <typename Message>
Message parseOk(std::string_view text) {
  Message message;
  Status status = parseJsonMessage(text, &message);
  EXPECT_TRUE(status.isOk()) << text << ": " << status.message();
  return message;
}

template <typename Message>
std::string parseError(std::string_view text) {
  Message message;
  Status status = parseJsonMessage(text, &message);
  EXPECT_FALSE(status.isOk()) << text;
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  return status.message();
}

// ------------------------------------------------------------------ writing

TEST(JsonProtoWrite, DefaultsAreWrittenUnlessDeprecated) {
  v1::FrameworkInfo info;
  info.set_user("alice");
  info.set_name("spark");
  json out = messageToJson(info);
  EXPECT_EQ(out, (json{{"user", "alice"}, {"name", "spark"}, {"failover_timeout", 0.0}, {"checkpoint", false}}));
  EXPECT_FALSE(out.contains("role"));   // deprecated, default "*"
  EXPECT_FALSE(out.contains("roles"));  // empty repeated
  EXPECT_FALSE(out.contains("id"));     // unset message

  EXPECT_EQ(messageToJson(v1::Filters())["refuse_seconds"], 5.0);
  EXPECT_EQ(messageToJson(v1::CommandInfo())["shell"], true);
}

TEST(JsonProtoWrite, EnumsBytesAndNestedMessages) {
  v1::TaskStatus status;
  status.mutable_task_id()->set_value("t1");
  status.set_state(v1::TASK_RUNNING);
  status.set_source(v1::TaskStatus::SOURCE_EXECUTOR);
  std::string uuid("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\xff", 16);
  status.set_uuid(uuid);
  json out = messageToJson(status);
  EXPECT_EQ(out["task_id"], (json{{"value", "t1"}}));
  EXPECT_EQ(out["state"], "TASK_RUNNING");
  EXPECT_EQ(out["source"], "SOURCE_EXECUTOR");
  EXPECT_EQ(out["uuid"], "AAECAwQFBgcICQoLDA0O/w==");
  EXPECT_FALSE(out.contains("reason"));

  v1::TaskStatus back;
  ASSERT_TRUE(jsonToMessage(out, &back).isOk());
  EXPECT_EQ(back.uuid(), uuid);
  EXPECT_EQ(back.SerializeAsString(), status.SerializeAsString());
}

TEST(JsonProtoWrite, Int64AsNumbersAndSpecialDoubles) {
  v1::DurationInfo duration;
  duration.set_nanoseconds(1234567890123456789);
  json out = messageToJson(duration);
  ASSERT_TRUE(out["nanoseconds"].is_number_integer());
  EXPECT_EQ(out["nanoseconds"].get<int64_t>(), 1234567890123456789);
  EXPECT_EQ(messageToJsonString(duration), R"({"nanoseconds":1234567890123456789})");

  v1::FrameworkInfo info;
  info.set_user("u");
  info.set_name("n");
  info.set_failover_timeout(std::numeric_limits<double>::infinity());
  EXPECT_EQ(messageToJson(info)["failover_timeout"], "Infinity");
  info.set_failover_timeout(-std::numeric_limits<double>::infinity());
  EXPECT_EQ(messageToJson(info)["failover_timeout"], "-Infinity");
}

TEST(JsonProtoWrite, RepeatedAndMaps) {
  v1::TaskInfo task;
  task.set_name("t");
  task.mutable_task_id()->set_value("t1");
  task.mutable_agent_id()->set_value("a1");
  (*task.mutable_limits())["cpus"].set_value(2);
  (*task.mutable_limits())["mem"].set_value(std::numeric_limits<double>::infinity());
  v1::Label* label = task.mutable_labels()->add_labels();
  label->set_key("k");
  label->set_value("v");
  json out = messageToJson(task);
  EXPECT_EQ(out["limits"], (json{{"cpus", {{"value", 2.0}}}, {"mem", {{"value", "Infinity"}}}}));
  EXPECT_EQ(out["labels"], (json{{"labels", json::array({{{"key", "k"}, {"value", "v"}}})}}));
  EXPECT_FALSE(out.contains("resources"));
}

TEST(JsonProtoWrite, CompactSingleLine) {
  v1::scheduler::Call call;
  call.set_type(v1::scheduler::Call::DECLINE);
  call.mutable_framework_id()->set_value("line1\nline2");
  std::string text = messageToJsonString(call);
  EXPECT_EQ(text, R"({"framework_id":{"value":"line1\nline2"},"type":"DECLINE"})");
  EXPECT_EQ(text.find('\n'), std::string::npos);
  // Invalid UTF-8 is replaced rather than thrown.
  call.mutable_framework_id()->set_value("bad\xff");
  EXPECT_NO_THROW(messageToJsonString(call));
}

// ------------------------------------------------------------------ reading

TEST(JsonProtoRead, SubscribeCall) {
  auto call = parseOk<v1::scheduler::Call>(R"({
    "type": "SUBSCRIBE",
    "subscribe": {"framework_info": {"user": "alice", "name": "spark", "roles": ["eng", "ops"],
                                     "capabilities": [{"type": "MULTI_ROLE"}], "failover_timeout": 3600}}
  })");
  EXPECT_EQ(call.type(), v1::scheduler::Call::SUBSCRIBE);
  const v1::FrameworkInfo& info = call.subscribe().framework_info();
  EXPECT_EQ(info.user(), "alice");
  ASSERT_EQ(info.roles_size(), 2);
  EXPECT_EQ(info.roles(1), "ops");
  EXPECT_EQ(info.capabilities(0).type(), v1::FrameworkInfo::Capability::MULTI_ROLE);
  EXPECT_EQ(info.failover_timeout(), 3600);
}

TEST(JsonProtoRead, UnknownKeysAndNullsAreIgnored) {
  auto call = parseOk<v1::scheduler::Call>(
      R"({"type":"REVIVE","role":"eng","framework_id":null,"revive":{"roles":["a",null,"b"]},"x":{"y":[1]}})");
  EXPECT_EQ(call.type(), v1::scheduler::Call::REVIVE);
  EXPECT_FALSE(call.has_framework_id());
  ASSERT_EQ(call.revive().roles_size(), 2);
  EXPECT_EQ(call.revive().roles(1), "b");
}

TEST(JsonProtoRead, MissingRequiredFields) {
  std::string error =
      parseError<v1::scheduler::Call>(R"({"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"u"}}})");
  EXPECT_NE(error.find("Missing required fields"), std::string::npos) << error;
  EXPECT_NE(error.find("subscribe.framework_info.name"), std::string::npos) << error;
  EXPECT_NE(parseError<v1::TaskID>("{}").find("Missing required fields: value"), std::string::npos);
}

TEST(JsonProtoRead, Enums) {
  // Unknown names on optional enums are dropped; numbers are accepted too.
  EXPECT_FALSE(parseOk<v1::scheduler::Call>(R"({"type":"BOGUS"})").has_type());
  EXPECT_EQ(parseOk<v1::scheduler::Call>(R"({"type":4})").type(), v1::scheduler::Call::DECLINE);
  auto info = parseOk<v1::FrameworkInfo>(
      R"({"user":"u","name":"n","capabilities":[{"type":"NOPE"},{"type":"GPU_RESOURCES"}]})");
  ASSERT_EQ(info.capabilities_size(), 2);
  EXPECT_FALSE(info.capabilities(0).has_type());
  EXPECT_EQ(info.capabilities(1).type(), v1::FrameworkInfo::Capability::GPU_RESOURCES);
  // On a required enum an unknown name is an error.
  std::string error = parseError<v1::TaskStatus>(R"({"task_id":{"value":"t"},"state":"TASK_BOGUS"})");
  EXPECT_NE(error.find("Unknown enum value"), std::string::npos) << error;
  EXPECT_NE(parseError<v1::scheduler::Call>(R"({"type":true})").find("'type'"), std::string::npos);
}

TEST(JsonProtoRead, Doubles) {
  auto read = [](const std::string& value) {
    return parseOk<v1::FrameworkInfo>(R"({"user":"u","name":"n","failover_timeout":)" + value + "}")
        .failover_timeout();
  };
  EXPECT_EQ(read("1.5"), 1.5);
  EXPECT_EQ(read("7"), 7);
  EXPECT_EQ(read("\"2.25\""), 2.25);
  EXPECT_EQ(read("\"Infinity\""), std::numeric_limits<double>::infinity());
  EXPECT_EQ(read("\"-Infinity\""), -std::numeric_limits<double>::infinity());
  EXPECT_TRUE(std::isnan(read("\"NaN\"")));
  std::string error = parseError<v1::FrameworkInfo>(R"({"user":"u","name":"n","failover_timeout":"soon"})");
  EXPECT_NE(error.find("failover_timeout"), std::string::npos) << error;
  parseError<v1::FrameworkInfo>(R"({"user":"u","name":"n","failover_timeout":"1.5x"})");
}

TEST(JsonProtoRead, Integers) {
  EXPECT_EQ(parseOk<v1::DurationInfo>(R"({"nanoseconds":"123"})").nanoseconds(), 123);
  EXPECT_EQ(parseOk<v1::DurationInfo>(R"({"nanoseconds":-5})").nanoseconds(), -5);
  EXPECT_EQ(parseOk<v1::DurationInfo>(R"({"nanoseconds":5.0})").nanoseconds(), 5);
  EXPECT_EQ(parseOk<v1::DurationInfo>(R"({"nanoseconds":9223372036854775807})").nanoseconds(),
            std::numeric_limits<int64_t>::max());
  EXPECT_EQ(parseOk<v1::DurationInfo>(R"({"nanoseconds":-9223372036854775808})").nanoseconds(),
            std::numeric_limits<int64_t>::min());
  // The full uint64 range (a port range may end at the maximum).
  auto range = parseOk<v1::Value::Range>(R"({"begin":"0","end":18446744073709551615})");
  EXPECT_EQ(range.end(), std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(messageToJson(range)["end"].get<uint64_t>(), std::numeric_limits<uint64_t>::max());

  for (std::string bad : {R"({"nanoseconds":5.5})", R"({"nanoseconds":"5.5"})", R"({"nanoseconds":"x"})",
                          R"({"nanoseconds":""})", R"({"nanoseconds":9223372036854775808})",
                          R"({"nanoseconds":9223372036854775808.0})", R"({"nanoseconds":1e300})",
                          R"({"nanoseconds":true})"}) {
    std::string error = parseError<v1::DurationInfo>(bad);
    EXPECT_NE(error.find("nanoseconds"), std::string::npos) << bad << " -> " << error;
  }
  for (std::string bad :
       {R"({"begin":-1,"end":2})", R"({"begin":"-1","end":2})", R"({"begin":1,"end":1.8446744073709552e19})"}) {
    parseError<v1::Value::Range>(bad);
  }
  // uint32 bounds.
  EXPECT_EQ(parseOk<v1::MasterInfo>(R"({"id":"m","ip":4294967295,"port":5050})").ip(), 4294967295u);
  parseError<v1::MasterInfo>(R"({"id":"m","ip":4294967296,"port":5050})");
}

TEST(JsonProtoRead, BoolsStringsAndBytes) {
  EXPECT_TRUE(parseOk<v1::FrameworkInfo>(R"({"user":"u","name":"n","checkpoint":"true"})").checkpoint());
  EXPECT_FALSE(parseOk<v1::FrameworkInfo>(R"({"user":"u","name":"n","checkpoint":"false"})").checkpoint());
  parseError<v1::FrameworkInfo>(R"({"user":"u","name":"n","checkpoint":"yes"})");
  parseError<v1::FrameworkInfo>(R"({"user":"u","name":"n","checkpoint":1})");
  std::string error = parseError<v1::FrameworkInfo>(R"({"user":5,"name":"n"})");
  EXPECT_NE(error.find("Not expecting a JSON number for field 'user'"), std::string::npos) << error;

  auto status = parseOk<v1::TaskStatus>(R"({"task_id":{"value":"t"},"state":"TASK_FAILED","data":"aGVsbG8="})");
  EXPECT_EQ(status.data(), "hello");
  error = parseError<v1::TaskStatus>(R"({"task_id":{"value":"t"},"state":"TASK_FAILED","data":"aGVsbG8"})");
  EXPECT_NE(error.find("base64"), std::string::npos) << error;
}

TEST(JsonProtoRead, WrongShapes) {
  // Repeated field given a scalar, message field given a string, top level not an object.
  EXPECT_NE(parseError<v1::FrameworkInfo>(R"({"user":"u","name":"n","roles":"eng"})").find("'roles'"),
            std::string::npos);
  EXPECT_NE(parseError<v1::FrameworkInfo>(R"({"user":"u","name":"n","id":"abc"})").find("'id'"), std::string::npos);
  EXPECT_NE(parseError<v1::FrameworkInfo>("[1,2]").find("Expecting a JSON object"), std::string::npos);
  EXPECT_NE(parseError<v1::FrameworkInfo>("{").find("invalid JSON"), std::string::npos);
  EXPECT_NE(parseError<v1::FrameworkInfo>(R"({"user":"u","name":"n","roles":[1]})").find("'roles'"),
            std::string::npos);
}

TEST(JsonProtoRead, Maps) {
  auto task = parseOk<v1::TaskInfo>(R"({"name":"t","task_id":{"value":"t1"},"agent_id":{"value":"a1"},
                                        "limits":{"cpus":{"value":2},"mem":{"value":"Infinity"},"gpus":null}})");
  ASSERT_EQ(task.limits().size(), 2u);
  EXPECT_EQ(task.limits().at("cpus").value(), 2);
  EXPECT_EQ(task.limits().at("mem").value(), std::numeric_limits<double>::infinity());
  // The documentation erratum form: a map value that is not a Scalar object.
  parseError<v1::TaskInfo>(R"({"name":"t","task_id":{"value":"t1"},"agent_id":{"value":"a1"},
                               "limits":{"cpus":"Infinity"}})");
  parseError<v1::TaskInfo>(R"({"name":"t","task_id":{"value":"t1"},"agent_id":{"value":"a1"},"limits":[]})");
  // Map values are messages whose required fields are checked too.
  std::string error = parseError<v1::TaskInfo>(
      R"({"name":"t","task_id":{"value":"t1"},"agent_id":{"value":"a1"},"limits":{"cpus":{}}})");
  EXPECT_NE(error.find("Missing required fields"), std::string::npos) << error;
}

TEST(JsonProtoRead, JsonToMessageClearsFirst) {
  v1::FrameworkInfo info;
  info.set_hostname("stale");
  info.add_roles("old");
  ASSERT_TRUE(jsonToMessage(json{{"user", "u"}, {"name", "n"}, {"roles", json::array({"new"})}}, &info).isOk());
  EXPECT_FALSE(info.has_hostname());
  ASSERT_EQ(info.roles_size(), 1);
  EXPECT_EQ(info.roles(0), "new");
}

TEST(JsonProtoRead, RoundTripOfAWholeCall) {
  auto call = parseOk<v1::scheduler::Call>(R"({
    "framework_id": {"value": "fw-0001"}, "type": "ACCEPT",
    "accept": {"offer_ids": [{"value": "o1"}], "filters": {"refuse_seconds": 1},
               "operations": [{"type": "LAUNCH", "launch": {"task_infos": [{
                 "name": "t", "task_id": {"value": "t1"}, "agent_id": {"value": "a1"},
                 "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.5},
                                "allocation_info": {"role": "eng"}}],
                 "command": {"value": "sleep 1"}}]}}]}
  })");
  v1::scheduler::Call again;
  ASSERT_TRUE(parseJsonMessage(messageToJsonString(call), &again).isOk());
  // Compared as JSON: written defaults (`shell: true`) come back explicitly set.
  EXPECT_EQ(messageToJson(again), messageToJson(call));
  EXPECT_TRUE(again.accept().operations(0).launch().task_infos(0).command().has_shell());
  const v1::TaskInfo& task = call.accept().operations(0).launch().task_infos(0);
  EXPECT_EQ(task.resources(0).allocation_info().role(), "eng");
  EXPECT_EQ(task.command().value(), "sleep 1");
}

// ------------------------------------------------------------------ base64

TEST(JsonProtoBase64, EncodeDecode) {
  EXPECT_EQ(base64Encode(""), "");
  EXPECT_EQ(base64Encode("f"), "Zg==");
  EXPECT_EQ(base64Encode("fo"), "Zm8=");
  EXPECT_EQ(base64Encode("foo"), "Zm9v");
  EXPECT_EQ(base64Encode("foobar"), "Zm9vYmFy");
  std::string binary("\x00\xff\xfe\x7f", 4);
  Result<std::string> decoded = base64Decode(base64Encode(binary));
  ASSERT_TRUE(decoded.isOk());
  EXPECT_EQ(*decoded, binary);
  EXPECT_EQ(*base64Decode("Zm8="), "fo");
  EXPECT_EQ(*base64Decode("Zg=="), "f");
  EXPECT_EQ(*base64Decode("Zm9vYmFy"), "foobar");
  for (std::string_view bad : {"Z===", "====", "Zm9v====", "Zm8=Zm8=", "Zg=a"}) {
    EXPECT_FALSE(base64Decode(bad).isOk()) << bad;
  }
  EXPECT_EQ(*base64Decode(""), "");
  EXPECT_FALSE(base64Decode("Zm8").isOk());
  EXPECT_FALSE(base64Decode("Zm*=").isOk());
  EXPECT_FALSE(base64Decode("Zm9v!!!!").isOk());
}

// ------------------------------------------------------------------ nesting

// ContainerID nested `levels` deep through `parent` (the outermost is level 1).
std::string nestedContainerId(int levels) {
  std::string text;
  for (int i = 1; i < levels; ++i) text += R"({"value":"c","parent":)";
  text += R"({"value":"c"})";
  text.append(static_cast<size_t>(levels - 1), '}');
  return text;
}

TEST(JsonProtoRead, NestingUpToProtobufsLimitIsAccepted) {
  v1::ContainerID id = parseOk<v1::ContainerID>(nestedContainerId(100));
  int depth = 1;
  for (const v1::ContainerID* at = &id; at->has_parent(); at = &at->parent()) ++depth;
  EXPECT_EQ(depth, 100);
}

// A deep recursive message used to overflow the daemon's stack (the decoder
// and the message's destructor recurse once per level): it is a 400 now.
TEST(JsonProtoRead, NestingBeyondTheLimitIsRejectedWithoutRecursingIntoIt) {
  EXPECT_NE(parseError<v1::ContainerID>(nestedContainerId(101)).find("nesting exceeds the limit of 100"),
            std::string::npos);
  EXPECT_NE(parseError<v1::ContainerID>(nestedContainerId(300000)).find("nesting exceeds the limit of 100"),
            std::string::npos);
}

// nlohmann's parser and destructor are iterative: a deep JSON value that is
// not a message is a type error, not a crash.
TEST(JsonProtoRead, DeeplyNestedArraysAreATypeError) {
  std::string text = R"({"value":"c","parent":)" + std::string(500000, '[') + std::string(500000, ']') + "}";
  EXPECT_NE(parseError<v1::ContainerID>(text).find("Not expecting a JSON array for field 'parent'"),
            std::string::npos);
}

}  // namespace
}  // namespace mezzo
