// MasterCore: the master's state machine (frameworks, agents, tasks, offers).
//
// Pure and synchronous: every entry point takes the event and `now`, updates
// state and appends Effects (events for framework streams, messages for agent
// streams, streams to close); it never touches sockets, threads or the wall
// clock. The daemon (master_daemon.cpp) decodes HTTP into these calls and
// performs the effects; the simulator can drive the same code.
//
// Errors returned to callers map to HTTP statuses at the edge:
// kInvalidArgument/kNotFound -> 400, kPermissionDenied -> 403.
// Problems with individual tasks are never errors of the call: they become
// TASK_ERROR / TASK_DROPPED / TASK_LOST updates, as in Mesos.
//
// Thread-safety: none. One event loop owns a MasterCore.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "alloc/allocator.hpp"
#include "master/effects.hpp"
#include "master/rate_limiter.hpp"
#include "master/records.hpp"
#include "mezzo/common/status.hpp"
#include "mezzo/internal/agent_protocol.pb.h"
#include "mezzo/v1/maintenance/maintenance.pb.h"
#include "mezzo/v1/master/master.pb.h"
#include "mezzo/v1/scheduler/scheduler.pb.h"
#include "store/registry.hpp"

namespace mezzo::master {

struct MasterOptions {
  v1::MasterInfo masterInfo;                 // id, address, version of this master
  Duration heartbeatInterval = std::chrono::seconds(15);
  std::optional<Duration> offerTimeout;      // unset: offers never time out
  // Agent health (agent_health.cpp): an agent that misses
  // maxAgentPingTimeouts pings in a row is marked unreachable, at most at
  // agentRemovalRate (unset: unlimited).
  Duration agentPingTimeout = std::chrono::seconds(15);
  uint32_t maxAgentPingTimeouts = 5;
  std::optional<RemovalRate> agentRemovalRate;
  // After a (re)start or failover, agents of the recovered registry that do
  // not re-register within this time are marked unreachable.
  Duration agentReregisterTimeout = std::chrono::minutes(10);
  // When that timeout passes and more than this fraction of the registry's
  // agents are still missing, the master aborts instead of marking them
  // (a mass disappearance is more likely a network or master problem).
  double recoveryAgentRemovalLimit = 1.0;
  // Registry GC (registry_gc.cpp): every registryGcInterval, unreachable
  // and gone entries older than registryMaxAgentAge, and the oldest beyond
  // registryMaxAgentCount in each list, leave the registry.
  Duration registryGcInterval = std::chrono::minutes(15);
  Duration registryMaxAgentAge = std::chrono::hours(24 * 14);
  size_t registryMaxAgentCount = 100 * 1024;
  size_t maxCompletedFrameworks = 50;
  size_t maxCompletedTasksPerFramework = 1000;
  size_t maxUnreachableTasksPerFramework = 1000;
  std::map<std::string, double> weights;
  alloc::AllocatorOptions allocator;
};

struct MasterCounters {
  uint64_t validStatusUpdates = 0;
  uint64_t invalidStatusUpdates = 0;
  uint64_t statusUpdateAcknowledgements = 0;
  uint64_t agentRegistrations = 0;
  uint64_t agentReregistrations = 0;
  uint64_t droppedMessages = 0;
  uint64_t agentUnreachableScheduled = 0;  // queued for marking (Mesos slave_unreachable_scheduled)
  uint64_t agentUnreachableCompleted = 0;  // marked, durably
  uint64_t agentUnreachableCanceled = 0;   // came back while queued
  uint64_t agentRemovalsUnhealthy = 0;     // marked after missed pings
  uint64_t recoveryAgentRemovals = 0;      // marked after the re-registration timeout
  uint64_t agentsMarkedGone = 0;           // MARK_AGENT_GONE, durably
  uint64_t registryPrunedAgents = 0;       // unreachable + gone entries garbage-collected
  std::map<std::string, uint64_t> schedulerCalls;  // by Call.Type name
  std::map<std::string, uint64_t> terminalTasks;   // by TaskState name
};

class MasterCore {
 public:
  // `registry` is what the registry store recovered (empty on first start).
  MasterCore(MasterOptions options, TimePoint now, store::RegistryState registry = {});
  ~MasterCore();

