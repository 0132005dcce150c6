// AgentDaemon: the mezzo-agent process. It registers with the master over
// the internal agent protocol (agent_protocol.proto), runs executors as
// posix_spawned processes in their own sessions, serves the v1 executor API
// to them, forwards their status updates reliably (StatusUpdateManager), and
// serves /state, /flags, /version, /health and /files/{read,download,browse}
// (each also under the /slave(1)/ prefix).
//
// Concerns are split by file: agent_daemon.cpp (start-up, routing, timers),
// master_link.cpp (registration stream, reconnection, calls to the master,
// status update delivery), master_events.cpp (RUN_TASK, KILL_TASK, ...),
// executors.cpp (launch, reaping, shutdown, agent-generated updates),
// executor_api.cpp (POST /api/v1/executor), agent_http.cpp (/state, /files),
// recovery.cpp (re-attaching to what a previous run checkpointed),
// containers.cpp (isolation, limits, OOM, /monitor/statistics),
// fetching.cpp (CommandInfo.URIs into a new sandbox before the launch).
//
// Thread-safety: everything runs on the one io_context thread passed in.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <deque>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "agent/agent_flags.hpp"
#include "agent/checkpoint.hpp"
#include "agent/containerizer.hpp"
#include "agent/fetcher.hpp"
#include "agent/garbage_collector.hpp"
#include "agent/records.hpp"
#include "agent/status_update_manager.hpp"
#include "agent/task_supervisor_link.hpp"
#include "ha/leader.hpp"
#include "mezzo/common/recordio.hpp"
#include "mezzo/internal/agent_protocol.pb.h"
#include "mezzo/net/http_client.hpp"
#include "mezzo/net/http_server.hpp"
#include "mezzo/v1/agent/agent.pb.h"
#include "mezzo/v1/executor/executor.pb.h"

namespace mezzo::agent {

class AgentDaemon {
 public:
  AgentDaemon(boost::asio::io_context& io, AgentFlags flags);
  ~AgentDaemon();

  // Validates flags, works out resources, binds the port, starts reaping
  // children and connects to the master.
  Status start();
  // Graceful stop: destroys the executors of non-checkpointing frameworks
  // (checkpointing ones are left running) and stops the I/O.
  void stop();
  uint16_t port() const { return server_.port(); }

 private:
  using ExecutorKey = std::pair<FrameworkId, ExecutorId>;
  enum class ExecutorsToDestroy { kNonCheckpointing, kAll };
  void stopAndDestroy(ExecutorsToDestroy which);

  // ---------------------------------------------------- master_link.cpp
  void onLeaderChanged(const std::optional<v1::MasterInfo>& leader);
  // The master marked this agent gone (SHUTDOWN event, or REGISTER refused
  // with 403): kill every executor, forget the agent id (a restarted agent
  // registers as a new one, as in Mesos) and stop.
  void shutdownByMaster(const std::string& why);
  void connectToMaster();
  void onMasterData(uint64_t generation, std::string_view data);
  void onMasterClosed(uint64_t generation, const Status& status);
  void scheduleReconnect();
  void watchMasterHeartbeats();
  internal::AgentCall registerCall() const;
  void sendToMaster(internal::AgentCall call);
  void sendNextCall();
  void dropMasterCalls();
  void flushStatusUpdates();

  // -------------------------------------------------- master_events.cpp
  void handleMasterEvent(const internal::AgentEvent& event);
  void onRegistered(const internal::AgentEvent::Registered& registered);
  void runTask(const internal::AgentEvent::RunTask& run);
  // Launches the group under its DEFAULT executor (started if new).
  void runTaskGroup(const internal::AgentEvent::RunTaskGroup& run);
  // The framework record for a RUN_TASK(_GROUP), created if new.
  FrameworkRecord& frameworkFor(const v1::FrameworkInfo& info);
  void killTask(const internal::AgentEvent::KillTask& kill);
  void acknowledgeUpdate(const internal::AgentEvent::AcknowledgeUpdate& ack);
  void shutdownFramework(const FrameworkId& id);
  void frameworkMessage(const internal::AgentEvent::FrameworkMessage& message);

  // What a new executor's sandbox must receive before it starts.
  struct FetchPlan {
    std::vector<v1::CommandInfo::URI> uris;
    std::string user;  // part of the cache key
  };

