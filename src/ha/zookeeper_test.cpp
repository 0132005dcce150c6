// Election and detection against a real ZooKeeper server (Debian's
// `zookeeper` package), started by the test.
#include "ha/zookeeper.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <filesystem>
#include <fstream>
#include <thread>

extern char** environ;

namespace mezzo::ha {
namespace {

namespace fs = std::filesystem;

uint16_t freePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  socklen_t length = sizeof(address);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

// A standalone ZooKeeper server in a temp dir, as platform-notes.md describes.
class ZooKeeperServer {
 public:
  ZooKeeperServer() : port_(freePort()), dir_(fs::temp_directory_path() / ("mezzo-zk-" + std::to_string(port_))) {
    fs::create_directories(dir_ / "data");
    std::ofstream(dir_ / "zoo.cfg") << "tickTime=2000\ndataDir=" << (dir_ / "data").string()
                                    << "\nclientPortAddress=127.0.0.1\nclientPort=" << port_
                                    << "\nmaxClientCnxns=0\nadmin.enableServer=false\n"
                                    << "4lw.commands.whitelist=ruok,srvr,stat,mntr,conf\n";
    std::vector<std::string> args = {"java", "-cp", "/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-simple.jar",
                                     "org.apache.zookeeper.server.ZooKeeperServerMain", (dir_ / "zoo.cfg").string()};
    std::vector<char*> argv;
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    std::string log = (dir_ / "server.log").string();
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    available_ = posix_spawnp(&pid_, "java", &actions, nullptr, argv.data(), environ) == 0;
    posix_spawn_file_actions_destroy(&actions);
    if (available_) available_ = waitUntilServing();
  }
  ~ZooKeeperServer() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }
  bool available() const { return available_; }
  std::string url(const std::string& path) const { return "zk://127.0.0.1:" + std::to_string(port_) + path; }

 private:
  // Ready once `srvr` prints a Mode: line.
  bool waitUntilServing() {
    for (int attempt = 0; attempt < 150; ++attempt) {
      try {
        boost::asio::io_context io;
        boost::asio::ip::tcp::socket socket(io);
        socket.connect({boost::asio::ip::make_address("127.0.0.1"), port_});
        boost::asio::write(socket, boost::asio::buffer(std::string("srvr")));
        std::string reply;
        boost::system::error_code ec;
        boost::asio::read(socket, boost::asio::dynamic_buffer(reply), ec);
        if (reply.find("Mode:") != std::string::npos) return true;
      } catch (const std::exception&) {
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  }

  uint16_t port_;
  fs::path dir_;
  pid_t pid_ = -1;
  bool available_ = false;
};

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