  // ------------------------------------------------------- scheduler API
  // SUBSCRIBE on a new stream `streamId`. On success SUBSCRIBED (and any
  // offers) are queued for that stream.
  Result<FrameworkId> subscribe(const v1::scheduler::Call& call, const std::string& streamId, TimePoint now);
  // Any other call; `streamId` is the request's Mesos-Stream-Id header.
  Status handleCall(const v1::scheduler::Call& call, const std::string& streamId, TimePoint now);
  // The subscription stream ended (client went away).
  void frameworkStreamClosed(const std::string& streamId, TimePoint now);
  // Operator-initiated removal (/teardown).
  Status teardownFramework(const FrameworkId& framework, TimePoint now);

  // ----------------------------------------------------- agent protocol
  Result<AgentId> registerAgent(const internal::AgentCall& call, const std::string& streamId, TimePoint now);
  Status handleAgentCall(const internal::AgentCall& call, const std::string& streamId, TimePoint now);
  void agentStreamClosed(const std::string& streamId, TimePoint now);

  // ------------------------------------------------------- operator API
  // UPDATE_WEIGHTS / UPDATE_QUOTA: validated as a whole (an error changes
  // nothing), then written to the registry; the returned ticket completes in
  // registryOperationDone(), which applies the change to the allocator and
  // rescinds the outstanding offers of the roles concerned.
  Result<uint64_t> updateWeights(const v1::master::Call::UpdateWeights& update, TimePoint now);
  Result<uint64_t> updateQuota(const v1::master::Call::UpdateQuota& update, TimePoint now);
  // MARK_AGENT_GONE for a registered, recovered or unreachable agent: writes
  // it to the registry as gone and returns the write's ticket; only when it
  // completes in registryOperationDone() are its tasks reported
  // TASK_GONE_BY_OPERATOR (TASK_LOST to frameworks that are not
  // PARTITION_AWARE), its offers rescinded, the agent told to SHUTDOWN and
  // removed. Gone is final: its REGISTER calls are refused from then on.
  // An agent already gone (or being marked) is not an error: no ticket (or
  // the pending one), as Mesos answers 200 again. Unknown agent:
  // kInvalidArgument; an agent whose first admission is still being
  // written: kUnavailable.
  Result<std::optional<uint64_t>> markAgentGone(const AgentId& id, TimePoint now);
  // Maintenance (maintenance.cpp). Each call is validated against the
  // registry (an error changes nothing) and written; the returned ticket
  // completes in registryOperationDone(), which applies it: offers of
  // agents on scheduled machines carry the unavailability and their
  // frameworks get inverse offers; machines brought DOWN lose their agents
  // (tasks TASK_GONE_BY_OPERATOR / TASK_LOST, agent told to SHUTDOWN).
  Result<uint64_t> updateMaintenanceSchedule(const v1::maintenance::Schedule& schedule, TimePoint now);
  Result<uint64_t> startMaintenance(const google::protobuf::RepeatedPtrField<v1::MachineID>& machines, TimePoint now);
  Result<uint64_t> stopMaintenance(const google::protobuf::RepeatedPtrField<v1::MachineID>& machines, TimePoint now);
  // DRAINING machines with the frameworks' answers to inverse offers, and DOWN machines.
  v1::maintenance::ClusterStatus maintenanceStatus() const;
  const std::map<OfferId, InverseOfferRecord>& inverseOffers() const { return inverseOffers_; }
  // Scalars used by live tasks of `role` and its descendants (offers excluded).
  alloc::Quantities usedByRoleSubtree(const std::string& role) const;

  // ----------------------------------------------------------- registry
  // Outcome of a PersistRegistry effect. A failed write leaves the registry
  // as it was; an agent waiting for admission is disconnected (it retries).
  void registryOperationDone(uint64_t ticket, const Status& status, TimePoint now);
  const store::RegistryState& registry() const { return registry_; }

  // ------------------------------------------------------ agent health
  // (Re)starts the wait for the agents of the recovered registry: those not
  // re-registered by now + agentReregisterTimeout are marked unreachable.
  // The constructor starts it; the daemon restarts it when elected leader.
  void startAgentReregistrationTimeout(TimePoint now);
  // Registry agents that have not re-registered since this master started
  // (and are not yet marked unreachable).
  const std::set<AgentId>& recoveredAgents() const { return recoveredAgents_; }

  // ------------------------------------------------------------- timing
  // Heartbeats, agent pings, failover, re-registration and offer timeouts.
  // Call often (e.g. every 100 ms).
  void tick(TimePoint now);
  // Runs an allocation cycle and turns allocations into OFFERS events.
  void allocate(TimePoint now);
  // True when something changed that new offers could come from.
  bool allocationWanted() const { return allocationWanted_; }

