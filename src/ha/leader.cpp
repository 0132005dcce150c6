#include <charconv>

#include "ha/leader.hpp"

namespace mezzo::ha {

namespace {

class StandaloneDetector final : public Detector {
 public:
  explicit StandaloneDetector(v1::MasterInfo leader) : leader_(std::move(leader)) {}
  void start(LeaderCallback onChange) override { onChange(leader_); }
  void stop() override {}

 private:
  v1::MasterInfo leader_;
};

class StandaloneContender final : public Contender {
 public:
  void start(ElectionCallback onChange) override { onChange(true); }
  void stop() override {}
};

}  // namespace

std::unique_ptr<Detector> makeStandaloneDetector(v1::MasterInfo leader) {
  return std::make_unique<StandaloneDetector>(std::move(leader));
}

std::unique_ptr<Contender> makeStandaloneContender() { return std::make_unique<StandaloneContender>(); }

Result<ZooKeeperUrl> parseZooKeeperUrl(std::string_view url) {
  constexpr std::string_view kScheme = "zk://";
  if (!url.starts_with(kScheme)) return Status::invalidArgument("ZooKeeper URL must start with zk://");
  url.remove_prefix(kScheme.size());
  ZooKeeperUrl out;
  size_t at = url.find('@');
  size_t slash = url.find('/');
  if (at != std::string_view::npos && (slash == std::string_view::npos || at < slash)) {
    out.credentials = std::string(url.substr(0, at));
    url.remove_prefix(at + 1);
    slash = url.find('/');
  }
  if (slash == std::string_view::npos || slash == 0) {
    return Status::invalidArgument("ZooKeeper URL needs servers and a path, as zk://host:port/path");
  }
  out.servers = std::string(url.substr(0, slash));
  std::string_view path = url.substr(slash);
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  if (path == "/") return Status::invalidArgument("ZooKeeper URL path must not be the root");
  out.path = std::string(path);
  return out;
}

std::optional<uint64_t> memberSequence(std::string_view name) {
  for (std::string_view label : {std::string_view("json.info_"), std::string_view("info_")}) {
    if (!name.starts_with(label)) continue;
    std::string_view digits = name.substr(label.size());
    uint64_t sequence = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), sequence);
    if (ec != std::errc() || end != digits.data() + digits.size() || digits.empty()) return std::nullopt;
    return sequence;
  }
  return std::nullopt;
}

std::optional<std::string> leadingMember(const std::vector<std::string>& children) {
  std::optional<std::string> best;
  std::optional<uint64_t> bestSequence;
  for (const std::string& child : children) {
    auto sequence = memberSequence(child);
    if (!sequence) continue;
    // Prefer JSON members on equal sequences (they cannot collide in one
    // directory, but be deterministic anyway).
    if (!bestSequence || *sequence < *bestSequence ||
        (*sequence == *bestSequence && child.starts_with("json."))) {
      best = child;
      bestSequence = sequence;
    }
  }
  return best;
}

}  // namespace mezzo::ha
