#include <gtest/gtest.h>

#include "ha/leader.hpp"

namespace mezzo::ha {
namespace {

TEST(ZooKeeperUrl, ParsesServersPathAndCredentials) {
  auto url = parseZooKeeperUrl("zk://10.0.0.1:2181,10.0.0.2:2181/mezzo/prod/");
  ASSERT_TRUE(url.isOk()) << url.error();
  EXPECT_EQ(url->servers, "10.0.0.1:2181,10.0.0.2:2181");
  EXPECT_EQ(url->path, "/mezzo/prod");
  EXPECT_TRUE(url->credentials.empty());
  auto withAuth = parseZooKeeperUrl("zk://alice:secret@h:2181/m");
  ASSERT_TRUE(withAuth.isOk());
  EXPECT_EQ(withAuth->credentials, "alice:secret");
  EXPECT_EQ(withAuth->servers, "h:2181");
  EXPECT_FALSE(parseZooKeeperUrl("http://h:2181/m").isOk());
  EXPECT_FALSE(parseZooKeeperUrl("zk://h:2181").isOk());
  EXPECT_FALSE(parseZooKeeperUrl("zk://h:2181/").isOk());
}

TEST(Members, LowestSequenceLeads) {
  EXPECT_EQ(memberSequence("json.info_0000000012"), 12u);
  EXPECT_EQ(memberSequence("info_0000000003"), 3u);
  EXPECT_FALSE(memberSequence("log_replicas"));
  EXPECT_FALSE(memberSequence("json.info_abc"));
  EXPECT_EQ(leadingMember({"json.info_0000000007", "log_replicas", "json.info_0000000002", "json.info_0000000010"}),
            "json.info_0000000002");
  EXPECT_FALSE(leadingMember({"log_replicas"}));
}

TEST(Standalone, AlwaysElectedAndFixedLeader) {
  bool elected = false;
  makeStandaloneContender()->start([&](bool value) { elected = value; });
  EXPECT_TRUE(elected);
  v1::MasterInfo info;
  info.set_id("m");
  info.set_ip(0);
  info.set_port(5050);
  std::optional<v1::MasterInfo> seen;
  makeStandaloneDetector(info)->start([&](const std::optional<v1::MasterInfo>& leader) { seen = leader; });
  ASSERT_TRUE(seen);
  EXPECT_EQ(seen->id(), "m");
}

}  // namespace
}  // namespace mezzo::ha
