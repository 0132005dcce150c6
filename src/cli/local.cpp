#include "cli/local.hpp"

#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <memory>
#include <set>
#include <nlohmann/json.hpp>
#include <thread>

#include "cli/process.hpp"
#include "cli/process_tree.hpp"
#include "ha/zookeeper_server_setup.hpp"
#include "mezzo/common/clock.hpp"
#include "mezzo/net/http_client.hpp"

namespace mezzo::cli {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

std::string agentResourcesFor(const std::string& resources, int index) {
  std::string text = resources.empty() ? kDefaultAgentResources : resources;
  if (text.find("ports") != std::string::npos || text.starts_with("[")) return text;
  uint32_t begin = 31000 + static_cast<uint32_t>(index) * 1000;
  if (!text.empty() && text.back() != ';') text += ';';
  return text + "ports:[" + std::to_string(begin) + "-" + std::to_string(begin + 999) + "]";
}

namespace {

// SIGINT/SIGTERM/SIGHUP stay blocked while the cluster runs; they are taken
// with sigtimedwait() so that a Ctrl-C (or a closed terminal) always leads to
// an orderly shutdown.
sigset_t stopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  return set;
}

// The signal received within `timeout`, or 0.
int waitForSignal(milliseconds timeout) {
  sigset_t set = stopSignals();
  timespec wait{static_cast<time_t>(timeout.count() / 1000), static_cast<long>((timeout.count() % 1000) * 1000000)};
  int signal = sigtimedwait(&set, nullptr, &wait);
  return signal > 0 ? signal : 0;
}

nlohmann::json getJson(const net::Endpoint& endpoint, const std::string& path) {
  net::ClientRequest request;
  request.method = boost::beast::http::verb::get;
  request.target = path;
  request.timeout = milliseconds(2000);
  auto response = net::httpRequestSync(endpoint, request);
  if (!response || response->status != 200) return nullptr;
  return nlohmann::json::parse(response->body, nullptr, false);
}

class LocalCluster {
 public:
  explicit LocalCluster(const LocalOptions& options) : options_(options) {}
  ~LocalCluster() { stop(); }

  Status start() {
    binDir_ = selfExecutableDir();
    for (const char* binary : {"mezzo-master", "mezzo-agent"}) {
      if (::access((binDir_ + "/" + binary).c_str(), X_OK) != 0) {
        return Status::notFound(std::string(binary) + " not found next to mezzo (in " + binDir_ + "); build it first");
      }
    }
    masterPort_ = options_.port;
    if (masterPort_ == 0) {
      auto port = freePort();
      if (!port) return port.status();
      masterPort_ = *port;
    } else if (!portAvailable(masterPort_)) {
      return Status::unavailable("Port " + std::to_string(masterPort_) +
                                 " is in use (another master?); pass --port 0 to pick a free one");
    }
    if (Status status = makeWorkDir(); !status) return status;
    if (options_.ha) {
      if (Status status = startZooKeeper(); !status) return status;
    }
    int masterCount = options_.ha ? kHaMasters : 1;
    for (int i = 0; i < masterCount; ++i) {
      uint16_t port = masterPort_ + static_cast<uint16_t>(i);
      if (i > 0) {
        auto free = freePort();
        if (!free) return free.status();
        port = portAvailable(port) ? port : *free;
      }
      std::vector<std::string> args = {"--ip=127.0.0.1", "--port=" + std::to_string(port),
                                       "--work_dir=" + workDir_ + "/" + masterName(i),
                                       "--log_level=" + options_.logLevel};
      if (options_.ha) {
        args.insert(args.end(), {"--zk=" + zkUrl(), "--registry=zookeeper", "--zk_session_timeout=2secs"});
      }
      auto master = ChildProcess::spawn(binDir_ + "/mezzo-master", args, workDir_ + "/" + masterName(i) + ".log");
      if (!master) return master.status();
      masters_.push_back(std::move(*master));
      masterPorts_.push_back(port);
    }
    for (int i = 0; i < options_.agents; ++i) {
      std::string name = "agent-" + std::to_string(i);
      // --port=0: the agent binds a free port and advertises it (no race).
      auto agent = ChildProcess::spawn(
          binDir_ + "/mezzo-agent",
          {"--master=" + masterUrl(), "--ip=127.0.0.1", "--port=0", "--work_dir=" + workDir_ + "/" + name,
           "--resources=" + agentResourcesFor(options_.agentResources, i), "--log_level=" + options_.logLevel},
          workDir_ + "/" + name + ".log");
      if (!agent) return agent.status();
      agents_.push_back(std::move(*agent));
    }
    return waitForAgents(std::chrono::seconds(20));
  }

