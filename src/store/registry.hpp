// The master's registry: the durable part of the master's state.
//
// RegistryState is the state itself (admitted, unreachable and gone agents,
// role weights and quota, the maintenance schedule and machine modes) with a pure apply() of one RegistryOperation that validates
// before changing anything: an operation that does not fit the state (admit
// an id twice, revive a gone agent) is refused with kFailedPrecondition and
// leaves the state untouched.
//
// RegistryStore is where operations are made durable: recover() once at
// start-up, then append() per operation (on OK it survives a crash) and
// compact() now and then to replace the log with a snapshot. Backends:
// in-memory (tests), SQLite (a file in the master's work dir, the default)
// and ZooKeeper (shared by the masters of an HA cluster).
//
// Thread-safety: RegistryState is a value. A RegistryStore is used by one
// thread at a time (the master's registrar thread); it is not synchronised.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "mezzo/common/clock.hpp"
#include "mezzo/common/ids.hpp"
#include "mezzo/common/status.hpp"
#include "mezzo/internal/registry.pb.h"
#include "store/maintenance.hpp"

namespace mezzo::store {

class RegistryState {
 public:
  struct Unreachable {
    v1::AgentInfo info;
    TimePoint since{};
  };

  Status apply(const internal::RegistryOperation& operation);

  internal::RegistrySnapshot toSnapshot() const;
  static Result<RegistryState> fromSnapshot(const internal::RegistrySnapshot& snapshot);

  const std::map<AgentId, v1::AgentInfo>& admitted() const { return admitted_; }
  const std::map<AgentId, Unreachable>& unreachable() const { return unreachable_; }
  const std::map<AgentId, TimePoint>& gone() const { return gone_; }
  const std::map<std::string, double>& weights() const { return weights_; }
  const std::map<std::string, v1::quota::QuotaConfig>& quotas() const { return quotas_; }
  const v1::maintenance::Schedule& schedule() const { return schedule_; }
  // Machines in maintenance (DRAINING or DOWN); a machine not here is UP.
  const std::map<MachineKey, v1::MachineInfo>& machines() const { return machines_; }
  bool operator==(const RegistryState& other) const;

 private:
  std::map<AgentId, v1::AgentInfo> admitted_;
  std::map<AgentId, Unreachable> unreachable_;
  std::map<AgentId, TimePoint> gone_;
  std::map<std::string, double> weights_;
  std::map<std::string, v1::quota::QuotaConfig> quotas_;
  v1::maintenance::Schedule schedule_;
  std::map<MachineKey, v1::MachineInfo> machines_;

  Status applySchedule(const v1::maintenance::Schedule& schedule);
  Status applyStartMaintenance(const internal::RegistryOperation::StartMaintenance& start);
  Status applyStopMaintenance(const google::protobuf::RepeatedPtrField<v1::MachineID>& machines);
};

class RegistryStore {
 public:
  virtual ~RegistryStore() = default;
  virtual Result<RegistryState> recover() = 0;
  virtual Status append(const internal::RegistryOperation& operation) = 0;
  virtual Status compact(const RegistryState& state) = 0;
  // Operations appended since the last compaction (for deciding when to compact).
  virtual size_t logLength() const = 0;
  virtual std::string name() const = 0;
};

std::unique_ptr<RegistryStore> makeInMemoryRegistryStore();
// Opens (creating if needed) the SQLite registry at `path`. An existing
// 0-byte file is refused like any other corruption (a truncated registry
// must not start as an empty one).
Result<std::unique_ptr<RegistryStore>> openSqliteRegistryStore(const std::string& path);

struct ZooKeeperStoreOptions {
  std::string servers;  // "host:port,host:port"
  std::string path;     // absolute znode path of the registry, e.g. /mezzo/registry
  Duration sessionTimeout = std::chrono::seconds(10);
  // The znode whose existence guards every write (the leader's election
  // node); empty or unset = unfenced. Called on the store's thread.
  std::function<std::string()> fence;
};
// Connects (waiting up to twice the session timeout) and prepares the layout.
Result<std::unique_ptr<RegistryStore>> openZooKeeperRegistryStore(ZooKeeperStoreOptions options);

// Which backend a master uses, from --registry and whether --zk is given.
struct RegistryChoice {
  std::string backend;  // "sqlite" | "zookeeper" | "in_memory"
  std::string note;     // a line to log about how the flag was read; empty if none
};
// --registry unset: zookeeper with --zk (HA masters must share the registry),
// else sqlite. "replicated_log" (Mesos's name) means the same. An explicit
// "sqlite" with --zk is refused: each master would keep its own registry and
// a failover would silently lose state.
Result<RegistryChoice> chooseRegistry(const std::string& registryFlag, bool withZooKeeper);

// Operation builders.
internal::RegistryOperation admitAgent(const v1::AgentInfo& info);
internal::RegistryOperation updateAgent(const v1::AgentInfo& info);
internal::RegistryOperation markAgentUnreachable(const AgentId& agent, TimePoint when);
internal::RegistryOperation markAgentReachable(const v1::AgentInfo& info);
internal::RegistryOperation markAgentGone(const AgentId& agent, TimePoint when);
internal::RegistryOperation removeAgent(const AgentId& agent);
internal::RegistryOperation updateWeights(const std::map<std::string, double>& weights);
internal::RegistryOperation updateQuota(const std::vector<v1::quota::QuotaConfig>& configs);
internal::RegistryOperation updateMaintenanceSchedule(const v1::maintenance::Schedule& schedule);
internal::RegistryOperation startMaintenance(const google::protobuf::RepeatedPtrField<v1::MachineID>& machines,
                                             const std::vector<AgentId>& agentsOnThem);
internal::RegistryOperation stopMaintenance(const google::protobuf::RepeatedPtrField<v1::MachineID>& machines);
// Removes these entries from the unreachable and gone lists (absent ones are skipped).
internal::RegistryOperation pruneAgents(const std::vector<AgentId>& unreachable, const std::vector<AgentId>& gone);

}  // namespace mezzo::store