  // ------------------------------------------------------ executors.cpp
  // Creates the executor's record and sandbox, then spawns it, or (with
  // URIs to fetch) leaves it in kFetching until onFetched() spawns it.
  // `supervisedTask`: the command task the agent runs itself (supervised_tasks.cpp).
  Result<ExecutorRecord*> launchExecutor(FrameworkRecord& framework, const v1::ExecutorInfo& info, bool commandExecutor,
                                         const FetchPlan& fetch, const v1::TaskInfo* supervisedTask = nullptr);
  Status spawnExecutor(FrameworkRecord& framework, ExecutorRecord& executor);
  // The container's user and ContainerInfo settings into `executor.settings`;
  // fails (nothing started) on an unknown user, bad rlimits or unusable volumes.
  Status configureContainer(const FrameworkRecord& framework, ExecutorRecord& executor);
  // Gives the sandbox (fetched files, stdout, stderr) to the container's user.
  Status giveSandboxToUser(const ExecutorRecord& executor);
  // Tasks of a group whose user, rlimits or volumes cannot be honoured: the reason, else empty.
  std::string unsupportedInGroup(const v1::TaskGroupInfo& group) const;
  v1::ExecutorInfo commandExecutorInfo(const FrameworkRecord& framework, const v1::TaskInfo& task) const;
  std::map<std::string, std::string> executorEnvironment(const FrameworkRecord& framework,
                                                         const ExecutorRecord& executor) const;
  void deliverTask(FrameworkRecord& framework, ExecutorRecord& executor, const v1::TaskInfo& task);
  void deliverTaskGroup(FrameworkRecord& framework, ExecutorRecord& executor, const v1::TaskGroupInfo& group);
  void shutdownExecutor(FrameworkRecord& framework, ExecutorRecord& executor, ExecutorRecord::EndReason reason);
  void escalateShutdown(const ExecutorKey& key);
  void onRegistrationTimeout(const ExecutorKey& key);
  void watchChildren();
  // The executor's process ended (`waitStatus` unknown when it was not our child).
  void executorExited(FrameworkRecord& framework, ExecutorRecord& executor, std::optional<int> waitStatus);
  struct OrphanStatus {
    v1::TaskState state;
    v1::TaskStatus::Reason reason;
    std::string message;
  };
  // What the live tasks of an ended executor become, given why it ended.
  OrphanStatus orphanedTaskStatus(const ExecutorRecord& executor, const std::string& how) const;
  // The end of every executor (process gone or never started): its live
  // tasks become `orphan`, the master hears of a custom executor's exit,
  // the sandbox is scheduled for removal and the record is dropped.
  void retireExecutor(FrameworkRecord& framework, ExecutorRecord& executor, const OrphanStatus& orphan,
                      std::optional<int> waitStatus);
  bool hasTasksOf(const FrameworkRecord& framework, const ExecutorId& executor) const;
  void sendToExecutor(ExecutorRecord& executor, const v1::executor::Event& event);
  // An update the agent itself generates for a task (source AGENT).
  // `limitation`: the resources whose limit the container reached, if that is why.
  void generateStatus(FrameworkRecord& framework, const TaskId& task, v1::TaskState state,
                      v1::TaskStatus::Reason reason, const std::string& message,
                      const v1::TaskResourceLimitation* limitation = nullptr);
  // Who holds an update until the agent has it durably: an executor resends
  // an unacknowledged one; nobody resends what the agent itself generated.
  enum class UpdateOrigin { kAgent, kExecutor };
  enum class Recorded { kYes, kDuplicate, kNotDurable };
  // Common path of every update: checkpoint, task bookkeeping, status
  // update manager. An executor's update whose checkpoint fails is dropped
  // (kNotDurable: not to be acknowledged, the executor resends it); the
  // agent's own updates go on without the checkpoint (logged).
  Recorded recordStatus(FrameworkRecord& framework, const v1::TaskStatus& status, UpdateOrigin origin);
  // Checkpoints the framework and tasks about to be launched for `executor`
  // (checkpointing frameworks only); a task is launched only if this works.
  Status checkpointLaunch(const FrameworkRecord& framework, const v1::ExecutorInfo& executor,
                          const std::vector<v1::TaskInfo>& tasks);
  void completeTask(FrameworkRecord& framework, const TaskId& task);
  void removeFrameworkIfIdle(const FrameworkId& id);
  void removeFramework(const FrameworkId& id);
  FrameworkRecord* framework(const FrameworkId& id);
  ExecutorId executorOf(const v1::Task& task) const;