  // The first daemon found dead whose death ends the cluster, described with
  // its last log lines. With --ha a master may die (that is the point: watch
  // a standby take over); only losing every master or ZooKeeper is fatal.
  std::optional<std::string> deadDaemon() {
    if (zookeeper_ && !zookeeper_->running()) return describeDeath("ZooKeeper", *zookeeper_);
    size_t deadMasters = 0;
    for (size_t i = 0; i < masters_.size(); ++i) {
      if (masters_[i]->running()) continue;
      ++deadMasters;
      if (!options_.ha) return describeDeath("mezzo-master", *masters_[i]);
      if (reportedDead_.insert(i).second) {
        std::cout << masterName(static_cast<int>(i)) << " (pid " << masters_[i]->pid() << ") "
                  << masters_[i]->describeExit() << "; a standby takes over" << std::endl;
      }
    }
    if (deadMasters == masters_.size() && !masters_.empty()) return std::string("every master has exited");
    for (size_t i = 0; i < agents_.size(); ++i) {
      if (!agents_[i]->running()) return describeDeath("mezzo-agent " + std::to_string(i), *agents_[i]);
    }
    return std::nullopt;
  }

  // Stops the daemons in order, then ends whatever is left below us: the
  // agents' task supervisors and their tasks (they outlive an agent).
  void stop() {
    for (auto it = agents_.rbegin(); it != agents_.rend(); ++it) (*it)->stop();
    agents_.clear();
    for (auto& master : masters_) master->stop();
    masters_.clear();
    if (zookeeper_) zookeeper_->stop();
    zookeeper_.reset();
    killDescendants(milliseconds(1000));
  }

  // Reaps adopted orphans that ended (a task supervisor whose agent died).
  void reapOrphans() {
    std::set<pid_t> owned;
    for (const auto* group : {&masters_, &agents_}) {
      for (const auto& child : *group) owned.insert(child->pid());
    }
    if (zookeeper_) owned.insert(zookeeper_->pid());
    reapAdoptedChildren(owned);
  }

  // Removes a work dir we created unless `keep` (it is removed anyway while
  // empty: a start that failed before any daemon ran leaves nothing behind).
  void cleanUp(bool keep) {
    std::error_code ignored;
    if (createdWorkDir_ && (!keep || fs::is_empty(workDir_, ignored))) {
      fs::remove_all(workDir_, ignored);
    } else if (!workDir_.empty()) {
      std::cout << "Logs and sandboxes are in " << workDir_ << std::endl;
    }
  }

  // The leading master's address (the only one without --ha).
  std::string masterAddress() const {
    if (!options_.ha) return "127.0.0.1:" + std::to_string(masterPort_);
    for (size_t i = 0; i < masterPorts_.size(); ++i) {
      nlohmann::json state = getJson({"127.0.0.1", masterPorts_[i]}, "/state");
      if (state.is_object() && state.value("elected", false)) return "127.0.0.1:" + std::to_string(masterPorts_[i]);
    }
    return {};
  }
  // What agents and clients are given: the leader's address, or with --ha the
  // ZooKeeper URL through which they find (and follow) the leader.
  std::string masterUrl() const { return options_.ha ? zkUrl() : masterAddress(); }
  std::string zkUrl() const { return "zk://127.0.0.1:" + std::to_string(zkPort_) + "/mezzo"; }
  bool ha() const { return options_.ha; }
  const std::vector<std::unique_ptr<ChildProcess>>& masters() const { return masters_; }
  const std::vector<uint16_t>& masterPorts() const { return masterPorts_; }
  const nlohmann::json& agentsJson() const { return agentsJson_; }
  const std::string& workDir() const { return workDir_; }

 private:
  Status makeWorkDir() {
    if (options_.workDir.empty()) {
      std::string pattern = (fs::temp_directory_path() / "mezzo-local-XXXXXX").string();
      if (::mkdtemp(pattern.data()) == nullptr) return Status::ioError("Cannot create a temporary directory");
      workDir_ = pattern;
      createdWorkDir_ = true;
      return Status::ok();
    }
    std::error_code error;
    createdWorkDir_ = fs::create_directories(options_.workDir, error);
    if (error) return Status::ioError("Cannot create " + options_.workDir + ": " + error.message());
    workDir_ = fs::absolute(options_.workDir).string();
    return Status::ok();
  }

  static std::string masterName(int index) { return index == 0 ? "master" : "master-" + std::to_string(index); }

  // ZooKeeper from Debian's package, its data under the work dir.
  Status startZooKeeper() {
    auto port = freePort();
    if (!port) return port.status();
    zkPort_ = *port;
    auto config = ha::writeStandaloneZooKeeperConfig(workDir_ + "/zookeeper", zkPort_);
    if (!config) return config.status();
    auto command = ha::zooKeeperServerCommand(*config);
    if (!command) return command.status();
    std::vector<std::string> args(command->begin() + 1, command->end());
    auto zookeeper = ChildProcess::spawn(command->front(), args, workDir_ + "/zookeeper.log");
    if (!zookeeper) return zookeeper.status();
    zookeeper_ = std::move(*zookeeper);
    if (!ha::waitForZooKeeper(zkPort_, std::chrono::seconds(30), [this] { return zookeeper_->running(); })) {
      std::string exit = zookeeper_->describeExit();
      return Status::unavailable("ZooKeeper did not start (" + (exit.empty() ? "no answer in 30 s" : exit) +
                                 "); see " + workDir_ + "/zookeeper.log");
    }
    return Status::ok();
  }