  Effects takeEffects() { return std::exchange(effects_, {}); }

  // ------------------------------------------------------ introspection
  const MasterOptions& options() const { return options_; }
  const std::map<FrameworkId, std::unique_ptr<FrameworkRecord>>& frameworks() const { return frameworks_; }
  const std::deque<CompletedFramework>& completedFrameworks() const { return completedFrameworks_; }
  const std::map<AgentId, std::unique_ptr<AgentRecord>>& agents() const { return agents_; }
  const std::map<OfferId, OfferRecord>& offers() const { return offers_; }
  const alloc::Allocator& allocator() const { return allocator_; }
  const MasterCounters& counters() const { return counters_; }
  TimePoint startTime() const { return startTime_; }

 private:
  // framework lifecycle (framework_calls.cpp)
  FrameworkRecord* frameworkForStream(const v1::scheduler::Call& call, const std::string& streamId, Status* error);
  void disconnectFramework(FrameworkRecord& framework, TimePoint now);
  void removeFramework(const FrameworkId& id, TimePoint now);
  void sendToFramework(const FrameworkRecord& framework, v1::scheduler::Event event);
  void sendError(const std::string& streamId, const std::string& message);
  Status reconcile(FrameworkRecord& framework, const v1::scheduler::Call::Reconcile& reconcile, TimePoint now);
  Status kill(FrameworkRecord& framework, const v1::scheduler::Call::Kill& kill, TimePoint now);
  Status acknowledge(FrameworkRecord& framework, const v1::scheduler::Call::Acknowledge& ack, TimePoint now);
  Status sendFrameworkMessage(FrameworkRecord& framework, const v1::scheduler::Call::Message& message);
  Status shutdownExecutor(FrameworkRecord& framework, const v1::scheduler::Call::Shutdown& shutdown);
  std::optional<v1::TaskStatus> reconciledStatus(const FrameworkRecord& framework, const TaskId& task,
                                                 std::optional<AgentId> agent, TimePoint now) const;
  std::optional<v1::TaskStatus> reconciledUnknownTask(const TaskId& task, const std::optional<AgentId>& agent,
                                                      TimePoint now) const;

  // offers (offers.cpp)
  // `filter`: keep the offer's resources from its framework for that long
  // (an offer that timed out is not handed straight back to the framework
  // that let it time out).
  void rescindOffer(const OfferId& id, bool notifyFramework, TimePoint now,
                    std::optional<Duration> filter = std::nullopt);
  void rescindFrameworkOffers(FrameworkRecord& framework, bool notify, TimePoint now);
  void rescindAgentOffers(AgentRecord& agent, TimePoint now);
  void removeOffer(const OfferId& id);
  v1::Offer renderOffer(const FrameworkRecord& framework, const OfferRecord& offer) const;

  // accept/decline (accept.cpp)
  Status accept(FrameworkRecord& framework, const v1::scheduler::Call::Accept& accept, TimePoint now);
  Status decline(FrameworkRecord& framework, const v1::scheduler::Call::Decline& decline, TimePoint now);
  void launchTask(FrameworkRecord& framework, AgentRecord& agent, const v1::TaskInfo& task, const Resources& resources,
                  TimePoint now);
  Result<Resources> validateTask(const FrameworkRecord& framework, const AgentRecord& agent, const v1::TaskInfo& task,
                                 const std::string& role, const Resources& available) const;
  void refuseTask(FrameworkRecord& framework, const v1::TaskInfo& task, v1::TaskState state,
                  v1::TaskStatus::Reason reason, const std::string& message, TimePoint now);
  // Records a validated task (and its executor) as launched on `agent`.
  void addLaunchedTask(FrameworkRecord& framework, AgentRecord& agent, const v1::TaskInfo& task,
                       const Resources& resources, const v1::ExecutorInfo* executor);

  // offer operations Mezzo does not implement (operations.cpp)
  // Sends OPERATION_ERROR with `message` for operation `id` and remembers
  // it for RECONCILE_OPERATIONS (bounded per framework).
  void answerUnsupportedOperation(FrameworkRecord& framework, const v1::OperationID& id,
                                  const std::optional<AgentId>& agent, const std::string& message, TimePoint now);
  Status reconcileOperations(FrameworkRecord& framework, const v1::scheduler::Call::ReconcileOperations& reconcile);
  Status acknowledgeOperationStatus(FrameworkRecord& framework,
                                    const v1::scheduler::Call::AcknowledgeOperationStatus& ack);

