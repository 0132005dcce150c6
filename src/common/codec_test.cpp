#include "mezzo/common/codec.hpp"

#include <gtest/gtest.h>

#include "mezzo/v1/mesos.pb.h"
#include "mezzo/v1/scheduler/scheduler.pb.h"

namespace mezzo {
namespace {

TEST(Codec, MediaTypeNames) {
  EXPECT_EQ(mediaTypeName(MediaType::kJson), "application/json");
  EXPECT_EQ(mediaTypeName(MediaType::kProtobuf), "application/x-protobuf");
}

TEST(Codec, ParseContentType) {
  EXPECT_EQ(parseContentType("application/json"), MediaType::kJson);
  EXPECT_EQ(parseContentType("application/json; charset=utf-8"), MediaType::kJson);
  EXPECT_EQ(parseContentType("  Application/JSON "), MediaType::kJson);
  EXPECT_EQ(parseContentType("application/x-protobuf"), MediaType::kProtobuf);
  EXPECT_EQ(parseContentType("application/x-protobuf;foo=bar"), MediaType::kProtobuf);
  EXPECT_EQ(parseContentType("text/plain"), std::nullopt);
  EXPECT_EQ(parseContentType("application/recordio"), std::nullopt);
  EXPECT_EQ(parseContentType(""), std::nullopt);
}

TEST(Codec, NegotiateAccept) {
  EXPECT_EQ(negotiateAccept(""), MediaType::kJson);
  EXPECT_EQ(negotiateAccept("   "), MediaType::kJson);
  EXPECT_EQ(negotiateAccept("*/*"), MediaType::kJson);
  EXPECT_EQ(negotiateAccept("application/*"), MediaType::kJson);
  EXPECT_EQ(negotiateAccept("application/json"), MediaType::kJson);
  EXPECT_EQ(negotiateAccept("application/x-protobuf"), MediaType::kProtobuf);
  // JSON wins when both are acceptable, whatever the order.
  EXPECT_EQ(negotiateAccept("application/x-protobuf, application/json"), MediaType::kJson);
  EXPECT_EQ(negotiateAccept("application/x-protobuf;q=1.0,application/json;q=0.5"), MediaType::kJson);
  // q=0 means "not acceptable".
  EXPECT_EQ(negotiateAccept("application/json;q=0, application/x-protobuf"), MediaType::kProtobuf);
  EXPECT_EQ(negotiateAccept("application/json; q=0.0"), std::nullopt);
  EXPECT_EQ(negotiateAccept("*/*;q=0"), std::nullopt);
  EXPECT_EQ(negotiateAccept("text/html"), std::nullopt);
  EXPECT_EQ(negotiateAccept("text/html, application/x-protobuf"), MediaType::kProtobuf);
}

v1::FrameworkInfo sampleFramework() {
  v1::FrameworkInfo info;
  info.set_user("alice");
  info.set_name("spark");
  info.add_roles("eng");
  info.set_failover_timeout(60);
  info.set_checkpoint(false);  // set, so that the JSON round trip is byte-exact
  return info;
}

TEST(Codec, JsonRoundTrip) {
  std::string body = encodeMessage(MediaType::kJson, sampleFramework());
  EXPECT_EQ(body.find('\n'), std::string::npos);
  EXPECT_EQ(body.front(), '{');
  v1::FrameworkInfo decoded;
  decoded.set_hostname("stale");  // cleared by decode
  ASSERT_TRUE(decodeMessage(MediaType::kJson, body, &decoded).isOk());
  EXPECT_EQ(decoded.SerializeAsString(), sampleFramework().SerializeAsString());
}

TEST(Codec, ProtobufRoundTrip) {
  std::string body = encodeMessage(MediaType::kProtobuf, sampleFramework());
  EXPECT_EQ(body, sampleFramework().SerializeAsString());
  v1::FrameworkInfo decoded;
  decoded.set_hostname("stale");
  ASSERT_TRUE(decodeMessage(MediaType::kProtobuf, body, &decoded).isOk());
  EXPECT_FALSE(decoded.has_hostname());
  EXPECT_EQ(decoded.name(), "spark");
}

TEST(Codec, ProtobufErrors) {
  v1::FrameworkInfo partial;
  partial.set_user("alice");  // `name` is required
  v1::FrameworkInfo decoded;
  Status status = decodeMessage(MediaType::kProtobuf, partial.SerializePartialAsString(), &decoded);
  ASSERT_FALSE(status.isOk());
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("Missing required fields: name"), std::string::npos) << status.message();

  status = decodeMessage(MediaType::kProtobuf, std::string("\xff\xff\xff", 3), &decoded);
  ASSERT_FALSE(status.isOk());
  EXPECT_NE(status.message().find("Failed to parse body into FrameworkInfo"), std::string::npos);
}

TEST(Codec, JsonErrors) {
  v1::scheduler::Call call;
  Status status = decodeMessage(MediaType::kJson, "{not json", &call);
  ASSERT_FALSE(status.isOk());
  EXPECT_NE(status.message().find("invalid JSON"), std::string::npos);
  status = decodeMessage(MediaType::kJson, R"({"type":"SUBSCRIBE","subscribe":{"framework_info":{}}})", &call);
  ASSERT_FALSE(status.isOk());
  EXPECT_NE(status.message().find("Missing required fields"), std::string::npos);
}

// Protobuf bodies are bounded by protobuf's own recursion limit (100), the
// bound the JSON decoder mirrors.
TEST(Codec, ProtobufBodyNestedBeyondTheRecursionLimitIsRejected) {
  auto nested = [](int levels) {
    v1::ContainerID id;
    v1::ContainerID* at = &id;
    for (int i = 1; i < levels; ++i, at = at->mutable_parent()) at->set_value("c");
    at->set_value("c");
    return id.SerializeAsString();
  };
  v1::ContainerID decoded;
  EXPECT_TRUE(decodeMessage(MediaType::kProtobuf, nested(100), &decoded).isOk());
  EXPECT_FALSE(decodeMessage(MediaType::kProtobuf, nested(102), &decoded).isOk());
}

}  // namespace
}  // namespace mezzo
