#include "mezzo/client/redirect.hpp"

#include <gtest/gtest.h>

namespace mezzo::client {
namespace {

const net::Endpoint kCurrent{"10.0.0.1", 5050};
constexpr std::string_view kPath = "/api/v1/scheduler";

TEST(RedirectTest, ProtocolRelativeWithPath) {
  auto target = parseRedirectLocation("//master2.example:5051/api/v1/scheduler", kCurrent, kPath);
  ASSERT_TRUE(target.isOk()) << target.error();
  EXPECT_EQ(target->endpoint.host, "master2.example");
  EXPECT_EQ(target->endpoint.port, 5051);
  EXPECT_EQ(target->path, "/api/v1/scheduler");
}

TEST(RedirectTest, ProtocolRelativeWithoutPathUsesDefault) {
  auto target = parseRedirectLocation("//10.0.0.2:5050", kCurrent, kPath);
  ASSERT_TRUE(target.isOk()) << target.error();
  EXPECT_EQ(target->endpoint.toString(), "10.0.0.2:5050");
  EXPECT_EQ(target->path, kPath);
}

TEST(RedirectTest, KeepsPrefixedPathAndQuery) {
  auto target = parseRedirectLocation("//m:1/master/api/v1/scheduler?x=1", kCurrent, kPath);
  ASSERT_TRUE(target.isOk());
  EXPECT_EQ(target->path, "/master/api/v1/scheduler?x=1");
  auto queryOnly = parseRedirectLocation("//m:1?x=1", kCurrent, kPath);
  ASSERT_TRUE(queryOnly.isOk());
  EXPECT_EQ(queryOnly->path, "/api/v1/scheduler?x=1");
}

TEST(RedirectTest, AbsoluteHttpAndIpv6) {
  auto target = parseRedirectLocation("http://[::1]:5052/api/v1/scheduler", kCurrent, kPath);
  ASSERT_TRUE(target.isOk()) << target.error();
  EXPECT_EQ(target->endpoint.host, "::1");
  EXPECT_EQ(target->endpoint.port, 5052);
}

TEST(RedirectTest, RelativePathStaysOnCurrentMaster) {
  auto target = parseRedirectLocation(" /master/api/v1/scheduler ", kCurrent, kPath);
  ASSERT_TRUE(target.isOk());
  EXPECT_EQ(target->endpoint.toString(), kCurrent.toString());
  EXPECT_EQ(target->path, "/master/api/v1/scheduler");
}

TEST(RedirectTest, RejectsGarbage) {
  EXPECT_FALSE(parseRedirectLocation("", kCurrent, kPath).isOk());
  EXPECT_FALSE(parseRedirectLocation("https://m:5050/x", kCurrent, kPath).isOk());
  EXPECT_FALSE(parseRedirectLocation("//nohostport/x", kCurrent, kPath).isOk());
  EXPECT_FALSE(parseRedirectLocation("//m:notaport", kCurrent, kPath).isOk());
}

}  // namespace
}  // namespace mezzo::client