  // LAUNCH_GROUP (task_groups.cpp)
  // Validates the group as a whole (mesos-reference.md §1.3); returns what
  // it uses of `available` (executor, if not yet on the agent, plus tasks).
  Result<Resources> validateTaskGroup(const FrameworkRecord& framework, const AgentRecord& agent,
                                      const v1::Offer::Operation::LaunchGroup& launch, const std::string& role,
                                      const Resources& available) const;
  // Launches a valid group (RUN_TASK_GROUP), or refuses all its tasks.
  void launchTaskGroup(FrameworkRecord& framework, AgentRecord& agent, const v1::Offer::Operation::LaunchGroup& launch,
                       const std::string& role, Resources& remaining, TimePoint now);

  // tasks and status updates (tasks.cpp)
  void statusUpdate(const internal::AgentCall::StatusUpdate& update, AgentRecord& agent, TimePoint now);
  void forwardStatus(FrameworkRecord& framework, v1::TaskStatus status);
  void releaseTaskResources(FrameworkRecord& framework, TaskRecord& task, TimePoint now);
  void completeTask(FrameworkRecord& framework, const TaskId& task);
  // Appends `status` to the task's recent statuses (bounded) and sets its state.
  static void recordStatus(TaskRecord& task, const v1::TaskStatus& status);

  // policy changes made durable (operator_calls.cpp)
  void applyPolicyOperation(const internal::RegistryOperation& operation, TimePoint now);
  // persist() after checking the operation applies to the current registry.
  Result<uint64_t> persistIfApplicable(internal::RegistryOperation operation);

  // registry garbage collection (registry_gc.cpp)
  void tickRegistryGc(TimePoint now);
  void pruneWriteDone(uint64_t ticket, const Status& status);

  // maintenance (maintenance.cpp)
  void applyMaintenanceOperation(const internal::RegistryOperation& operation, TimePoint now);
  // The scheduled machine an agent is on, if its machine is in maintenance.
  const v1::MachineInfo* maintenanceMachine(const AgentRecord& agent) const;
  std::optional<store::MachineKey> findMaintenanceMachine(const std::string& hostname, const std::string& ip) const;
  // Sets the agent's maintenanceMachine and maintenanceWindow from the schedule.
  void placeAgentForMaintenance(AgentRecord& agent) const;
  Status refuseAgentOnDownMachine(const v1::AgentInfo& info, const std::string& ip) const;
  void removeAgentOnDownMachine(const AgentId& id, TimePoint now);
  void makeInverseOffers(TimePoint now);
  Status answerInverseOffers(FrameworkRecord& framework, const google::protobuf::RepeatedPtrField<v1::OfferID>& ids,
                             const v1::Filters& filters, bool accepted, TimePoint now);
  void removeInverseOffer(const OfferId& id, bool notify);
  void rescindAgentInverseOffers(const AgentRecord& agent, bool notify);
  void removeFrameworkInverseOffers(const FrameworkId& framework);

  // agents (agent_calls.cpp)
  enum class Admission { kKnown, kFromUnreachable };  // how the agent got (back) into the registry
  void completeRegistration(const internal::AgentCall& call, const AgentId& id, const Resources& total,
                            const std::string& streamId, Admission admission, TimePoint now);
  uint64_t persist(internal::RegistryOperation operation);
  AgentRecord* agentForStream(const internal::AgentCall& call, const std::string& streamId, Status* error);
  void sendToAgent(const AgentRecord& agent, internal::AgentEvent event);
  void adoptAgentTasks(AgentRecord& agent, const internal::AgentCall::Register& reg, Admission admission,
                       TimePoint now);

  // agent health and unreachable agents (agent_health.cpp)
  enum class UnreachableCause { kPingTimeout, kReregistrationTimeout };
  void tickAgentHealth(TimePoint now);
  void resetAgentHealth(AgentRecord& agent, TimePoint now);
  void pong(AgentRecord& agent, TimePoint now);
  void scheduleUnreachable(const AgentId& id, UnreachableCause cause);
  bool cancelScheduledUnreachable(const AgentId& id);
  void markScheduledAgentsUnreachable(TimePoint now);
  void unreachableWriteDone(uint64_t ticket, const Status& status, TimePoint now);
  void removeUnreachableAgent(const AgentId& id, TimePoint unreachableTime, TimePoint now);
  void reportTaskUnreachable(FrameworkRecord& framework, TaskRecord& task, TimePoint unreachableTime, TimePoint now);

