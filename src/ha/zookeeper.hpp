// ZooKeeperGroup: leader election and detection through ZooKeeper
// (libzookeeper-mt), in the Mesos znode layout described in leader.hpp.
//
// One ZooKeeper session per group. Every blocking ZooKeeper call runs on the
// group's own worker thread; ZooKeeper's watcher thread only posts work to
// it; results reach the caller's io_context. When the session expires, the
// ephemeral member node is gone: a contender is told it is no longer
// elected, and the group opens a new session and rejoins.
//
// Thread-safety: create, contend, detect and close from the io_context's
// thread; callbacks run there. memberPath() may be called from any thread.
#pragma once

#include <boost/asio/io_context.hpp>

#include <memory>

#include "ha/leader.hpp"
#include "mezzo/common/clock.hpp"

namespace mezzo::ha {

class ZooKeeperGroup {
 public:
  static Result<std::shared_ptr<ZooKeeperGroup>> create(boost::asio::io_context& loop, const ZooKeeperUrl& url,
                                                        Duration sessionTimeout);
  virtual ~ZooKeeperGroup() = default;

  // Joins the election with `info` as this member's data.
  virtual void contend(const v1::MasterInfo& info, ElectionCallback onChange) = 0;
  // Follows the leader (the lowest member's MasterInfo).
  virtual void detect(LeaderCallback onChange) = 0;
  // Leaves the group (the member node disappears at once) and stops calling back.
  virtual void close() = 0;
  // The full path of this member's ephemeral znode, empty while it has none.
  // Thread-safe (the ZooKeeper registry store reads it to fence its writes).
  virtual std::string memberPath() const = 0;
};

std::unique_ptr<Contender> makeZooKeeperContender(std::shared_ptr<ZooKeeperGroup> group, v1::MasterInfo info);
std::unique_ptr<Detector> makeZooKeeperDetector(std::shared_ptr<ZooKeeperGroup> group);

}  // namespace mezzo::ha
