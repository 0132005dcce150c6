#include "mezzo/common/ids.hpp"

#include <gtest/gtest.h>

#include <set>
#include <type_traits>
#include <unordered_set>
#include <vector>

namespace mezzo {
namespace {

static_assert(!std::is_convertible_v<TaskId, AgentId>, "id kinds must not mix");
static_assert(!std::is_convertible_v<std::string, FrameworkId>, "ids are built explicitly");

TEST(Ids, StrongIdValueSemantics) {
  TaskId a("a");
  TaskId b("b");
  EXPECT_EQ(a, TaskId("a"));
  EXPECT_NE(a, b);
  EXPECT_LT(a, b);
  EXPECT_TRUE(TaskId().empty());
  EXPECT_EQ(b.value(), "b");
  std::unordered_set<TaskId, StrongIdHash> set{a, b, TaskId("a")};
  EXPECT_EQ(set.size(), 2u);
}

TEST(Ids, RandomUuidBytesAreVersion4) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    std::string bytes = randomUuidBytes();
    ASSERT_EQ(bytes.size(), 16u);
    EXPECT_EQ(static_cast<unsigned char>(bytes[6]) >> 4, 4);        // version 4
    EXPECT_EQ(static_cast<unsigned char>(bytes[8]) & 0xc0, 0x80);  // RFC 4122 variant
    seen.insert(bytes);
  }
  EXPECT_EQ(seen.size(), 100u);
}

TEST(Ids, RandomUuidString) {
  std::string text = randomUuidString();
  ASSERT_EQ(text.size(), 36u);
  for (size_t i : {8u, 13u, 18u, 23u}) EXPECT_EQ(text[i], '-') << text;
  EXPECT_EQ(text[14], '4') << text;
  EXPECT_EQ(text.find_first_not_of("0123456789abcdef-"), std::string::npos) << text;
  EXPECT_NE(randomUuidString(), text);
}

TEST(Ids, UuidBytesToString) {
  std::string bytes;
  for (int i = 0; i < 16; ++i) bytes.push_back(static_cast<char>(i == 15 ? 0xff : i));
  EXPECT_EQ(uuidBytesToString(bytes), "00010203-0405-0607-0809-0a0b0c0d0eff");
  // Not 16 bytes: passed through unchanged (already text, or garbage).
  EXPECT_EQ(uuidBytesToString("not-a-uuid"), "not-a-uuid");
  EXPECT_EQ(uuidBytesToString(""), "");
}

TEST(Ids, GeneratorFormats) {
  IdGenerator ids("master-1");
  EXPECT_EQ(ids.masterId(), "master-1");
  EXPECT_EQ(ids.nextFrameworkId().value(), "master-1-0000");
  EXPECT_EQ(ids.nextFrameworkId().value(), "master-1-0001");
  EXPECT_EQ(ids.nextAgentId().value(), "master-1-S0");
  EXPECT_EQ(ids.nextAgentId().value(), "master-1-S1");
  EXPECT_EQ(ids.nextOfferId().value(), "master-1-O0");
  EXPECT_EQ(ids.nextOfferId().value(), "master-1-O1");
  EXPECT_EQ(ids.nextAgentId().value(), "master-1-S2");  // counters are independent
  for (int i = 2; i < 10000; ++i) ids.nextFrameworkId();
  EXPECT_EQ(ids.nextFrameworkId().value(), "master-1-10000");  // grows past four digits
}

TEST(Ids, ValidateClientId) {
  const std::vector<std::string> goodIds = {"task-1", "a", "my.task_2:x", std::string(255, 'x'), "caf\xc3\xa9"};
  for (const std::string& good : goodIds) {
    EXPECT_EQ(validateClientId(good), "") << good;
  }
  EXPECT_NE(validateClientId(""), "");
  EXPECT_NE(validateClientId(std::string(256, 'x')), "");
  EXPECT_NE(validateClientId("."), "");
  EXPECT_NE(validateClientId(".."), "");
  EXPECT_EQ(validateClientId("..."), "");
  EXPECT_NE(validateClientId("a/b"), "");
  EXPECT_NE(validateClientId("a\\b"), "");
  EXPECT_NE(validateClientId("a\nb"), "");
  EXPECT_NE(validateClientId(std::string("a\0b", 3)), "");
  EXPECT_NE(validateClientId("a\x7f"), "");
  EXPECT_NE(validateClientId("a/b").find("'/'"), std::string::npos);
}

TEST(Ids, ValidateRoleName) {
  for (std::string good : {"*", "eng", "eng/ml", "eng/ml/x", "a-b", "a.b", "a..b", "_x", "r*"}) {
    EXPECT_EQ(validateRoleName(good), "") << good;
  }
  for (std::string bad : {"", "/eng", "eng/", "/", "eng//ml", ".", "..", "eng/.", "../eng", "eng/*", "*/x", "-eng",
                          "eng/-ml", "e ng", "e\tng", "eng\n", "e\x7f"}) {
    EXPECT_NE(validateRoleName(bad), "") << bad;
  }
  EXPECT_NE(validateRoleName("eng//ml").find("'//'"), std::string::npos);
  EXPECT_EQ(validateRoleName(std::string(kMaxRoleNameLength, 'r')), "");
  EXPECT_NE(validateRoleName(std::string(kMaxRoleNameLength + 1, 'r')).find("at most 255"), std::string::npos);
  EXPECT_NE(validateRoleName(std::string(10000, 'r')), "");
}

}  // namespace
}  // namespace mezzo
