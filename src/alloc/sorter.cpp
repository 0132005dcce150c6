#include "alloc/sorter.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <utility>

namespace mezzo::alloc {

// A node of the client tree. Internal nodes are role paths (kHierarchical)
// or the root; leaves are clients. Invariant: a node is in its parent's
// `order` exactly when it has a class (inOrder == (subtreeClasses != 0)),
// and a node's share is only changed while it is out of that order.
struct Sorter::Node {
  std::string name;  // client name for leaves, path for internal nodes ("" for the root)
  Node* parent = nullptr;
  bool leaf = false;
  double weight = 1.0;
  ClassMask classes = 0;         // leaf: its own classes
  ClassMask subtreeClasses = 0;  // leaf: == classes; internal: classes of some client below
  std::array<uint32_t, kMaxClasses> classCounts{};  // internal: clients below, per class
  std::vector<double> allocation;  // by resource index; internal: the subtree's
  double share = 0.0;
  uint64_t allocations = 0;  // allocations made to this node (its subtree), ever: the first tie-breaker
  uint64_t tieKey = 0;       // a seeded hash of the name: the second tie-breaker
  bool inOrder = false;
  std::map<std::string, std::unique_ptr<Node>> children;  // by path component (kFlat root: by client)
  std::unique_ptr<Node> self;                             // kHierarchical: the client named like this path
  std::set<Node*, ByShare> order;                         // children and self that have a class
};

// Equal shares are common (every idle framework has 0). Breaking them by
// name would hand every agent to the same framework again and again, even
// one that lets its offers time out, so ties go to the node that was
// allocated to fewer times for its weight (as Mesos's DRF sorter, which
// does not weigh the count), then by a seeded hash
// of the name: an order that is fair across names yet the same for the
// same seed, whatever order the clients were added in.
bool Sorter::ByShare::operator()(const Node* a, const Node* b) const {
  if (a->share != b->share) return a->share < b->share;
  // Counts weighed like shares: a node of weight 2 is entitled to twice as many.
  double aCount = a->weight > 0 ? static_cast<double>(a->allocations) / a->weight : static_cast<double>(a->allocations);
  double bCount = b->weight > 0 ? static_cast<double>(b->allocations) / b->weight : static_cast<double>(b->allocations);
  if (aCount != bCount) return aCount < bCount;
  if (a->tieKey != b->tieKey) return a->tieKey < b->tieKey;
  return a->name < b->name;
}

namespace {

// splitmix64 of the seed mixed with the FNV-1a hash of the name.
uint64_t tieKeyOf(const std::string& name, uint64_t seed) {
  uint64_t hash = 14695981039346656037ULL;
  for (unsigned char c : name) hash = (hash ^ c) * 1099511628211ULL;
  uint64_t z = hash ^ (seed + 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

}  // namespace

Sorter::Sorter(SorterKind kind, ClientNames names, uint64_t seed)
    : kind_(kind), names_(names), root_(std::make_unique<Node>()), seed_(seed), random_(seed) {}
Sorter::~Sorter() = default;

size_t Sorter::resourceIndex(const std::string& name) {
  auto it = std::find(resourceNames_.begin(), resourceNames_.end(), name);
  if (it != resourceNames_.end()) return static_cast<size_t>(it - resourceNames_.begin());
  resourceNames_.push_back(name);
  totals_.resize(resourceNames_.size(), 0.0);
  return resourceNames_.size() - 1;
}

Sorter::Node& Sorter::pathNode(const std::string& path) {
  Node* node = root_.get();
  if (names_ == ClientNames::kFlat) return *node;
  size_t begin = 0;
  while (begin <= path.size()) {
    size_t end = std::min(path.find('/', begin), path.size());
    auto& child = node->children[path.substr(begin, end - begin)];
    if (!child) {
      child = std::make_unique<Node>();
      child->name = path.substr(0, end);
      child->tieKey = tieKeyOf(child->name, seed_);
      child->parent = node;
      auto weight = weights_.find(child->name);
      child->weight = weight == weights_.end() ? 1.0 : weight->second;
    }
    node = child.get();
    begin = end + 1;
  }
  return *node;
}

Sorter::Node* Sorter::findNode(const std::string& name) const {
  if (names_ == ClientNames::kFlat) {
    auto it = clients_.find(name);
    return it == clients_.end() ? nullptr : it->second;
  }
  Node* node = root_.get();
  size_t begin = 0;
  while (begin <= name.size()) {
    size_t end = std::min(name.find('/', begin), name.size());
    auto it = node->children.find(name.substr(begin, end - begin));
    if (it == node->children.end()) return nullptr;
    node = it->second.get();
    begin = end + 1;
  }
  return node;
}

double Sorter::computeShare(const Node& node) const {
  double dominant = 0.0;
  for (size_t i = 0; i < node.allocation.size() && i < totals_.size(); ++i) {
    if (totals_[i] > 0) dominant = std::max(dominant, node.allocation[i] / totals_[i]);
  }
  return node.weight > 0 ? dominant / node.weight : dominant;
}

void Sorter::reposition(Node& node, uint64_t newAllocations) {
  double share = computeShare(node);
  if (share == node.share && newAllocations == 0) return;
  if (node.inOrder) node.parent->order.erase(&node);
  node.share = share;
  node.allocations += newAllocations;
  if (node.inOrder) node.parent->order.insert(&node);
}

void Sorter::countClasses(Node& leaf, ClassMask classes, int sign) {
  for (Node* node = leaf.parent; node != nullptr; node = node->parent) {
    ClassMask subtree = 0;
    for (int bit = 0; bit < kMaxClasses; ++bit) {
      if (classes & (ClassMask{1} << bit)) node->classCounts[bit] += static_cast<uint32_t>(sign);
      if (node->classCounts[bit] > 0) subtree |= ClassMask{1} << bit;
    }
    node->subtreeClasses = subtree;
    bool wanted = subtree != 0;
    if (node->parent != nullptr && node->inOrder != wanted) {
      if (wanted) node->parent->order.insert(node);
      else node->parent->order.erase(node);
      node->inOrder = wanted;
    }
  }
}

void Sorter::add(const std::string& client, std::optional<double> weight) {
  if (!clients_.contains(client)) {
    Node& parent = pathNode(client);
    auto& slot = names_ == ClientNames::kFlat ? parent.children[client] : parent.self;
    slot = std::make_unique<Node>();
    Node& leaf = *slot;
    leaf.name = client;
    leaf.tieKey = tieKeyOf(client, seed_);
    leaf.parent = &parent;
    leaf.leaf = true;
    clients_[client] = &leaf;
    if (names_ == ClientNames::kFlat) {
      auto known = weights_.find(client);
      leaf.weight = known == weights_.end() ? 1.0 : known->second;
    }
    setClasses(client, kAllClasses);
  }
  if (weight) setWeight(client, *weight);
}

void Sorter::track(Node& leaf, const std::map<std::string, double>& quantities, double sign) {
  std::vector<std::pair<size_t, double>> delta;
  for (const auto& [name, value] : quantities) delta.emplace_back(resourceIndex(name), sign * value);
  for (Node* node = &leaf; node != root_.get(); node = node->parent) {
    for (const auto& [index, value] : delta) {
      if (node->allocation.size() <= index) node->allocation.resize(index + 1, 0.0);
      node->allocation[index] = std::max(0.0, node->allocation[index] + value);
    }
    reposition(*node, sign > 0 ? 1 : 0);
  }
}

void Sorter::pruneEmpty(Node* node) {
  while (node != root_.get() && node->children.empty() && !node->self) {
    Node* parent = node->parent;
    if (node->inOrder) parent->order.erase(node);
    std::string component = node->name.substr(node->name.rfind('/') + 1);
    parent->children.erase(component);  // destroys node
    node = parent;
  }
}

void Sorter::remove(const std::string& client) {
  auto it = clients_.find(client);
  if (it == clients_.end()) return;
  Node& leaf = *it->second;
  std::map<std::string, double> own;
  for (size_t i = 0; i < leaf.allocation.size(); ++i) own[resourceNames_[i]] = leaf.allocation[i];
  track(leaf, own, -1);
  setClasses(client, 0);
  Node* parent = leaf.parent;
  clients_.erase(it);
  if (names_ == ClientNames::kFlat) parent->children.erase(client);
  else parent->self.reset();
  pruneEmpty(parent);
}

bool Sorter::contains(const std::string& client) const { return clients_.contains(client); }

void Sorter::setWeight(const std::string& name, double weight) {
  weights_[name] = weight;
  Node* node = findNode(name);
  if (node == nullptr || node->weight == weight) return;
  // The order is keyed by share: leave it while the share changes.
  if (node->inOrder) node->parent->order.erase(node);
  node->weight = weight;
  node->share = computeShare(*node);
  if (node->inOrder) node->parent->order.insert(node);
}

void Sorter::setClasses(const std::string& client, ClassMask classes) {
  auto it = clients_.find(client);
  if (it == clients_.end()) return;
  Node& leaf = *it->second;
  if (leaf.classes == classes) return;
  countClasses(leaf, leaf.classes, -1);
  leaf.classes = classes;
  leaf.subtreeClasses = classes;
  bool wanted = classes != 0;
  if (leaf.inOrder != wanted) {
    if (wanted) leaf.parent->order.insert(&leaf);
    else leaf.parent->order.erase(&leaf);
    leaf.inOrder = wanted;
  }
  countClasses(leaf, classes, 1);
}

void Sorter::allocated(const std::string& client, const std::map<std::string, double>& quantities) {
  if (!clients_.contains(client)) add(client);
  track(*clients_.at(client), quantities, 1);
}

void Sorter::unallocated(const std::string& client, const std::map<std::string, double>& quantities) {
  auto it = clients_.find(client);
  if (it != clients_.end()) track(*it->second, quantities, -1);
}

void Sorter::recomputeShares(Node& node) {
  node.order.clear();
  auto visitChild = [&](Node& child) {
    recomputeShares(child);
    child.share = computeShare(child);
    if (child.inOrder) node.order.insert(&child);
  };
  for (auto& [component, child] : node.children) visitChild(*child);
  if (node.self) visitChild(*node.self);
}

void Sorter::setTotal(const std::map<std::string, double>& totals) {
  std::vector<double> next(totals_.size(), 0.0);
  for (const auto& [name, value] : totals) {
    size_t index = resourceIndex(name);
    next.resize(resourceNames_.size(), 0.0);
    next[index] = value;
  }
  if (next == totals_) return;
  totals_ = std::move(next);
  recomputeShares(*root_);
}

double Sorter::share(const std::string& name) const {
  const Node* node = findNode(name);
  return node == nullptr ? 0.0 : node->share;
}

bool Sorter::walk(const Node& node, const std::function<bool(const std::string&)>& visit,
                  const ClassMask& wanted) const {
  auto enter = [&](const Node* child) {
    if ((child->subtreeClasses & wanted) == 0) return true;
    return child->leaf ? visit(child->name) : walk(*child, visit, wanted);
  };
  if (kind_ == SorterKind::kDrf) {
    for (const Node* child : node.order) {
      if (!enter(child)) return false;
    }
    return true;
  }
  // Weighted random order: sorting by Exp(1) / weight draws each next node
  // with probability proportional to its weight among those left.
  std::vector<std::pair<double, const Node*>> drawn;
  drawn.reserve(node.order.size());
  std::exponential_distribution<double> exponential(1.0);
  for (const Node* child : node.order) {
    double key = child->weight > 0 ? exponential(random_) / child->weight : std::numeric_limits<double>::infinity();
    drawn.emplace_back(key, child);
  }
  std::sort(drawn.begin(), drawn.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first < b.first : a.second->name < b.second->name;
  });
  for (const auto& [key, child] : drawn) {
    if (!enter(child)) return false;
  }
  return true;
}

void Sorter::forEach(const std::function<bool(const std::string&)>& visit, const ClassMask& wanted) const {
  walk(*root_, visit, wanted);
}

std::vector<std::string> Sorter::sort() const {
  std::vector<std::string> out;
  out.reserve(clients_.size());
  forEach([&](const std::string& client) {
    out.push_back(client);
    return true;
  });
  return out;
}

}  // namespace mezzo::alloc
