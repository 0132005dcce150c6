#include "cli/list.hpp"

#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/table.hpp"
#include "ha/leader_lookup.hpp"
#include "mezzo/net/http_client.hpp"

namespace mezzo::cli {

int runList(ListKind kind, const std::string& masterFlag, bool json) {
  // zk://...: ask ZooKeeper which master leads (standbys hold no state).
  auto resolved = ha::resolveMasterAddress(masterFlag, std::chrono::seconds(10));
  if (!resolved) {
    std::cerr << "mezzo: " << resolved.error() << std::endl;
    return 1;
  }
  const std::string& master = *resolved;
  auto endpoint = net::parseEndpoint(master);
  if (!endpoint) {
    std::cerr << "mezzo: invalid --master: " << endpoint.error() << std::endl;
    return 2;
  }
  const char* path = kind == ListKind::kTasks ? "/tasks" : kind == ListKind::kAgents ? "/slaves" : "/frameworks";
  net::ClientRequest request;
  request.method = boost::beast::http::verb::get;
  request.target = path;
  request.timeout = std::chrono::milliseconds(10000);
  auto response = net::httpRequestSync(*endpoint, request);
  if (!response) {
    std::cerr << "mezzo: cannot reach the master at " << master << ": " << response.error() << std::endl;
    return 1;
  }
  if (response->status != 200) {
    std::cerr << "mezzo: GET " << path << " answered HTTP " << response->status << ": " << response->body << std::endl;
    return 1;
  }
  if (json) {
    std::cout << response->body;
    if (!response->body.empty() && response->body.back() != '\n') std::cout << '\n';
    return 0;
  }
  auto parsed = nlohmann::json::parse(response->body, nullptr, false);
  if (parsed.is_discarded()) {
    std::cerr << "mezzo: the master's " << path << " is not JSON" << std::endl;
    return 1;
  }
  switch (kind) {
    case ListKind::kTasks:
      std::cout << renderTasks(parsed);
      break;
    case ListKind::kAgents:
      std::cout << renderAgents(parsed);
      break;
    case ListKind::kFrameworks:
      std::cout << renderFrameworks(parsed);
      break;
  }
  return 0;
}

}  // namespace mezzo::cli
