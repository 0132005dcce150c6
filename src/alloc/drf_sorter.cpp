#include <algorithm>

#include "alloc/sorter.hpp"

namespace mezzo::alloc {

void DrfSorter::add(const std::string& client, double weight) {
  auto [it, inserted] = clients_.try_emplace(client);
  it->second.weight = weight;
  if (inserted) order_.emplace(it->second.share, client);
  reposition(client, it->second);
}

void DrfSorter::setActive(const std::string& client, bool active) {
  auto it = clients_.find(client);
  if (it == clients_.end() || it->second.active == active) return;
  it->second.active = active;
  if (active) {
    it->second.share = computeShare(it->second);
    order_.emplace(it->second.share, client);
  } else {
    order_.erase({it->second.share, client});
  }
}

void DrfSorter::remove(const std::string& client) {
  auto it = clients_.find(client);
  if (it == clients_.end()) return;
  if (it->second.active) order_.erase({it->second.share, client});
  clients_.erase(it);
}

bool DrfSorter::contains(const std::string& client) const { return clients_.contains(client); }

void DrfSorter::setWeight(const std::string& client, double weight) {
  auto it = clients_.find(client);
  if (it == clients_.end()) return;
  it->second.weight = weight;
  reposition(client, it->second);
}

void DrfSorter::allocated(const std::string& client, const std::map<std::string, double>& quantities) {
  auto [it, inserted] = clients_.try_emplace(client);
  if (inserted) order_.emplace(it->second.share, client);
  for (const auto& [name, value] : quantities) it->second.allocation[name] += value;
  reposition(client, it->second);
}

void DrfSorter::unallocated(const std::string& client, const std::map<std::string, double>& quantities) {
  auto it = clients_.find(client);
  if (it == clients_.end()) return;
  for (const auto& [name, value] : quantities) {
    double& current = it->second.allocation[name];
    current = std::max(0.0, current - value);
  }
  reposition(client, it->second);
}

void DrfSorter::setTotal(const std::map<std::string, double>& totals) {
  if (totals == totals_) return;
  totals_ = totals;
  order_.clear();
  for (auto& [name, client] : clients_) {
    client.share = computeShare(client);
    if (client.active) order_.emplace(client.share, name);
  }
}

double DrfSorter::computeShare(const Client& client) const {
  double dominant = 0.0;
  for (const auto& [name, value] : client.allocation) {
    auto total = totals_.find(name);
    if (total != totals_.end() && total->second > 0) {
      dominant = std::max(dominant, value / total->second);
    }
  }
  return client.weight > 0 ? dominant / client.weight : dominant;
}

void DrfSorter::reposition(const std::string& name, Client& client) {
  double share = computeShare(client);
  if (share == client.share) return;
  if (client.active) order_.erase({client.share, name});
  client.share = share;
  if (client.active) order_.emplace(share, name);
}

double DrfSorter::share(const std::string& client) const {
  auto it = clients_.find(client);
  return it == clients_.end() ? 0.0 : it->second.share;
}

std::vector<std::string> DrfSorter::sort() const {
  std::vector<std::string> out;
  out.reserve(order_.size());
  for (const auto& [share, name] : order_) out.push_back(name);
  return out;
}

void DrfSorter::forEach(const std::function<bool(const std::string&)>& visit) const {
  for (const auto& [share, name] : order_) {
    if (!visit(name)) return;
  }
}

}  // namespace mezzo::alloc
