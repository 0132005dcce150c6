#include "master/master_daemon.hpp"

#include <arpa/inet.h>
#include <boost/asio/post.hpp>
#include <filesystem>
#include <spdlog/spdlog.h>

#include "ha/zookeeper.hpp"
#include "master/state_json.hpp"
#include "mezzo/common/recordio.hpp"
#include "mezzo/version.hpp"

namespace mezzo::master {

namespace asio = boost::asio;
namespace http = boost::beast::http;

v1::MasterInfo makeMasterInfo(const std::string& ip, uint16_t port, const std::string& hostname) {
  v1::MasterInfo info;
  info.set_id(randomUuidString());
  in_addr address{};
  inet_pton(AF_INET, ip.c_str(), &address);
  info.set_ip(address.s_addr);
  info.set_port(port);
  info.set_pid("master@" + ip + ":" + std::to_string(port));
  info.set_hostname(hostname.empty() ? ip : hostname);
  info.set_version(kMezzoMesosVersion);
  info.mutable_address()->set_hostname(info.hostname());
  info.mutable_address()->set_ip(ip);
  info.mutable_address()->set_port(port);
  return info;
}

Result<std::map<std::string, double>> parseWeights(const std::string& text) {
  std::map<std::string, double> weights;
  size_t start = 0;
  while (start < text.size()) {
    size_t comma = text.find(',', start);
    std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    size_t eq = item.find('=');
    if (eq == std::string::npos) return Status::invalidArgument("Invalid weight '" + item + "': expected role=weight");
    std::string role = item.substr(0, eq);
    std::string error = validateRoleName(role);
    if (!error.empty()) return Status::invalidArgument(error);
    try {
      double weight = std::stod(item.substr(eq + 1));
      if (!(weight > 0)) return Status::invalidArgument("Weight of role '" + role + "' must be positive");
      weights[role] = weight;
    } catch (const std::exception&) {
      return Status::invalidArgument("Invalid weight '" + item + "'");
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return weights;
}

Result<double> parsePercentage(const std::string& text) {
  if (!text.ends_with('%')) return Status::invalidArgument("'" + text + "' is not a percentage (e.g. '50%')");
  try {
    size_t used = 0;
    double value = std::stod(text.substr(0, text.size() - 1), &used);
    if (used != text.size() - 1 || value < 0 || value > 100) {
      return Status::invalidArgument("'" + text + "' is not between 0% and 100%");
    }
    return value / 100.0;
  } catch (const std::exception&) {
    return Status::invalidArgument("'" + text + "' is not a percentage (e.g. '50%')");
  }
}

Result<std::vector<std::map<std::string, double>>> parseMinAllocatable(const std::string& text) {
  std::vector<std::map<std::string, double>> result;
  size_t start = 0;
  while (start <= text.size()) {
    size_t bar = text.find('|', start);
    std::string item = text.substr(start, bar == std::string::npos ? std::string::npos : bar - start);
    auto resources = Resources::parse(item);
    if (!resources) return Status::invalidArgument("Invalid --min_allocatable_resources: " + resources.error());
    result.push_back(resources->scalarQuantities());
    if (bar == std::string::npos) break;
    start = bar + 1;
  }
  return result;
}

MasterDaemon::MasterDaemon(asio::io_context& io, MasterFlags flags)
    : io_(io), flags_(std::move(flags)),
      server_(io, net::ServerOptions{.maxBodyBytes = flags_.maxBodyBytes, .maxConnections = flags_.maxConnections},
              [this](net::Request&& request, net::Responder responder) {
        route(std::move(request), std::move(responder));
      }),
      tickTimer_(io), allocationTimer_(io) {}

MasterDaemon::~MasterDaemon() = default;

Status MasterDaemon::start() {
  MasterOptions options;
  options.heartbeatInterval = flags_.heartbeatInterval;
  options.offerTimeout = flags_.offerTimeout;
  options.maxCompletedFrameworks = flags_.maxCompletedFrameworks;
  options.maxCompletedTasksPerFramework = flags_.maxCompletedTasksPerFramework;
  options.maxUnreachableTasksPerFramework = flags_.maxUnreachableTasksPerFramework;
  if (flags_.agentPingTimeout <= Duration::zero()) return Status::invalidArgument("--agent_ping_timeout must be positive");
  if (flags_.maxAgentPingTimeouts == 0) return Status::invalidArgument("--max_agent_ping_timeouts must be positive");
  options.agentPingTimeout = flags_.agentPingTimeout;
  options.maxAgentPingTimeouts = flags_.maxAgentPingTimeouts;
  if (!flags_.agentRemovalRateLimit.empty()) {
    auto rate = parseRemovalRate(flags_.agentRemovalRateLimit);
    if (!rate) return Status::invalidArgument("Invalid --agent_removal_rate_limit: " + rate.error());
    options.agentRemovalRate = *rate;
  }
  if (flags_.agentReregisterTimeout <= Duration::zero()) {
    return Status::invalidArgument("--agent_reregister_timeout must be positive");
  }
  if (flags_.agentReregisterTimeout < std::chrono::minutes(10)) {
    spdlog::warn("--agent_reregister_timeout is below 10mins (Mesos's minimum); agents that are merely slow "
                 "to re-register after a failover will be marked unreachable");
  }
  options.agentReregisterTimeout = flags_.agentReregisterTimeout;
  auto limit = parsePercentage(flags_.recoveryAgentRemovalLimit);
  if (!limit) return Status::invalidArgument("Invalid --recovery_agent_removal_limit: " + limit.error());
  options.recoveryAgentRemovalLimit = *limit;
  if (flags_.registryGcInterval <= Duration::zero()) {
    return Status::invalidArgument("--registry_gc_interval must be positive");
  }
  options.registryGcInterval = flags_.registryGcInterval;
  options.registryMaxAgentAge = flags_.registryMaxAgentAge;
  options.registryMaxAgentCount = flags_.registryMaxAgentCount;
  if (!flags_.weights.empty()) {
    auto weights = parseWeights(flags_.weights);
    if (!weights) return weights.status();
    options.weights = *weights;
  }
  if (!flags_.minAllocatableResources.empty()) {
    auto minimum = parseMinAllocatable(flags_.minAllocatableResources);
    if (!minimum) return minimum.status();
    options.allocator.minAllocatable = *minimum;
  }
  auto sorterKind = [](const std::string& name) {
    return name == "random" ? alloc::SorterKind::kRandom : alloc::SorterKind::kDrf;
  };
  options.allocator.roleSorter = sorterKind(flags_.roleSorter);
  options.allocator.frameworkSorter = sorterKind(flags_.frameworkSorter);
  options.allocator.filterGpuResources = flags_.filterGpuResources;
  options.allocator.randomSeed = static_cast<uint64_t>(clock_.now().time_since_epoch().count());
  auto store = openRegistryStore();
  if (!store) return store.status();
  registrar_ = std::make_unique<Registrar>(io_, std::move(*store));
  auto recovered = registrar_->recover();
  if (!recovered) return Status(recovered.status().code(), "Registry recovery failed: " + recovered.error());
  spdlog::info("Recovered the {} registry: {} admitted agents, {} weights", registrar_->storeName(),
               recovered->admitted().size(), recovered->weights().size());

  auto port = server_.listen(flags_.ip, flags_.port);
  if (!port) return port.status();
  options.masterInfo = makeMasterInfo(flags_.ip, *port, flags_.hostname);
  flags_.rendered["port"] = std::to_string(*port);
  coreOptions_ = options;
  core_ = std::make_unique<MasterCore>(std::move(options), clock_.now(), std::move(*recovered));
  spdlog::info("Master {} listening on {}:{}", core_->options().masterInfo.id(), flags_.ip, *port);
  nextFullAllocation_ = clock_.now() + flags_.allocationInterval;
  scheduleTick();
  return startElection();
}

Result<std::unique_ptr<store::RegistryStore>> MasterDaemon::openRegistryStore() {
  if (flags_.registry == "in_memory") return store::makeInMemoryRegistryStore();
  if (flags_.registry == "zookeeper") {
    if (flags_.zk.empty()) return Status::invalidArgument("--registry=zookeeper needs --zk");
    auto url = ha::parseZooKeeperUrl(flags_.zk);
    if (!url) return Status::invalidArgument("Invalid --zk: " + url.error());
    // Writes are fenced by this master's election znode: once it is gone (a
    // successor may be leading), nothing more is written.
    return store::openZooKeeperRegistryStore({url->servers, url->path + "/registry", flags_.zkSessionTimeout,
                                              [this] { return zkGroup_ ? zkGroup_->memberPath() : std::string(); }});
  }
  if (flags_.registry != "sqlite") {
    return Status::invalidArgument("Unknown --registry '" + flags_.registry + "' (sqlite, zookeeper or in_memory)");
  }
  if (flags_.workDir.empty()) return Status::invalidArgument("--work_dir is required with --registry=sqlite");
  std::error_code ec;
  std::filesystem::create_directories(flags_.workDir, ec);
  if (ec) return Status::ioError("Cannot create --work_dir '" + flags_.workDir + "': " + ec.message());
  return store::openSqliteRegistryStore(flags_.workDir + "/registry.sqlite");
}

// A registry shared through ZooKeeper may have changed while this master
// stood by: the newly elected leader reads it again and starts from it (a
// standby's core holds nothing else: it redirected every call).
Status MasterDaemon::recoverSharedRegistry() {
  if (flags_.registry != "zookeeper") return Status::ok();
  auto recovered = registrar_->recover();
  if (!recovered) return Status(recovered.status().code(), "Registry recovery failed: " + recovered.error());
  spdlog::info("Recovered the zookeeper registry on election: {} admitted agents, {} unreachable, {} weights, {} quotas",
               recovered->admitted().size(), recovered->unreachable().size(), recovered->weights().size(),
               recovered->quotas().size());
  core_ = std::make_unique<MasterCore>(coreOptions_, clock_.now(), std::move(*recovered));
  return Status::ok();
}

Status MasterDaemon::startElection() {
  const v1::MasterInfo& self = core_->options().masterInfo;
  if (flags_.zk.empty()) {
    leadership_ = Leadership{true, self, clock_.now()};
    core_->startAgentReregistrationTimeout(clock_.now());
    return Status::ok();
  }
  auto url = ha::parseZooKeeperUrl(flags_.zk);
  if (!url) return Status::invalidArgument("Invalid --zk: " + url.error());
  auto group = ha::ZooKeeperGroup::create(io_, *url, flags_.zkSessionTimeout);
  if (!group) return group.status();
  zkGroup_ = *group;
  leadership_ = Leadership{false, std::nullopt, std::nullopt};
  contender_ = ha::makeZooKeeperContender(*group, self);
  detector_ = ha::makeZooKeeperDetector(*group);
  contender_->start([this](bool elected) {
    if (elected) {
      spdlog::info("Elected as the leading master");
      if (Status status = recoverSharedRegistry(); !status) {
        spdlog::critical("{}; exiting", status.message());
        spdlog::default_logger()->flush();
        std::_Exit(EXIT_FAILURE);
      }
      leadership_.elected = true;
      leadership_.electedTime = clock_.now();
      core_->startAgentReregistrationTimeout(clock_.now());
    } else if (leadership_.elected) {
      // As Mesos does: a leader that lost its ZooKeeper session stops; its
      // supervisor restarts it as a standby.
      spdlog::critical("Lost leadership (ZooKeeper session); exiting");
      spdlog::default_logger()->flush();
      std::_Exit(EXIT_FAILURE);
    }
  });
  detector_->start([this](const std::optional<v1::MasterInfo>& leader) {
    leadership_.leader = leader;
    spdlog::info("Leading master is now {}", leader ? leader->pid() : std::string("unknown"));
  });
  spdlog::info("Contending for leadership at {}", flags_.zk);
  return Status::ok();
}

// Non-leading masters answer API calls with 307 to the leader, keeping the
// path and query (`Location: //host:port/path`), or 503 when no leader is known.
bool MasterDaemon::redirectUnlessLeading(const net::Request& request, net::Responder& responder,
                                         const std::string& path) {
  if (leadership_.elected) return false;
  if (!leadership_.leader) {
    responder.respond(net::Response::text(503, "No leader elected"));
    return true;
  }
  const v1::MasterInfo& leader = *leadership_.leader;
  std::string location = "//" + leader.hostname() + ":" + std::to_string(leader.port());
  if (path != "/redirect") location += std::string(request.target());
  net::Response response = net::Response::empty(307);
  response.headers.emplace_back("Location", location);
  responder.respond(std::move(response));
  return true;
}

void MasterDaemon::scheduleTick() {
  tickTimer_.expires_after(std::chrono::milliseconds(100));
  tickTimer_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    TimePoint now = clock_.now();
    // A standby keeps no timers of its own: agents re-register and frameworks
    // re-subscribe with whichever master leads.
    if (leadership_.elected) core_->tick(now);
    if (now >= nextFullAllocation_) {
      core_->allocate(now);
      nextFullAllocation_ = now + flags_.allocationInterval;
    }
    afterCoreCall();
    scheduleTick();
  });
}

// Event-triggered allocation: changes that free resources or add consumers
// are offered in the next turn of the loop, batched with whatever else
// arrived meanwhile, instead of waiting for the allocation interval.
void MasterDaemon::scheduleAllocation() {
  if (allocationPosted_) return;
  allocationPosted_ = true;
  asio::post(io_, [this] {
    allocationPosted_ = false;
    core_->allocate(clock_.now());
    performEffects();
  });
}

void MasterDaemon::afterCoreCall() {
  performEffects();
  if (core_->allocationWanted()) scheduleAllocation();
}

void MasterDaemon::performEffects() {
  for (Effect& effect : core_->takeEffects()) {
    if (auto* send = std::get_if<SendFrameworkEvent>(&effect)) {
      auto it = streams_.find(send->streamId);
      if (it != streams_.end()) it->second.writer->write(encodeRecord(encodeMessage(it->second.mediaType, send->event)));
    } else if (auto* agentSend = std::get_if<SendAgentEvent>(&effect)) {
      auto it = streams_.find(agentSend->streamId);
      if (it != streams_.end()) it->second.writer->write(encodeRecord(agentSend->event.SerializeAsString()));
    } else if (auto* persist = std::get_if<PersistRegistry>(&effect)) {
      uint64_t ticket = persist->ticket;
      registrar_->append(std::move(persist->operation), [this, ticket](const Status& status) {
        core_->registryOperationDone(ticket, status, clock_.now());
        completeOperatorReply(ticket, status);
        afterCoreCall();
      });
    } else if (auto* abort = std::get_if<Abort>(&effect)) {
      spdlog::critical("{}; exiting", abort->reason);
      spdlog::default_logger()->flush();
      std::_Exit(EXIT_FAILURE);
    } else if (auto* close = std::get_if<CloseStream>(&effect)) {
      auto it = streams_.find(close->streamId);
      if (it != streams_.end()) {
        it->second.writer->close();
        streams_.erase(it);
      }
    }
  }
}

void MasterDaemon::route(net::Request&& request, net::Responder responder) {
  std::string path(net::targetPath(std::string(request.target())));
  if (path.starts_with("/master/")) path = path.substr(7);
  if (path.ends_with(".json")) path = path.substr(0, path.size() - 5);

  const bool maintenanceV0 = path == "/maintenance/schedule" || path == "/maintenance/status" ||
                            path == "/machine/down" || path == "/machine/up";
  if ((path == "/api/v1/scheduler" || path == "/internal/v1/agent" || path == "/teardown" || path == "/redirect" ||
       maintenanceV0) &&
      redirectUnlessLeading(request, responder, path)) {
    return;
  }
  if (maintenanceV0) return handleMaintenanceV0(path, std::move(request), std::move(responder));
  if (path == "/api/v1") return handleOperator(std::move(request), std::move(responder));
  if (path == "/api/v1/scheduler") return handleScheduler(std::move(request), std::move(responder));
  if (path == "/internal/v1/agent") return handleAgentProtocol(std::move(request), std::move(responder));
  if (path == "/teardown") return handleTeardown(std::move(request), std::move(responder));
  if (path == "/health") return responder.respond(net::Response::empty(200));
  if (path == "/redirect") {
    const v1::MasterInfo& info = core_->options().masterInfo;  // leading: point at ourselves
    net::Response response = net::Response::empty(307);
    response.headers.emplace_back("Location", "//" + info.hostname() + ":" + std::to_string(info.port()));
    return responder.respond(std::move(response));
  }
  if (request.method() != http::verb::get && request.method() != http::verb::head) {
    if (path == "/state" || path == "/version" || path == "/flags" || path == "/metrics/snapshot") {
      net::Response response = net::Response::text(405, "Expecting a GET request");
      response.headers.emplace_back("Allow", "GET");
      return responder.respond(std::move(response));
    }
  }
  TimePoint now = clock_.now();
  std::string target(request.target());
  if (path == "/state") return serveJson(request, responder, renderState(*core_, flags_.rendered, leadership_, now).dump());
  if (path == "/state-summary") return serveJson(request, responder, renderStateSummary(*core_, flags_.rendered).dump());
  if (path == "/frameworks") return serveJson(request, responder, renderFrameworks(*core_, now).dump());
  if (path == "/slaves") return serveJson(request, responder, renderAgents(*core_).dump());
  if (path == "/tasks") return serveJson(request, responder, renderTasks(*core_, target).dump());
  if (path == "/roles") return serveJson(request, responder, renderRoles(*core_).dump());
  if (path == "/metrics/snapshot") return serveJson(request, responder, renderMetrics(*core_, leadership_, now).dump());
  if (path == "/version") return serveJson(request, responder, renderVersion().dump());
  if (path == "/flags") return serveJson(request, responder, renderFlags(flags_.rendered).dump());
  responder.respond(net::Response::text(404, "No such endpoint: " + path));
}

void MasterDaemon::serveJson(const net::Request& request, net::Responder& responder, const std::string& json) {
  std::string callback = net::queryParameter(std::string(request.target()), "jsonp");
  if (!callback.empty()) {
    responder.respond(net::Response{200, "text/javascript", callback + "(" + json + ");", {}});
    return;
  }
  responder.respond(net::Response::json(200, json));
}

void MasterDaemon::handleTeardown(net::Request&& request, net::Responder responder) {
  if (request.method() != http::verb::post) {
    return responder.respond(net::Response::text(405, "Expecting a POST request"));
  }
  std::string body = request.body();
  std::string id = net::queryParameter("?" + body, "frameworkId");
  if (id.empty()) return responder.respond(net::Response::text(400, "Missing 'frameworkId' query parameter"));
  Status status = core_->teardownFramework(FrameworkId(id), clock_.now());
  afterCoreCall();
  if (!status) return responder.respond(net::Response::text(400, status.message()));
  responder.respond(net::Response::empty(200));
}

}  // namespace mezzo::master
