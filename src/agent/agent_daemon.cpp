// Start-up, shutdown and request routing of the agent.
#include "agent/agent_daemon.hpp"
#include "ha/zookeeper.hpp"

#include <signal.h>
#include <unistd.h>
#include <spdlog/spdlog.h>

#include <filesystem>

#include "agent/process.hpp"
#include "mezzo/version.hpp"

namespace mezzo::agent {

namespace asio = boost::asio;
namespace http = boost::beast::http;

AgentDaemon::AgentDaemon(asio::io_context& io, AgentFlags flags)
    : io_(io), flags_(std::move(flags)),
      server_(io, net::ServerOptions{.maxConnections = flags_.maxConnections}, [this](net::Request&& request, net::Responder responder) {
        route(std::move(request), std::move(responder));
      }),
      childSignals_(io, SIGCHLD), reconnectTimer_(io), heartbeatTimer_(io), statusRetryTimer_(io),
      statusUpdates_(StatusUpdateOptions{flags_.statusUpdateRetryInterval, flags_.statusUpdateRetryMax}),
      checkpointer_(flags_.workDir), recoveredTimer_(io), sandboxGc_(flags_.gcDelay), sandboxGcTimer_(io) {}

AgentDaemon::~AgentDaemon() = default;

Status AgentDaemon::start() {
  if (flags_.master.starts_with("zk://")) {
    auto url = ha::parseZooKeeperUrl(flags_.master);
    if (!url) return Status::invalidArgument("Invalid --master: " + url.error());
    auto group = ha::ZooKeeperGroup::create(io_, *url, std::chrono::seconds(10));
    if (!group) return group.status();
    zooKeeper_ = *group;
    detector_ = ha::makeZooKeeperDetector(*group);
    leaderKnown_ = false;
  } else {
    auto master = net::parseEndpoint(flags_.master);
    if (!master) return Status::invalidArgument("Invalid --master: " + master.error());
    master_ = *master;
  }
  std::error_code ec;
  std::filesystem::create_directories(flags_.workDir, ec);
  if (ec) return Status::ioError("Cannot create --work_dir " + flags_.workDir + ": " + ec.message());
  flags_.workDir = std::filesystem::absolute(flags_.workDir).lexically_normal().string();
  if (flags_.workDir.size() > 1 && flags_.workDir.ends_with('/')) flags_.workDir.pop_back();

  auto resources = agentResources(flags_.resources, detectHostCapacity(flags_.workDir));
  if (!resources) return resources.status();
  auto attributes = parseAttributes(flags_.attributes);
  if (!attributes) return Status::invalidArgument("Invalid --attributes: " + attributes.error());
  if (flags_.executorPath.empty()) flags_.executorPath = selfExecutableDir() + "/mezzo-executor";
  if (flags_.defaultExecutorPath.empty()) {
    flags_.defaultExecutorPath = selfExecutableDir() + "/mezzo-default-executor";
  }
  if (access(flags_.executorPath.c_str(), X_OK) != 0) {
    spdlog::warn("Executor binary {} is not executable; command tasks will fail", flags_.executorPath);
  }

  Status isolation = startContainerizer();
  if (!isolation) return isolation;
  Status fetcher = startFetcher();
  if (!fetcher) return fetcher;
  checkpointer_ = Checkpointer(flags_.workDir);
  Status supervisor = startTaskSupervisor();
  if (!supervisor) return supervisor;
  resources->toProto(info_.mutable_resources());  // recover() checks them against the checkpoint
  for (v1::Attribute& attribute : *attributes) *info_.add_attributes() = std::move(attribute);
  const auto recoveryStart = std::chrono::steady_clock::now();
  Status recovered = recover();
  counters_.recoverySeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - recoveryStart).count();
  if (!recovered) return Status::ioError("Recovery from " + checkpointer_.metaDir() + " failed: " + recovered.message());
  killUnrecoveredSupervisedTasks();
  recoverContainers();
  scheduleLeftoverSandboxes();
  collectSandboxGarbage();
  watchChildren();  // before any child exists, so no exit is missed
  auto port = server_.listen(flags_.ip, flags_.port);
  if (!port) return port.status();
  startTime_ = clock_.now();
  // Executors on this host reach a wildcard listener through loopback.
  const bool wildcard = flags_.ip == "0.0.0.0" || flags_.ip == "::";
  advertisedEndpoint_ = (wildcard ? std::string("127.0.0.1") : flags_.ip) + ":" + std::to_string(*port);
  flags_.rendered["port"] = std::to_string(*port);
  flags_.rendered["work_dir"] = flags_.workDir;
  flags_.rendered["executor_path"] = flags_.executorPath;
  flags_.rendered["default_executor_path"] = flags_.defaultExecutorPath;

