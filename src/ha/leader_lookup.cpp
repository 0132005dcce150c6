#include "ha/leader_lookup.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "ha/zookeeper.hpp"

namespace mezzo::ha {

Result<v1::MasterInfo> lookUpLeader(const std::string& zkUrl, Duration timeout) {
  auto url = parseZooKeeperUrl(zkUrl);
  if (!url) return Status::invalidArgument("Invalid ZooKeeper URL '" + zkUrl + "': " + url.error());
  boost::asio::io_context io;
  auto group = ZooKeeperGroup::create(io, *url, std::chrono::seconds(10));
  if (!group) return group.status();
  std::optional<v1::MasterInfo> leader;
  auto detector = makeZooKeeperDetector(*group);
  detector->start([&](const std::optional<v1::MasterInfo>& info) {
    if (!info) return;
    leader = info;
    io.stop();
  });
  boost::asio::steady_timer deadline(io, timeout);
  deadline.async_wait([&](boost::system::error_code ec) {
    if (!ec) io.stop();
  });
  io.run();
  detector->stop();
  if (!leader) return Status::unavailable("No leading master found in ZooKeeper at " + zkUrl);
  return *leader;
}

Result<std::string> resolveMasterAddress(const std::string& master, Duration timeout) {
  if (!master.starts_with("zk://")) return master;
  auto leader = lookUpLeader(master, timeout);
  if (!leader) return leader.status();
  std::string host = leader->hostname().empty() ? leader->address().ip() : leader->hostname();
  return host + ":" + std::to_string(leader->port());
}

}  // namespace mezzo::ha
