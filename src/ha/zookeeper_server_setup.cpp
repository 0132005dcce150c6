#include "ha/zookeeper_server_setup.hpp"

#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

namespace mezzo::ha {

namespace fs = std::filesystem;

namespace {

constexpr const char* kZooKeeperJar = "/usr/share/java/zookeeper.jar";
constexpr const char* kSlf4jJar = "/usr/share/java/slf4j-simple.jar";

// The full path of `java` in PATH, or empty.
std::string javaInPath() {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path != nullptr ? path : "/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (!dir.empty() && ::access((dir + "/java").c_str(), X_OK) == 0) return dir + "/java";
  }
  return {};
}

}  // namespace

Result<fs::path> writeStandaloneZooKeeperConfig(const fs::path& dir, uint16_t port) {
  std::error_code error;
  fs::create_directories(dir / "data", error);
  if (error) return Status::ioError("Cannot create " + (dir / "data").string() + ": " + error.message());
  fs::path config = dir / "zoo.cfg";
  std::ofstream out(config);
  out << "tickTime=500\ndataDir=" << (dir / "data").string() << "\nclientPortAddress=127.0.0.1\nclientPort=" << port
      << "\nmaxClientCnxns=0\nadmin.enableServer=false\n4lw.commands.whitelist=ruok,srvr,stat,mntr,conf\n";
  if (!out) return Status::ioError("Cannot write " + config.string());
  return config;
}

Result<std::vector<std::string>> zooKeeperServerCommand(const fs::path& config) {
  if (!fs::exists(kZooKeeperJar)) {
    return Status::notFound(std::string(kZooKeeperJar) + " is missing: install Debian's `zookeeper` package");
  }
  std::string java = javaInPath();
  if (java.empty()) return Status::notFound("java is not in PATH: install a JRE (Debian's `zookeeper` pulls one in)");
  std::string classpath = std::string(kZooKeeperJar) + (fs::exists(kSlf4jJar) ? std::string(":") + kSlf4jJar : "");
  return std::vector<std::string>{java, "-cp", classpath, "org.apache.zookeeper.server.ZooKeeperServerMain",
                                  config.string()};
}

bool zooKeeperServing(uint16_t port, std::chrono::milliseconds timeout) {
  // Asynchronous operations bounded by run_for: a blocking asio read would
  // wait forever on a peer that accepts and stays silent (a server still
  // starting, or another process that took the port), whatever SO_RCVTIMEO says.
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket socket(io);
  std::string reply;
  const std::string command = "srvr";
  socket.async_connect({boost::asio::ip::make_address("127.0.0.1"), port}, [&](boost::system::error_code ec) {
    if (ec) return;
    boost::asio::async_write(socket, boost::asio::buffer(command), [&](boost::system::error_code writeError, size_t) {
      if (writeError) return;
      boost::asio::async_read(socket, boost::asio::dynamic_buffer(reply), [](boost::system::error_code, size_t) {});
    });
  });
  io.run_for(timeout);
  return reply.find("Mode:") != std::string::npos;
}

bool waitForZooKeeper(uint16_t port, std::chrono::milliseconds timeout,
                      const std::function<bool()>& serverRunning) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (serverRunning && !serverRunning()) return false;
    if (zooKeeperServing(port)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

}  // namespace mezzo::ha