  Status waitForAgents(Duration timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (auto dead = deadDaemon()) return Status::unavailable(*dead);
      if (waitForSignal(milliseconds(0)) != 0) return Status::unavailable("Interrupted");
      auto leader = net::parseEndpoint(masterAddress());
      nlohmann::json agents = leader ? getJson(*leader, "/slaves") : nlohmann::json();
      if (agents.is_object() && agents["slaves"].is_array()) {
        int active = 0;
        for (const auto& agent : agents["slaves"]) active += agent.value("active", false) ? 1 : 0;
        if (active >= options_.agents) {
          agentsJson_ = agents["slaves"];
          return Status::ok();
        }
      }
      std::this_thread::sleep_for(milliseconds(100));
    }
    return Status::unavailable("Agents did not register with the master within " +
                               std::to_string(std::chrono::duration_cast<std::chrono::seconds>(timeout).count()) +
                               " s; see the logs in " + workDir_);
  }

  static std::string describeDeath(const std::string& name, ChildProcess& process) {
    return name + " " + process.describeExit() + "; last lines of " + process.logFile() + ":\n" +
           tailFile(process.logFile(), 15);
  }

  const LocalOptions& options_;
  std::string binDir_;
  std::string workDir_;
  bool createdWorkDir_ = false;
  uint16_t masterPort_ = 0;
  static constexpr int kHaMasters = 3;
  uint16_t zkPort_ = 0;
  std::unique_ptr<ChildProcess> zookeeper_;
  std::vector<std::unique_ptr<ChildProcess>> masters_;
  std::vector<uint16_t> masterPorts_;
  std::set<size_t> reportedDead_;
  std::vector<std::unique_ptr<ChildProcess>> agents_;
  nlohmann::json agentsJson_;
};

void printCluster(const LocalCluster& cluster) {
  std::cout << "Mezzo local cluster is up\n";
  if (cluster.ha()) {
    std::string leader = cluster.masterAddress();
    std::cout << "  zookeeper " << cluster.zkUrl() << "\n";
    for (size_t i = 0; i < cluster.masters().size(); ++i) {
      std::string address = "127.0.0.1:" + std::to_string(cluster.masterPorts()[i]);
      std::cout << "  master  http://" << address << "  pid " << cluster.masters()[i]->pid()
                << (address == leader ? "  (leading)" : "  (standby)") << "\n";
    }
  } else {
    std::cout << "  master  http://" << cluster.masterAddress() << "\n";
  }
  for (const auto& agent : cluster.agentsJson()) {
    std::cout << "  agent   http://" << agent.value("hostname", "") << ":" << agent.value("port", 0) << "  ("
              << agent.value("id", "") << ")\n";
  }
  std::cout << "  work dir " << cluster.workDir() << std::endl;
}

}  // namespace

namespace {

int runCluster(const LocalOptions& options) {
  sigset_t signals = stopSignals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  LocalCluster cluster(options);
  if (Status started = cluster.start(); !started) {
    std::cerr << "mezzo local: " << started.message() << std::endl;
    cluster.stop();
    cluster.cleanUp(/*keep=*/true);
    return 1;
  }
  printCluster(cluster);

  int exitCode = 0;
  if (options.runSample) {
    exitCode = runSample(cluster.masterUrl(), std::max(options.agents, 1));
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  } else {
    if (cluster.ha()) {
      std::cout << "Watch a failover:  kill -9 <pid of the leading master>  (a standby takes over in seconds;\n"
                << "agents and frameworks follow it through " << cluster.zkUrl() << ")\n";
    }
    std::cout << "Try:  mezzo run --master " << cluster.masterUrl() << " -- echo hello\n"
              << "Press Ctrl-C to stop the cluster" << std::endl;
    while (true) {
      if (int signal = waitForSignal(milliseconds(250)); signal != 0) {
        std::cout << "\nReceived " << strsignal(signal) << "; stopping the cluster" << std::endl;
        break;
      }
      if (auto dead = cluster.deadDaemon()) {
        std::cerr << "mezzo local: " << *dead << std::endl;
        exitCode = 1;
        break;
      }
      cluster.reapOrphans();
    }
  }
  cluster.stop();
  cluster.cleanUp(/*keep=*/exitCode != 0 || !options.workDir.empty());
  return exitCode;
}

}  // namespace

int runLocal(const LocalOptions& options) {
  if (options.agents < 0) {
    std::cerr << "mezzo local: --agents must not be negative" << std::endl;
    return 2;
  }
  return runInGuardedChild([&options] { return runCluster(options); });
}

}  // namespace mezzo::cli