  if (flags_.hostname.empty()) {
    char name[256] = {};
    flags_.hostname = wildcard && gethostname(name, sizeof(name) - 1) == 0 ? std::string(name) : flags_.ip;
  }
  info_.set_hostname(flags_.hostname);
  info_.set_port(*port);
  spdlog::info("Agent listening on {} with resources {}", advertisedEndpoint_, resources->toString());
  if (detector_) {
    detector_->start([this](const std::optional<v1::MasterInfo>& leader) { onLeaderChanged(leader); });
  } else {
    connectToMaster();
  }
  return Status::ok();
}

void AgentDaemon::stop() { stopAndDestroy(ExecutorsToDestroy::kNonCheckpointing); }

void AgentDaemon::stopAndDestroy(ExecutorsToDestroy which) {
  stopping_ = true;
  for (auto& [frameworkId, framework] : frameworks_) {
    if (which == ExecutorsToDestroy::kNonCheckpointing && framework->info.checkpoint()) continue;
    for (auto& [executorId, executor] : framework->executors) {
      if (executor->pid > 0) {
        spdlog::info("Destroying executor {} of framework {}", executorId.value(), frameworkId.value());
        destroyContainer(*executor, true);
      }
    }
  }
  if (masterStream_) masterStream_->close();
  server_.stop();
  io_.stop();
}

void AgentDaemon::route(net::Request&& request, net::Responder responder) {
  std::string path(net::targetPath(std::string(request.target())));
  if (path.starts_with("/slave(1)/")) path = path.substr(9);
  if (path.ends_with(".json")) path = path.substr(0, path.size() - 5);

  if (path == "/api/v1/executor") return handleExecutorApi(std::move(request), std::move(responder));
  if (path == "/api/v1") return handleOperatorApi(std::move(request), std::move(responder));
  if (path == "/health") return responder.respond(net::Response::empty(200));
  if (request.method() != http::verb::get && request.method() != http::verb::head) {
    net::Response response = net::Response::text(405, "Expecting a GET request");
    response.headers.emplace_back("Allow", "GET");
    return responder.respond(std::move(response));
  }
  std::string body;
  if (path == "/state") {
    body = renderState().dump();
  } else if (path == "/flags") {
    nlohmann::json flags = nlohmann::json::object();
    for (const auto& [name, value] : flags_.rendered) flags[name] = value;
    body = nlohmann::json{{"flags", flags}}.dump();
  } else if (path == "/version") {
    body = nlohmann::json{{"version", kMezzoMesosVersion}, {"mezzo_version", kMezzoVersion},
                          {"build_date", __DATE__}, {"build_time", 0}, {"build_user", ""},
                          {"git_sha", ""}, {"git_branch", ""}, {"git_tag", ""}}
               .dump();
  } else if (path == "/metrics/snapshot") {
    body = renderMetrics().dump();
  } else if (path == "/monitor/statistics") {
    body = renderStatistics().dump();
  } else if (path == "/files/read") {
    return serveFilesRead(request, responder);
  } else if (path == "/files/download") {
    return serveFilesDownload(request, responder);
  } else if (path == "/files/browse") {
    return serveFilesBrowse(request, responder);
  } else {
    return responder.respond(net::Response::text(404, "No such endpoint: " + path));
  }
  std::string callback = net::queryParameter(std::string(request.target()), "jsonp");
  if (!callback.empty()) {
    return responder.respond(net::Response{200, "text/javascript", callback + "(" + body + ");", {}});
  }
  responder.respond(net::Response::json(200, std::move(body)));
}

}  // namespace mezzo::agent
