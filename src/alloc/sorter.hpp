// Sorter: decides who goes next when resources are handed out.
//
// A sorter holds clients (roles, or frameworks within a role) with a weight
// and the resources allocated to each, and returns the clients in the order
// they should be offered to. DrfSorter orders by weighted dominant share
// (dominant resource fairness, NSDI'11 Mesos paper §4): a client's share is
// the largest, over resource kinds, of allocated / cluster total, divided by
// its weight; ties break by client name so the order is deterministic.
//
// DrfSorter is incremental: each client's share is cached and the clients
// are kept in an ordered set, so a change re-sorts only the client whose
// allocation or weight changed (O(log n)); a change of the cluster totals
// recomputes every share once. forEach() walks the order without copying.
//
// Thread-safety: none; owned by the Allocator, which is single-threaded.
#pragma once

#include <functional>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "mezzo/common/resources.hpp"

namespace mezzo::alloc {

class Sorter {
 public:
  virtual ~Sorter() = default;

  virtual void add(const std::string& client, double weight = 1.0) = 0;
  virtual void remove(const std::string& client) = 0;
  virtual bool contains(const std::string& client) const = 0;
  virtual void setWeight(const std::string& client, double weight) = 0;
  // An inactive client keeps its allocation but is left out of sort() and
  // forEach() (e.g. a role at its quota limit). Clients start active.
  virtual void setActive(const std::string& client, bool active) = 0;

  // Resources allocated to a client change its share.
  virtual void allocated(const std::string& client, const std::map<std::string, double>& quantities) = 0;
  virtual void unallocated(const std::string& client, const std::map<std::string, double>& quantities) = 0;

  // Cluster totals the shares are computed against.
  virtual void setTotal(const std::map<std::string, double>& totals) = 0;

  virtual double share(const std::string& client) const = 0;
  virtual std::vector<std::string> sort() const = 0;
  // Visits the clients in sort() order until `visit` returns false. The
  // sorter must not be changed during the walk.
  virtual void forEach(const std::function<bool(const std::string&)>& visit) const = 0;
  virtual size_t size() const = 0;
};

class DrfSorter final : public Sorter {
 public:
  void add(const std::string& client, double weight = 1.0) override;
  void remove(const std::string& client) override;
  bool contains(const std::string& client) const override;
  void setWeight(const std::string& client, double weight) override;
  void setActive(const std::string& client, bool active) override;
  void allocated(const std::string& client, const std::map<std::string, double>& quantities) override;
  void unallocated(const std::string& client, const std::map<std::string, double>& quantities) override;
  void setTotal(const std::map<std::string, double>& totals) override;
  double share(const std::string& client) const override;
  std::vector<std::string> sort() const override;
  void forEach(const std::function<bool(const std::string&)>& visit) const override;
  size_t size() const override { return clients_.size(); }

 private:
  struct Client {
    double weight = 1.0;
    std::map<std::string, double> allocation;
    double share = 0.0;  // cached; the key of this client in order_
    bool active = true;  // in order_
  };

  double computeShare(const Client& client) const;
  // Re-computes one client's share and moves it in order_.
  void reposition(const std::string& name, Client& client);

  std::unordered_map<std::string, Client> clients_;
  std::set<std::pair<double, std::string>> order_;  // (share, name)
  std::map<std::string, double> totals_;
};

}  // namespace mezzo::alloc
