#include "agent/agent_flags.hpp"

#include <gtest/gtest.h>

namespace mezzo::agent {
namespace {

constexpr uint64_t kMiB = 1024 * 1024;
constexpr uint64_t kGiB = 1024 * kMiB;

TEST(AgentResourcesTest, DetectsEverythingWhenNoFlag) {
  HostCapacity host{8, 16 * kGiB, 100 * kGiB};
  auto resources = agentResources("", host);
  ASSERT_TRUE(resources) << resources.error();
  EXPECT_DOUBLE_EQ(resources->cpus(), 8);
  EXPECT_DOUBLE_EQ(resources->mem(), 15 * 1024);     // 1 GiB headroom
  EXPECT_DOUBLE_EQ(resources->disk(), 95 * 1024);    // 5 GiB headroom
  EXPECT_EQ(resources->toStateJson()["ports"], "[31000-32000]");
}

TEST(AgentResourcesTest, SmallHostsGetHalf) {
  HostCapacity host{1, 1 * kGiB, 4 * kGiB};
  auto resources = agentResources("", host);
  ASSERT_TRUE(resources) << resources.error();
  EXPECT_DOUBLE_EQ(resources->mem(), 512);
  EXPECT_DOUBLE_EQ(resources->disk(), 2048);
}

TEST(AgentResourcesTest, GivenResourcesWinAndMissingOnesAreDetected) {
  HostCapacity host{8, 16 * kGiB, 100 * kGiB};
  auto resources = agentResources("cpus:2;mem:1024;gpus:1", host);
  ASSERT_TRUE(resources) << resources.error();
  EXPECT_DOUBLE_EQ(resources->cpus(), 2);
  EXPECT_DOUBLE_EQ(resources->mem(), 1024);
  EXPECT_DOUBLE_EQ(resources->scalar("gpus"), 1);
  EXPECT_DOUBLE_EQ(resources->disk(), 95 * 1024);
  EXPECT_EQ(resources->toStateJson()["ports"], "[31000-32000]");
}

TEST(AgentResourcesTest, JsonFlagAndErrors) {
  HostCapacity host{4, 8 * kGiB, 20 * kGiB};
  auto json = agentResources(R"([{"name":"cpus","type":"SCALAR","scalar":{"value":3}}])", host);
  ASSERT_TRUE(json) << json.error();
  EXPECT_DOUBLE_EQ(json->cpus(), 3);
  EXPECT_FALSE(agentResources("cpus:lots", host));
}

TEST(AgentResourcesTest, DetectHostCapacityMeasuresThisMachine) {
  HostCapacity host = detectHostCapacity("/tmp/does/not/exist/yet");
  EXPECT_GE(host.cpus, 1u);
  EXPECT_GT(host.memoryBytes, 0u);
  EXPECT_GT(host.diskBytes, 0u);
}

TEST(AttributesTest, ParsesTextScalarRangesAndSets) {
  auto attributes = parseAttributes("rack:r1; zone:z1;level:3;weight:2.5;ids:[1-10,20-30];tags:{a,b}");
  ASSERT_TRUE(attributes) << attributes.error();
  ASSERT_EQ(attributes->size(), 6u);
  EXPECT_EQ((*attributes)[0].name(), "rack");
  EXPECT_EQ((*attributes)[0].type(), v1::Value::TEXT);
  EXPECT_EQ((*attributes)[0].text().value(), "r1");
  EXPECT_EQ((*attributes)[1].text().value(), "z1");
  EXPECT_EQ((*attributes)[2].type(), v1::Value::SCALAR);
  EXPECT_DOUBLE_EQ((*attributes)[2].scalar().value(), 3);
  EXPECT_DOUBLE_EQ((*attributes)[3].scalar().value(), 2.5);
  EXPECT_EQ((*attributes)[4].type(), v1::Value::RANGES);
  ASSERT_EQ((*attributes)[4].ranges().range_size(), 2);
  EXPECT_EQ((*attributes)[4].ranges().range(1).begin(), 20u);
  EXPECT_EQ((*attributes)[5].type(), v1::Value::SET);
  EXPECT_EQ((*attributes)[5].set().item_size(), 2);
}

TEST(AttributesTest, EmptyAndInvalid) {
  auto empty = parseAttributes("");
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());
  EXPECT_FALSE(parseAttributes("rack"));
  EXPECT_FALSE(parseAttributes(":r1"));
  EXPECT_FALSE(parseAttributes("ids:[5-1]"));
  // A value that is not a number stays text.
  auto text = parseAttributes("os:debian12");
  ASSERT_TRUE(text);
  EXPECT_EQ((*text)[0].type(), v1::Value::TEXT);
}

v1::AgentInfo agentInfo(const std::string& resources, const std::string& attributes) {
  v1::AgentInfo info;
  Resources::parse(resources)->toProto(info.mutable_resources());
  auto parsed = parseAttributes(attributes);
  for (const v1::Attribute& attribute : *parsed) *info.add_attributes() = attribute;
  return info;
}

TEST(ReconfigurationPolicyTest, EqualAllowsNoChange) {
  const v1::AgentInfo before = agentInfo("cpus:2;mem:1024", "rack:r1");
  EXPECT_TRUE(checkReconfiguration(ReconfigurationPolicy::kEqual, before, agentInfo("cpus:2;mem:1024", "rack:r1")));
  Status grown = checkReconfiguration(ReconfigurationPolicy::kEqual, before, agentInfo("cpus:4;mem:1024", "rack:r1"));
  ASSERT_FALSE(grown);
  EXPECT_NE(grown.message().find("resources changed"), std::string::npos) << grown.message();
  EXPECT_FALSE(checkReconfiguration(ReconfigurationPolicy::kEqual, before,
                                    agentInfo("cpus:2;mem:1024", "rack:r1;zone:z1")));
}

TEST(ReconfigurationPolicyTest, AdditiveAllowsOnlyAdditions) {
  const v1::AgentInfo before = agentInfo("cpus:2;mem:1024", "rack:r1");
  EXPECT_TRUE(checkReconfiguration(ReconfigurationPolicy::kAdditive, before,
                                   agentInfo("cpus:4;mem:1024;gpus:1", "rack:r1;zone:z1")));
  EXPECT_FALSE(checkReconfiguration(ReconfigurationPolicy::kAdditive, before, agentInfo("cpus:1;mem:1024", "rack:r1")));
  Status changed = checkReconfiguration(ReconfigurationPolicy::kAdditive, before, agentInfo("cpus:2;mem:1024", "rack:r2"));
  ASSERT_FALSE(changed);
  EXPECT_NE(changed.message().find("attribute 'rack'"), std::string::npos) << changed.message();
  EXPECT_FALSE(checkReconfiguration(ReconfigurationPolicy::kAdditive, before, agentInfo("cpus:2;mem:1024", "")));
}

}  // namespace
}  // namespace mezzo::agent
