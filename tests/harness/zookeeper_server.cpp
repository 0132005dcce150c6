#include "harness/zookeeper_server.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <fstream>
#include <thread>
#include <vector>

#include "harness/process.hpp"

extern char** environ;

namespace mezzo::testing {

namespace fs = std::filesystem;

ZooKeeperServer::ZooKeeperServer()
    : port_(freePort()), dir_(fs::temp_directory_path() / ("mezzo-zk-" + std::to_string(port_))) {
  fs::create_directories(dir_ / "data");
  std::ofstream(dir_ / "zoo.cfg") << "tickTime=500\ndataDir=" << (dir_ / "data").string()
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

ZooKeeperServer::~ZooKeeperServer() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  std::error_code ignored;
  fs::remove_all(dir_, ignored);
}

std::string ZooKeeperServer::url(const std::string& path) const {
  return "zk://127.0.0.1:" + std::to_string(port_) + path;
}

// Ready once `srvr` prints a Mode: line.
bool ZooKeeperServer::waitUntilServing() {
  for (int attempt = 0; attempt < 150; ++attempt) {
    try {
      boost::asio::io_context io;
      boost::asio::ip::tcp::socket socket(io);
      socket.connect({boost::asio::ip::make_address("127.0.0.1"), port_});
      // A server still starting may accept and say nothing: never block for good.
      timeval receiveTimeout{2, 0};
      ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &receiveTimeout, sizeof(receiveTimeout));
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

}  // namespace mezzo::testing
