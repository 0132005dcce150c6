// MasterDaemon: the I/O edge of the master. It owns the HTTP server, the
// open event streams and the timers, decodes requests into MasterCore calls
// and performs the Effects the core returns.
//
// Endpoints: POST /api/v1 (v1 operator API), POST /api/v1/scheduler (v1
// scheduler API), POST
// /internal/v1/agent (agent protocol), GET /state, /state-summary,
// /frameworks, /slaves, /tasks, /roles, /metrics/snapshot, /flags, /version,
// /health, /master/redirect (each also under the /master/ prefix).
//
// Thread-safety: everything runs on the one io_context thread passed in.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <map>
#include <memory>
#include <string>

#include "master/master_core.hpp"
#include "ha/leader.hpp"
#include "ha/zookeeper.hpp"
#include "master/registrar.hpp"
#include "master/state_json.hpp"
#include "mezzo/common/codec.hpp"
#include "mezzo/net/http_server.hpp"

namespace mezzo::master {

struct MasterFlags {
  std::string ip = "127.0.0.1";
  uint16_t port = 5050;
  std::string hostname;  // defaults to ip
  std::string cluster;   // --cluster: /state "cluster" when set
  std::string workDir;
  // sqlite (in --work_dir) | zookeeper (under --zk) | in_memory, as
  // master_main resolves --registry (unset: by --zk) with store::chooseRegistry.
  std::string registry;
  std::string zk;                      // zk://host:port[,host:port]/path; empty = standalone
  Duration zkSessionTimeout = std::chrono::seconds(10);
  Duration allocationInterval = std::chrono::seconds(1);
  std::optional<Duration> offerTimeout;
  Duration heartbeatInterval = std::chrono::seconds(15);
  Duration agentPingTimeout = std::chrono::seconds(15);
  uint32_t maxAgentPingTimeouts = 5;
  std::string agentRemovalRateLimit;   // "1/10secs"; empty = unlimited
  Duration agentReregisterTimeout = std::chrono::minutes(10);
  std::string recoveryAgentRemovalLimit = "100%";
  Duration registryGcInterval = std::chrono::minutes(15);
  Duration registryMaxAgentAge = std::chrono::hours(24 * 14);
  size_t registryMaxAgentCount = 100 * 1024;
  size_t maxUnreachableTasksPerFramework = 1000;
  size_t maxCompletedFrameworks = 50;
  size_t maxCompletedTasksPerFramework = 1000;
  size_t maxBodyBytes = 4 * 1024 * 1024;
  size_t maxConnections = 0;           // HTTP connections open at once; 0 = 3/4 of the open-file limit
  std::string weights;                 // "role1=2,role2=3"
  std::string minAllocatableResources; // "cpus:0.01|mem:32"
  std::string roleSorter = "drf";      // drf | random
  std::string frameworkSorter = "drf"; // drf | random
  bool filterGpuResources = true;      // agents with gpus only for GPU_RESOURCES frameworks
  // Every flag as given, for /flags.
  std::map<std::string, std::string> rendered;
};

class MasterDaemon {
 public:
  MasterDaemon(boost::asio::io_context& io, MasterFlags flags);
  ~MasterDaemon();

  // Validates flags, binds the port and starts the timers.
  Status start();
  uint16_t port() const { return server_.port(); }

 private:
  struct OpenStream {
    std::shared_ptr<net::StreamWriter> writer;
    MediaType mediaType = MediaType::kJson;
  };

  void route(net::Request&& request, net::Responder responder);
  void handleScheduler(net::Request&& request, net::Responder responder);
  void handleAgentProtocol(net::Request&& request, net::Responder responder);
  void handleTeardown(net::Request&& request, net::Responder responder);
  void handleOperator(net::Request&& request, net::Responder responder);  // operator_http.cpp
  void awaitRegistryWrite(const Result<uint64_t>& ticket, net::Responder responder);
  // The v0 maintenance endpoints (/maintenance/schedule, /maintenance/status,
  // /machine/down, /machine/up): same core calls, bare JSON bodies.
  void handleMaintenanceV0(const std::string& path, net::Request&& request, net::Responder responder);
  void completeOperatorReply(uint64_t ticket, const Status& status);
  void serveJson(const net::Request& request, net::Responder& responder, const std::string& json);

  // Standbys send API calls to the leader; true when the request was answered.
  bool redirectUnlessLeading(const net::Request& request, net::Responder& responder, const std::string& path);
  Status startElection();
  Result<std::unique_ptr<store::RegistryStore>> openRegistryStore();
  Status recoverSharedRegistry();
  void performEffects();
  void afterCoreCall();
  void scheduleTick();
  void scheduleAllocation();

  boost::asio::io_context& io_;
  MasterFlags flags_;
  SystemClock clock_;
  std::unique_ptr<Registrar> registrar_;
  std::unique_ptr<MasterCore> core_;
  MasterOptions coreOptions_;  // what core_ was built with (rebuilt on election with a shared registry)
  std::shared_ptr<ha::ZooKeeperGroup> zkGroup_;
  std::unique_ptr<ha::Contender> contender_;
  std::unique_ptr<ha::Detector> detector_;
  Leadership leadership_;
  net::HttpServer server_;
  std::map<std::string, OpenStream> streams_;
  // Operator calls waiting for their registry write, by ticket.
  std::multimap<uint64_t, net::Responder> pendingOperatorReplies_;
  boost::asio::steady_timer tickTimer_;
  boost::asio::steady_timer allocationTimer_;
  bool allocationPosted_ = false;
  TimePoint nextFullAllocation_{};
};

// Builds the MasterInfo advertised to frameworks and agents.
v1::MasterInfo makeMasterInfo(const std::string& ip, uint16_t port, const std::string& hostname);

// Parses --weights ("a=2,b=3").
Result<std::map<std::string, double>> parseWeights(const std::string& text);
// Parses a percentage flag ("50%") into a fraction (0.5).
Result<double> parsePercentage(const std::string& text);
// Parses --min_allocatable_resources ("cpus:0.01|mem:32").
Result<std::vector<std::map<std::string, double>>> parseMinAllocatable(const std::string& text);

}  // namespace mezzo::master
