#include "harness/ha_masters.hpp"

#include <algorithm>

namespace mezzo::testing {

HaMasters::HaMasters(std::vector<std::string> extraFlags, size_t count, std::string sessionTimeout)
    : extraFlags_(std::move(extraFlags)), sessionTimeout_(std::move(sessionTimeout)) {
  dir_ = makeTempDir("mezzo-ha");
  if (!zookeeper_.available()) return;
  for (size_t i = 0; i < count; ++i) {
    ports_.push_back(freePort());
    processes_.emplace_back();
    start(i);
  }
}

HaMasters::~HaMasters() {
  processes_.clear();
  std::error_code ignored;
  if (!std::getenv("MEZZO_KEEP_TEST_DIRS")) std::filesystem::remove_all(dir_, ignored);
}

void HaMasters::start(size_t i) {
  std::vector<std::string> args = {"--ip=127.0.0.1",
                                   "--port=" + std::to_string(ports_.at(i)),
                                   "--zk=" + zkUrl(),
                                   "--zk_session_timeout=" + sessionTimeout_,
                                   "--work_dir=" + (dir_ / ("master" + std::to_string(i))).string(),
                                   "--allocation_interval=100ms"};
  args.insert(args.end(), extraFlags_.begin(), extraFlags_.end());
  processes_.at(i) = std::make_unique<DaemonProcess>("mezzo-master", args, dir_ / ("master" + std::to_string(i) + ".log"));
}

std::optional<size_t> HaMasters::waitForLeader(std::chrono::milliseconds timeout) {
  std::optional<size_t> leader;
  waitUntil(
      [&] {
        leader.reset();
        std::vector<std::string> leaderPids;
        for (size_t i = 0; i < processes_.size(); ++i) {
          if (!processes_[i] || !processes_[i]->running()) continue;
          auto state = getJson(endpoint(i), "/state");
          if (!state.is_object() || !state.contains("leader")) return false;
          leaderPids.push_back(state["leader"]);
          if (state["elected"] == true) {
            if (leader) return false;
            leader = i;
          }
        }
        if (!leader) return false;
        std::string expected = "master@127.0.0.1:" + std::to_string(ports_[*leader]);
        return std::all_of(leaderPids.begin(), leaderPids.end(), [&](const std::string& pid) { return pid == expected; });
      },
      timeout);
  return leader;
}

}  // namespace mezzo::testing
