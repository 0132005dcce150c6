// Election and detection against a real ZooKeeper server (Debian's
// `zookeeper` package), started by the test.
#include "ha/zookeeper.hpp"

#include <gtest/gtest.h>

#include "harness/zookeeper_server.hpp"

namespace mezzo::ha {
namespace {

using testing::ZooKeeperServer;

v1::MasterInfo masterInfo(const std::string& id, int port) {
  v1::MasterInfo info;
  info.set_id(id);
  info.set_ip(0x0100007f);
  info.set_port(port);
  info.set_hostname("127.0.0.1");
  return info;
}

bool runUntil(boost::asio::io_context& io, const std::function<bool()>& done, std::chrono::seconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    io.restart();
    io.run_for(std::chrono::milliseconds(20));
  }
  return done();
}

class ZooKeeperElectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!server_.available()) GTEST_SKIP() << "ZooKeeper server could not be started (is the zookeeper package installed?)";
  }
  std::shared_ptr<ZooKeeperGroup> group(const std::string& path) {
    auto url = parseZooKeeperUrl(server_.url(path));
    EXPECT_TRUE(url.isOk());
    auto created = ZooKeeperGroup::create(io_, *url, std::chrono::seconds(5));
    EXPECT_TRUE(created.isOk());
    return *created;
  }

  ZooKeeperServer server_;
  boost::asio::io_context io_;
};

TEST_F(ZooKeeperElectionTest, LowestMemberLeadsAndSuccessorTakesOver) {
  auto first = group("/mezzo/test");
  auto second = group("/mezzo/test");
  auto watcher = group("/mezzo/test");
  bool firstElected = false;
  std::optional<bool> secondElected;
  std::optional<v1::MasterInfo> leader;
  first->contend(masterInfo("first", 5050), [&](bool elected) { firstElected = elected; });
  ASSERT_TRUE(runUntil(io_, [&] { return firstElected; }, std::chrono::seconds(10)));
  second->contend(masterInfo("second", 5051), [&](bool elected) { secondElected = elected; });
  watcher->detect([&](const std::optional<v1::MasterInfo>& info) { leader = info; });
  ASSERT_TRUE(runUntil(io_, [&] { return leader.has_value(); }, std::chrono::seconds(10)));
  EXPECT_EQ(leader->id(), "first");
  EXPECT_EQ(leader->port(), 5050u);
  io_.restart();
  io_.run_for(std::chrono::milliseconds(300));
  EXPECT_NE(secondElected, std::optional<bool>(true)) << "only the lowest member leads";

  first->close();  // its ephemeral member disappears with the session
  ASSERT_TRUE(runUntil(io_, [&] { return secondElected == std::optional<bool>(true); }, std::chrono::seconds(10)));
  ASSERT_TRUE(runUntil(io_, [&] { return leader && leader->id() == "second"; }, std::chrono::seconds(10)));

  second->close();
  ASSERT_TRUE(runUntil(io_, [&] { return !leader.has_value(); }, std::chrono::seconds(10)));
  watcher->close();
}

}  // namespace
}  // namespace mezzo::ha
