#include <algorithm>

#include "alloc/sorter.hpp"

namespace mezzo::alloc {

void DrfSorter::add(const std::string& client, double weight) { clients_[client].weight = weight; }

void DrfSorter::remove(const std::string& client) { clients_.erase(client); }

bool DrfSorter::contains(const std::string& client) const { return clients_.contains(client); }

void DrfSorter::setWeight(const std::string& client, double weight) {
  auto it = clients_.find(client);
  if (it != clients_.end()) it->second.weight = weight;
}

void DrfSorter::allocated(const std::string& client, const std::map<std::string, double>& quantities) {
  auto& allocation = clients_[client].allocation;
  for (const auto& [name, value] : quantities) allocation[name] += value;
}

void DrfSorter::unallocated(const std::string& client, const std::map<std::string, double>& quantities) {
  auto it = clients_.find(client);
  if (it == clients_.end()) return;
  for (const auto& [name, value] : quantities) {
    double& current = it->second.allocation[name];
    current = std::max(0.0, current - value);
  }
}

void DrfSorter::setTotal(const std::map<std::string, double>& totals) { totals_ = totals; }

double DrfSorter::share(const std::string& client) const {
  auto it = clients_.find(client);
  if (it == clients_.end()) return 0.0;
  double dominant = 0.0;
  for (const auto& [name, value] : it->second.allocation) {
    auto total = totals_.find(name);
    if (total != totals_.end() && total->second > 0) {
      dominant = std::max(dominant, value / total->second);
    }
  }
  return it->second.weight > 0 ? dominant / it->second.weight : dominant;
}

std::vector<std::string> DrfSorter::sort() const {
  std::vector<std::pair<double, const std::string*>> order;
  order.reserve(clients_.size());
  for (const auto& [name, client] : clients_) order.emplace_back(share(name), &name);
  std::sort(order.begin(), order.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first < b.first : *a.second < *b.second;
  });
  std::vector<std::string> out;
  out.reserve(order.size());
  for (const auto& [share, name] : order) out.push_back(*name);
  return out;
}

}  // namespace mezzo::alloc
