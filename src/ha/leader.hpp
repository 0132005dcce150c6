// Leader election (Contender) and leader detection (Detector).
//
// A master contends for leadership and learns whether it is elected; masters,
// agents and clients detect who the leader is. Standalone versions serve a
// single master (always elected; the leader is fixed). The ZooKeeper version
// (zookeeper.hpp) uses the Mesos layout, so Mesos-aware tools find our
// leader: each contender creates an ephemeral sequential znode
// `<path>/json.info_<10-digit seq>` holding its MasterInfo as JSON, and the
// lowest sequence number leads.
//
// Thread-safety: callbacks run on the io_context given at construction; call
// start()/stop() from that io_context's thread.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "mezzo/common/status.hpp"
#include "mezzo/v1/mesos.pb.h"

namespace mezzo::ha {

using LeaderCallback = std::function<void(const std::optional<v1::MasterInfo>& leader)>;
using ElectionCallback = std::function<void(bool elected)>;

class Detector {
 public:
  virtual ~Detector() = default;
  // Calls `onChange` with the current leader (nullopt: none known) now or
  // soon, and again whenever it changes.
  virtual void start(LeaderCallback onChange) = 0;
  virtual void stop() = 0;
};

class Contender {
 public:
  virtual ~Contender() = default;
  // Enters the election; `onChange(true)` once elected, `onChange(false)`
  // if leadership (or the session that held it) is lost.
  virtual void start(ElectionCallback onChange) = 0;
  virtual void stop() = 0;
};

std::unique_ptr<Detector> makeStandaloneDetector(v1::MasterInfo leader);
std::unique_ptr<Contender> makeStandaloneContender();

// zk://[user:pass@]host:port[,host:port...]/path
struct ZooKeeperUrl {
  std::string servers;  // "host:port,host:port" as the C client wants it
  std::string path;     // "/mezzo", no trailing slash
  std::string credentials;
};
Result<ZooKeeperUrl> parseZooKeeperUrl(std::string_view url);

// The member name of a contender's znode and its sequence, or nullopt for
// names that are not leader candidates ("json.info_0000000012" -> 12; the
// legacy binary "info_" label is recognised but ranked after JSON ones only
// by sequence).
std::optional<uint64_t> memberSequence(std::string_view name);
// The leading member (lowest sequence) among `children`, if any.
std::optional<std::string> leadingMember(const std::vector<std::string>& children);

}  // namespace mezzo::ha