  // ------------------------------------------------ supervised_tasks.cpp
  // True when the agent runs `task` itself (--command_tasks=supervised).
  bool runsSupervised(const v1::TaskInfo& task) const;
  // Connects to the task supervisor (starting one when command tasks run
  // supervised) and remembers the tasks it has alive for recovery.
  Status startTaskSupervisor();
  void onSupervisedTaskStarted(const std::string& containerId, pid_t pid);
  void onSupervisedTaskExited(const std::string& containerId, const supervisor::TaskEnd& end);
  // The supervisor died: its tasks are failed and their sessions killed.
  void onTaskSupervisorLost();
  ExecutorRecord* supervisedExecutor(const std::string& containerId, FrameworkRecord** framework);
  // Where the supervisor writes how a container's task ended.
  std::string supervisorStatusFile(const std::string& containerId) const;
  std::optional<supervisor::TaskEnd> readSupervisorStatus(const std::string& containerId) const;
  Status spawnSupervisedTask(FrameworkRecord& framework, ExecutorRecord& executor);
  // Fills in what the command executor would (source EXECUTOR, ids, uuid) and records it.
  void reportSupervisedTask(FrameworkRecord& framework, ExecutorRecord& executor, v1::TaskStatus status);
  void armCompletionTimer(const ExecutorKey& key, ExecutorRecord& executor, Duration remaining);
  void killSupervisedTask(FrameworkRecord& framework, ExecutorRecord& executor,
                          const std::optional<v1::KillPolicy>& policy, std::optional<Duration> cap);
  // SIGTERM now and SIGKILL after `grace` (at once when it is zero).
  void escalateSupervisedKill(const ExecutorKey& key, ExecutorRecord& executor, Duration grace);
  // The task ended (or is gone): its terminal update, from what the
  // supervisor said or wrote in the status file.
  void finishSupervisedTask(FrameworkRecord& framework, ExecutorRecord& executor);
  // After an agent restart, for a task the supervisor still runs.
  void reattachSupervisedTask(FrameworkRecord& framework, ExecutorRecord& executor);

  // ------------------------------------------------------- recovery.cpp
  // Reads the checkpoint and rebuilds frameworks, executors, tasks and
  // status update streams; live executors wait for re-subscription.
  Status recover();
  void recoverFramework(RecoveredFramework& recovered, bool rebooted);
  void recoverExecutor(FrameworkRecord& framework, RecoveredExecutor& recovered);
  // Re-attaches a recovered executor, or ends it (gone, rebooted, cleanup).
  void settleRecoveredExecutor(const ExecutorKey& key, bool ended, bool rebooted);
  void settleRecoveredSupervisedTask(const ExecutorKey& key, FrameworkRecord& framework, ExecutorRecord& executor);
  // Tasks the supervisor runs that no checkpoint knows (their framework
  // did not checkpoint, or the agent died before it recorded them).
  void killUnrecoveredSupervisedTasks();
  void recoverTask(FrameworkRecord& framework, ExecutorRecord& executor, RecoveredTask& recovered);
  void onReregistrationTimeout(const ExecutorKey& key);
  // Polls recovered executors (not our children: no SIGCHLD) for their end.
  void watchRecoveredExecutors();
  void checkpointOrLog(const Status& status) const;

  // ------------------------------------------------------ containers.cpp
  Status startContainerizer();
  // Executor resources plus those of its live tasks.
  ContainerLimits containerLimitsOf(const FrameworkRecord& framework, const ExecutorRecord& executor) const;
  Result<pid_t> launchContainer(const FrameworkRecord& framework, ExecutorRecord& executor, SpawnOptions spawn);
  void updateContainerLimits(FrameworkRecord& framework, ExecutorRecord& executor);
  // Arms the OOM event watch of the executor's container (cgroups/mem).
  void watchContainerMemory(const ExecutorKey& key, ExecutorRecord& executor);
  void awaitOomEvent(const ExecutorKey& key, ExecutorRecord& executor);
  // If the kernel OOM-killed in the container: fails its live tasks with
  // REASON_CONTAINER_LIMITATION_MEMORY and destroys it. True if so.
  bool enforceMemoryLimit(FrameworkRecord& framework, ExecutorRecord& executor);
  void destroyContainer(ExecutorRecord& executor, bool signalProcesses);
  // After recover(): re-arms watches of live containers, destroys orphans.
  void recoverContainers();
  nlohmann::json renderStatistics() const;

  // ------------------------------------------------------- fetching.cpp
  Status startFetcher();
  FetchPlan fetchPlanForTask(const FrameworkRecord& framework, const v1::TaskInfo& task) const;
  FetchPlan fetchPlanForGroup(const FrameworkRecord& framework, const v1::ExecutorInfo& executor,
                              const v1::TaskGroupInfo& group) const;
  void startFetch(FrameworkRecord& framework, ExecutorRecord& executor, const FetchPlan& plan);
  // The fetch of container `containerId` ended: spawn its executor, or fail its tasks.
  void onFetched(const ExecutorKey& key, const std::string& containerId, const Status& fetched);
  // Shutdown of an executor still fetching: cancel, and kill its tasks without a launch.
  void abortFetch(FrameworkRecord& framework, ExecutorRecord& executor, ExecutorRecord::EndReason reason);
  // A task group for an executor that exists already: its URIs are fetched
  // into the executor's sandbox, then the group is delivered.
  void fetchForGroup(FrameworkRecord& framework, ExecutorRecord& executor, const v1::TaskGroupInfo& group,
                     const FetchPlan& plan);
  void onGroupFetched(const ExecutorKey& key, const std::string& containerId, const std::string& job,
                      const Status& fetched);
  // A kill of a task whose group is still fetching: the whole group is
  // killed without a launch. False if `task` is in no such group.
  bool killFetchingGroup(FrameworkRecord& framework, ExecutorRecord& executor, const TaskId& task);

