// The master's in-memory records of frameworks, agents, tasks and offers.
//
// These are plain data owned by MasterCore; nothing here talks to the
// network. Protobuf members hold what is rendered on the wire (state
// endpoints, events); Resources members hold what the math works on.
//
// Thread-safety: none; owned by the master's event loop.
#pragma once

#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "mezzo/common/clock.hpp"
#include "mezzo/common/ids.hpp"
#include "mezzo/common/resources.hpp"
#include "mezzo/common/task_states.hpp"
#include "mezzo/v1/mesos.pb.h"
#include "store/maintenance.hpp"

namespace mezzo::master {

struct TaskRecord {
  v1::Task task;            // state, statuses, status_update_state/uuid
  Resources resources;      // with allocation role
  bool resourcesReleased = false;  // a terminal state returned them to the allocator
};

struct FrameworkRecord {
  FrameworkId id;
  v1::FrameworkInfo info;
  std::set<std::string> roles;
  std::set<v1::FrameworkInfo::Capability::Type> capabilities;
  bool connected = false;   // a subscription stream is open
  bool active = false;      // connected and receiving offers
  bool recovered = false;   // learnt from a re-registering agent, scheduler not back yet
  std::string streamId;     // current subscription stream, empty when disconnected
  TimePoint registeredTime{};
  std::optional<TimePoint> reregisteredTime;
  std::optional<TimePoint> unregisteredTime;
  std::optional<TimePoint> failoverDeadline;  // set while disconnected
  std::optional<TimePoint> nextHeartbeat;
  std::map<TaskId, TaskRecord> tasks;          // live (or terminal but unacknowledged)
  std::deque<v1::Task> completedTasks;         // bounded
  // Tasks of agents marked unreachable (state TASK_UNREACHABLE), oldest
  // first, bounded; a task leaves when its agent comes back.
  std::deque<v1::Task> unreachableTasks;
  std::set<OfferId> offers;
  // Last status of each offer operation with an id the master answered
  // (operations.cpp), and their ids oldest first (bounded).
  std::map<std::string, v1::OperationStatus> operations;
  std::deque<std::string> operationOrder;

  bool hasCapability(v1::FrameworkInfo::Capability::Type type) const { return capabilities.contains(type); }
  bool partitionAware() const { return hasCapability(v1::FrameworkInfo::Capability::PARTITION_AWARE); }
};

struct CompletedFramework {
  v1::FrameworkInfo info;
  TimePoint registeredTime{};
  TimePoint unregisteredTime{};
  std::deque<v1::Task> completedTasks;
};

struct AgentRecord {
  AgentId id;
  v1::AgentInfo info;
  std::string ip;  // as the agent advertises it; with info.hostname, its machine
  // The scheduled maintenance machine it is on (maintenance.cpp), if any.
  std::optional<store::MachineKey> maintenanceMachine;
  std::optional<v1::Unavailability> maintenanceWindow;  // its machine's, as last applied
  Resources total;
  std::string version;
  bool connected = false;
  std::string streamId;
  TimePoint registeredTime{};
  std::optional<TimePoint> reregisteredTime;
  // Health (agent_health.cpp): a PING goes out every --agent_ping_timeout
  // while connected; a ping interval that ends without a PONG is a missed
  // ping (also while disconnected). Too many in a row: unreachable.
  std::optional<TimePoint> nextPing;
  bool pongOutstanding = false;
  uint32_t missedPings = 0;
  std::set<std::pair<FrameworkId, TaskId>> tasks;
  // Executors known to run there, by framework.
  std::map<FrameworkId, std::map<ExecutorId, v1::ExecutorInfo>> executors;
  std::set<OfferId> offers;
};

// An outstanding inverse offer: `framework` is asked to vacate `agent`
// before its machine's maintenance (maintenance.cpp).
struct InverseOfferRecord {
  v1::InverseOffer offer;
  OfferId id;
  FrameworkId framework;
  AgentId agent;
};

struct OfferRecord {
  v1::Offer offer;  // master's canonical form (post-refinement, allocation_info set)
  OfferId id;
  FrameworkId framework;
  AgentId agent;
  std::string role;
  Resources resources;
  TimePoint created{};
};

using mezzo::isTerminalState;

}  // namespace mezzo::master