  // removing agents: unreachable or gone (agent_removal.cpp)
  enum class Farewell { kCloseStream, kShutdown };
  using LiveTaskReporter = std::function<void(FrameworkRecord&, TaskRecord&)>;
  // Rescinds the agent's offers, reports each live task with
  // `reportLiveTask` (which must take it out of framework.tasks), completes
  // terminal ones, sends FAILURE to every connected framework, ends the
  // agent's stream (after a SHUTDOWN event for kShutdown) and forgets it.
  void removeAgentRecord(const AgentId& id, const LiveTaskReporter& reportLiveTask, Farewell farewell,
                         const std::string& farewellMessage, TimePoint now);
  void goneWriteDone(uint64_t ticket, const Status& status, TimePoint now);
  void removeGoneAgent(const AgentId& id, TimePoint now);
  void reportTaskGone(FrameworkRecord& framework, TaskRecord& task, const std::string& message, TimePoint now);

  MasterOptions options_;
  TimePoint startTime_;
  IdGenerator ids_;
  alloc::Allocator allocator_;
  std::map<FrameworkId, std::unique_ptr<FrameworkRecord>> frameworks_;
  std::deque<CompletedFramework> completedFrameworks_;
  std::map<AgentId, std::unique_ptr<AgentRecord>> agents_;
  std::map<OfferId, OfferRecord> offers_;
  std::map<std::string, FrameworkId> frameworkStreams_;
  std::map<std::string, AgentId> agentStreams_;
  MasterCounters counters_;
  Effects effects_;
  store::RegistryState registry_;
  // Registry writes under way, and agents waiting for their admission.
  struct PendingAdmission {
    internal::AgentCall call;
    AgentId id;
    std::string streamId;
    Admission admission = Admission::kKnown;
  };
  uint64_t nextTicket_ = 1;
  std::map<uint64_t, internal::RegistryOperation> pendingOperations_;
  std::map<uint64_t, PendingAdmission> pendingAdmissions_;
  // Unreachable agents: queued (waiting for the rate limiter), then being
  // written to the registry; effects follow the write.
  struct PendingUnreachable {
    AgentId id;
    TimePoint time{};
    UnreachableCause cause{};
  };
  std::deque<PendingUnreachable> unreachableQueue_;
  std::map<uint64_t, PendingUnreachable> unreachableWrites_;
  std::set<AgentId> markingUnreachable_;
  std::optional<RateLimiter> removalLimiter_;
  std::set<AgentId> recoveredAgents_;
  // MARK_AGENT_GONE writes under way: ticket -> agent, agent -> ticket.
  std::map<uint64_t, AgentId> goneWrites_;
  std::map<AgentId, uint64_t> markingGone_;
  std::optional<TimePoint> reregistrationDeadline_;
  std::optional<TimePoint> nextRegistryGc_;
  std::map<uint64_t, internal::RegistryOperation::PruneAgents> pruneWrites_;
  // Inverse offers: outstanding ones, the one per (framework, agent), the
  // filters set by answers, and the answers by machine (maintenance status).
  std::map<OfferId, InverseOfferRecord> inverseOffers_;
  std::map<std::pair<FrameworkId, AgentId>, OfferId> outstandingInverseOffers_;
  std::map<std::pair<FrameworkId, AgentId>, TimePoint> inverseOfferFilters_;
  struct MachineAnswers {
    v1::Unavailability window;  // the answers are about this window
    std::map<FrameworkId, v1::allocator::InverseOfferStatus> statuses;
  };
  std::map<store::MachineKey, MachineAnswers> inverseOfferStatuses_;
  bool allocationWanted_ = true;
};

// Adapts a status to what a framework can understand (TASK_LOST for
// non-partition-aware frameworks). Returns nullopt if it must not be sent.
std::optional<v1::TaskStatus> adaptStatusForFramework(const FrameworkRecord& framework, v1::TaskStatus status);

// The allocator's form of a role's quota.
alloc::Quota toAllocatorQuota(const v1::quota::QuotaConfig& config);

// LAUNCH and LAUNCH_GROUP: the offer operations Mezzo implements.
bool isLaunchOperation(const v1::Offer::Operation& operation);

// A status update made by the master itself (source MASTER, no uuid).
v1::TaskStatus masterTaskStatus(const TaskId& task, v1::TaskState state, v1::TaskStatus::Reason reason,
                                const std::string& message, TimePoint now);

}  // namespace mezzo::master
