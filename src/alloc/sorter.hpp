// Sorter: decides who goes next when resources are handed out.
//
// A sorter holds clients (roles, or frameworks within a role) with a weight
// and the resources allocated to each, and returns the clients in the order
// they should be offered to. DrfSorter orders by weighted dominant share
// (dominant resource fairness, NSDI'11 Mesos paper §4): a client's share is
// the largest, over resource kinds, of allocated / cluster total, divided by
// its weight; ties break by client name so the order is deterministic.
//
// Thread-safety: none; owned by the Allocator, which is single-threaded.
#pragma once

#include <map>
#include <string>
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

  // Resources allocated to a client change its share.
  virtual void allocated(const std::string& client, const std::map<std::string, double>& quantities) = 0;
  virtual void unallocated(const std::string& client, const std::map<std::string, double>& quantities) = 0;

  // Cluster totals the shares are computed against.
  virtual void setTotal(const std::map<std::string, double>& totals) = 0;

  virtual double share(const std::string& client) const = 0;
  virtual std::vector<std::string> sort() const = 0;
  virtual size_t size() const = 0;
};

class DrfSorter final : public Sorter {
 public:
  void add(const std::string& client, double weight = 1.0) override;
  void remove(const std::string& client) override;
  bool contains(const std::string& client) const override;
  void setWeight(const std::string& client, double weight) override;
  void allocated(const std::string& client, const std::map<std::string, double>& quantities) override;
  void unallocated(const std::string& client, const std::map<std::string, double>& quantities) override;
  void setTotal(const std::map<std::string, double>& totals) override;
  double share(const std::string& client) const override;
  std::vector<std::string> sort() const override;
  size_t size() const override { return clients_.size(); }

 private:
  struct Client {
    double weight = 1.0;
    std::map<std::string, double> allocation;
  };

  std::map<std::string, Client> clients_;
  std::map<std::string, double> totals_;
};

}  // namespace mezzo::alloc