  // --------------------------------------------------- executor_api.cpp
  void handleExecutorApi(net::Request&& request, net::Responder responder);
  // POST /api/v1: the v1 operator API (operator_api.cpp).
  void handleOperatorApi(net::Request&& request, net::Responder responder);
  v1::agent::Response::GetContainers containersView() const;
  void executorSubscribe(FrameworkRecord& framework, ExecutorRecord& executor, const v1::executor::Call& call,
                         MediaType mediaType, net::Responder& responder);
  Status executorUpdate(FrameworkRecord& framework, ExecutorRecord& executor, v1::TaskStatus status);
  void acknowledgeToExecutor(ExecutorRecord& executor, const v1::TaskStatus& status);

  // ----------------------------------------------------- sandbox_gc.cpp
  // Schedules the sandbox of an ended executor for removal.
  void scheduleSandboxGc(const std::string& directory);
  // After recovery: sandboxes on disk without a live executor, dated by mtime.
  void scheduleLeftoverSandboxes();
  // Removes what is due (by age and disk usage) and re-arms the timer.
  void collectSandboxGarbage();
  void removeSandbox(const std::string& directory);

  // ----------------------------------------------------- agent_http.cpp
  void route(net::Request&& request, net::Responder responder);
  nlohmann::json renderState() const;
  // /metrics/snapshot (agent_metrics.cpp).
  nlohmann::json renderMetrics() const;
  nlohmann::json renderFramework(const FrameworkRecord& framework) const;
  void serveFilesRead(const net::Request& request, net::Responder& responder);
  void serveFilesDownload(const net::Request& request, net::Responder& responder);
  void serveFilesBrowse(const net::Request& request, net::Responder& responder);

  boost::asio::io_context& io_;
  AgentFlags flags_;
  SystemClock clock_;
  net::HttpServer server_;
  boost::asio::signal_set childSignals_;
  TimePoint startTime_{};

  // Identity and what is advertised.
  v1::AgentInfo info_;  // id set once registered
  std::string agentId_;
  std::string advertisedEndpoint_;  // ip:port for MESOS_AGENT_ENDPOINT

  // Master connection.
  net::Endpoint master_;
  // With --master=zk://...: the leading master comes from ZooKeeper and
  // master_ follows it; no connection is attempted while no leader is known.
  std::shared_ptr<void> zooKeeper_;
  std::unique_ptr<ha::Detector> detector_;
  bool leaderKnown_ = true;
  std::shared_ptr<net::HttpStream> masterStream_;
  uint64_t masterGeneration_ = 0;
  RecordIoDecoder masterDecoder_;
  std::string masterStreamId_;
  bool registered_ = false;
  Duration masterHeartbeatInterval_ = std::chrono::seconds(15);
  std::chrono::steady_clock::time_point lastMasterEvent_{};
  Duration reconnectBackoff_{};
  boost::asio::steady_timer reconnectTimer_;
  boost::asio::steady_timer heartbeatTimer_;
  boost::asio::steady_timer statusRetryTimer_;
  std::deque<internal::AgentCall> masterCalls_;
  bool masterCallInFlight_ = false;
  uint64_t callGeneration_ = 0;

  StatusUpdateManager statusUpdates_;
  std::unique_ptr<Containerizer> containerizer_;
  std::unique_ptr<Fetcher> fetcher_;  // its workers touch only the Fetcher; results are posted to io_
  Checkpointer checkpointer_;
  boost::asio::steady_timer recoveredTimer_;
  GarbageCollector sandboxGc_;
  boost::asio::steady_timer sandboxGcTimer_;
  std::map<FrameworkId, std::unique_ptr<FrameworkRecord>> frameworks_;
  std::deque<CompletedFramework> completedFrameworks_;
  std::map<pid_t, ExecutorKey> children_;
  std::unique_ptr<TaskSupervisorLink> taskSupervisor_;
  std::map<std::string, ExecutorKey> supervisedContainers_;  // container id -> its supervised task's record
  std::map<std::string, pid_t> supervisorLiveAtStart_;        // what the supervisor ran when we started
  AgentCounters counters_;
  bool stopping_ = false;
};

}  // namespace mezzo::agent
