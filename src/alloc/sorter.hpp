// Sorter: decides who goes next when resources are handed out.
//
// A sorter holds clients (roles, or the frameworks of one role) with
// weights and the resources allocated to each, and walks them in the order
// they should be offered to. Two orders (SorterKind):
//
// - kDrf: weighted dominant resource fairness (NSDI'11 Mesos paper §4). A
//   node's share is the largest, over resource kinds, of its allocation /
//   the cluster total, divided by its weight; lowest first. Ties go to the
//   node allocated to fewer times, then by a seeded hash of its name.
// - kRandom: a fresh random order on every walk, each node drawn with
//   probability proportional to its weight (Mesos's --role_sorter=random).
//
// With ClientNames::kHierarchical, client names are role paths
// (`eng/ml/training`) and the order is decided level by level: siblings
// are ordered among themselves, a node's allocation being that of its whole
// subtree, and a subtree is walked in full before its next sibling. So a
// subtree holding many roles gets no more than its own weight entitles it
// to. Weights belong to paths (setWeight("eng", 2) weighs the `eng`
// subtree against its siblings, whether or not `eng` is itself a client).
// A client that also has child roles (`eng` and `eng/ml`) competes with
// those children as one more child of weight 1 holding `eng`'s own
// allocation. With ClientNames::kFlat every client is a direct child of the
// root (framework ids, which are not paths).
//
// Eligibility classes: each client carries a bit set of classes (all bits
// by default); a walk passes the classes it wants and skips every client,
// and every subtree, sharing none of them, without visiting it. The
// allocator uses one class per minimum-allocatable group, so roles whose
// quota cannot take what an agent has left are passed over in O(1) each,
// and subtrees in which nothing can take it are not entered at all.
// A client with no class (setActive(client, false)) keeps its allocation.
//
// Cost: kDrf is incremental; each node's children are kept in share order,
// an allocation change moves the client and its ancestors (O(depth log n));
// a change of totals recomputes every share once. kRandom shuffles the
// eligible children of each entered node on every walk.
//
// Thread-safety: none; owned by the Allocator, which is single-threaded.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

namespace mezzo::alloc {

enum class SorterKind { kDrf, kRandom };
enum class ClientNames { kFlat, kHierarchical };

// A set of eligibility classes (bit i = class i, i < Sorter::kMaxClasses).
using ClassMask = uint32_t;
inline constexpr ClassMask kAllClasses = ~ClassMask{0};

class Sorter {
 public:
  static constexpr int kMaxClasses = 32;

  explicit Sorter(SorterKind kind = SorterKind::kDrf, ClientNames names = ClientNames::kFlat, uint64_t seed = 0);
  ~Sorter();
  Sorter(const Sorter&) = delete;
  Sorter& operator=(const Sorter&) = delete;

  // Adds a client (no-op if present); with a weight, also setWeight(client, weight),
  // else the weight set before for that name (1 by default) applies.
  void add(const std::string& client, std::optional<double> weight = std::nullopt);
  // Removes a client and its allocation.
  void remove(const std::string& client);
  bool contains(const std::string& client) const;
  // The weight of a path (kHierarchical; kept even while no client is at
  // or below it) or of a client (kFlat).
  void setWeight(const std::string& name, double weight);
  // Which classes a client belongs to; 0 leaves it out of walks.
  void setClasses(const std::string& client, ClassMask classes);
  void setActive(const std::string& client, bool active) { setClasses(client, active ? kAllClasses : 0); }

  // Resources allocated to a client change its share (and its ancestors').
  void allocated(const std::string& client, const std::map<std::string, double>& quantities);
  void unallocated(const std::string& client, const std::map<std::string, double>& quantities);

  // Cluster totals the shares are computed against.
  void setTotal(const std::map<std::string, double>& totals);

  // The DRF share of a client, or with kHierarchical of a path's subtree
  // (0 if unknown). Both kinds keep shares, for metrics.
  double share(const std::string& name) const;

  // Visits the clients in order until `visit` returns false, skipping those
  // with no class in `wanted`. `wanted` is read before each step, so the
  // visitor may narrow it (e.g. as an agent runs out of resources). The
  // sorter must not be changed during the walk.
  void forEach(const std::function<bool(const std::string&)>& visit, const ClassMask& wanted = kAllClasses) const;
  // The clients in walk order (a new draw for kRandom).
  std::vector<std::string> sort() const;
  size_t size() const { return clients_.size(); }

 private:
  struct Node;
  struct ByShare {
    bool operator()(const Node* a, const Node* b) const;
  };

  Node& pathNode(const std::string& path);
  Node* findNode(const std::string& name) const;
  size_t resourceIndex(const std::string& name);
  double computeShare(const Node& node) const;
  // Adds `sign` x `quantities` to a client and its ancestors and re-sorts them.
  void track(Node& leaf, const std::map<std::string, double>& quantities, double sign);
  // Recomputes a node's share and adds to its allocation count, keeping
  // its parent's order consistent.
  void reposition(Node& node, uint64_t newAllocations = 0);
  // Adds (+1) or removes (-1) a client's classes from its ancestors' counts.
  void countClasses(Node& leaf, ClassMask classes, int sign);
  void recomputeShares(Node& node);
  void pruneEmpty(Node* node);
  bool walk(const Node& node, const std::function<bool(const std::string&)>& visit, const ClassMask& wanted) const;

  SorterKind kind_;
  ClientNames names_;
  std::unique_ptr<Node> root_;
  std::unordered_map<std::string, Node*> clients_;  // leaves by client name
  std::unordered_map<std::string, double> weights_;
  std::vector<std::string> resourceNames_;  // index -> name, for the flat allocation vectors
  std::vector<double> totals_;
  uint64_t seed_;
  mutable std::mt19937_64 random_;
};

}  // namespace mezzo::alloc
