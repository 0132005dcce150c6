// The v1 executor API on the agent, POST /api/v1/executor
// (mesos-reference.md §2): SUBSCRIBE opens the executor's event stream
// (200, Content-Type = message media type); UPDATE, MESSAGE and HEARTBEAT
// are answered 202. Calls before SUBSCRIBE get 403, unknown frameworks or
// executors 400.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "agent/agent_daemon.hpp"
#include "mezzo/net/api_request.hpp"

namespace mezzo::agent {

namespace http = boost::beast::http;

namespace {

using Call = v1::executor::Call;
using Event = v1::executor::Event;

}  // namespace

void AgentDaemon::handleExecutorApi(net::Request&& request, net::Responder responder) {
  auto contentType = net::checkApiPost(request, responder);
  if (!contentType) return;
  Call call;
  Status decoded = decodeMessage(*contentType, request.body(), &call);
  if (!decoded) return responder.respond(net::Response::text(400, "Failed to parse body: " + decoded.message()));

  FrameworkRecord* fw = framework(FrameworkId(call.framework_id().value()));
  if (fw == nullptr) {
    return responder.respond(
        net::Response::text(400, "Framework '" + call.framework_id().value() + "' cannot be found"));
  }
  ExecutorRecord* executor = fw->executor(ExecutorId(call.executor_id().value()));
  if (executor == nullptr || executor->state == ExecutorRecord::State::kFetching) {
    return responder.respond(
        net::Response::text(400, "Executor '" + call.executor_id().value() + "' cannot be found"));
  }

  if (call.type() == Call::SUBSCRIBE) {
    auto accept = net::checkAccept(request, responder);
    if (!accept) return;
    return executorSubscribe(*fw, *executor, call, *accept, responder);
  }
  if (!executor->subscribedOnce) return responder.respond(net::Response::text(403, "Executor is not subscribed"));

  switch (call.type()) {
    case Call::UPDATE: {
      if (!call.has_update()) return responder.respond(net::Response::text(400, "Expecting 'update' to be present"));
      Status status = executorUpdate(*fw, *executor, call.update().status());
      if (!status) {
        ++counters_.invalidStatusUpdates;
        return responder.respond(net::Response::text(400, status.message()));
      }
      return responder.respond(net::Response::empty(202));
    }
    case Call::MESSAGE: {
      if (!call.has_message()) return responder.respond(net::Response::text(400, "Expecting 'message' to be present"));
      internal::AgentCall forward;
      forward.set_type(internal::AgentCall::EXECUTOR_MESSAGE);
      *forward.mutable_executor_message()->mutable_framework_id() = call.framework_id();
      *forward.mutable_executor_message()->mutable_executor_id() = call.executor_id();
      forward.mutable_executor_message()->set_data(call.message().data());
      sendToMaster(std::move(forward));
      return responder.respond(net::Response::empty(202));
    }
    case Call::HEARTBEAT:
      return responder.respond(net::Response::empty(202));
    default:
      return responder.respond(net::Response::text(400, "Unsupported call type " + Call::Type_Name(call.type())));
  }
}

void AgentDaemon::executorSubscribe(FrameworkRecord& framework, ExecutorRecord& executor, const Call& call,
                                    MediaType mediaType, net::Responder& responder) {
  if (auto old = std::move(executor.stream)) old->close();
  auto writer = responder.startStream(200, std::string(mediaTypeName(mediaType)));
  executor.stream = writer;
  executor.mediaType = mediaType;
  ExecutorKey key{framework.id, ExecutorId(executor.info.executor_id().value())};
  net::StreamWriter* identity = writer.get();
  writer->onClose([this, key, identity] {
    FrameworkRecord* fw = this->framework(key.first);
    ExecutorRecord* current = fw != nullptr ? fw->executor(key.second) : nullptr;
    if (current != nullptr && current->stream.get() == identity) {
      spdlog::info("Executor {} of framework {} disconnected", key.second.value(), key.first.value());
      current->stream.reset();
    }
  });
  if (executor.state == ExecutorRecord::State::kLaunching || executor.state == ExecutorRecord::State::kRecovering) {
    executor.state = ExecutorRecord::State::kRunning;
    executor.timer->cancel();
  }
  spdlog::info("Executor {} of framework {} {}", key.second.value(), key.first.value(),
               executor.subscribedOnce ? "re-subscribed" : "subscribed");
  executor.subscribedOnce = true;

  Event subscribed;
  subscribed.set_type(Event::SUBSCRIBED);
  *subscribed.mutable_subscribed()->mutable_executor_info() = executor.info;
  *subscribed.mutable_subscribed()->mutable_framework_info() = framework.info;
  *subscribed.mutable_subscribed()->mutable_agent_info() = info_;
  subscribed.mutable_subscribed()->mutable_container_id()->set_value(executor.containerId);
  sendToExecutor(executor, subscribed);

  // A re-subscribing executor resends what it has not seen acknowledged.
  for (const Call::Update& update : call.subscribe().unacknowledged_updates()) {
    Status status = executorUpdate(framework, executor, update.status());
    if (!status && update.status().has_uuid()) {
      spdlog::warn("Dropping unacknowledged update of task {}: {}", update.status().task_id().value(),
                   status.message());
      Event ack;
      ack.set_type(Event::ACKNOWLEDGED);
      *ack.mutable_acknowledged()->mutable_task_id() = update.status().task_id();
      ack.mutable_acknowledged()->set_uuid(update.status().uuid());
      sendToExecutor(executor, ack);
    }
  }
  for (const v1::TaskInfo& task : call.subscribe().unacknowledged_tasks()) {
    std::erase_if(executor.queuedTasks,
                  [&](const v1::TaskInfo& queued) { return queued.task_id().value() == task.task_id().value(); });
    if (framework.task(TaskId(task.task_id().value())) != nullptr) {
      executor.launchedTasks.insert(TaskId(task.task_id().value()));
    }
  }
  for (const v1::TaskInfo& task : std::exchange(executor.queuedTasks, {})) deliverTask(framework, executor, task);
  for (const v1::TaskGroupInfo& group : std::exchange(executor.queuedGroups, {})) {
    deliverTaskGroup(framework, executor, group);
  }
  for (const auto& [taskId, policy] : std::exchange(executor.pendingKills, {})) {
    Event kill;
    kill.set_type(Event::KILL);
    kill.mutable_kill()->mutable_task_id()->set_value(taskId.value());
    if (policy.has_grace_period()) *kill.mutable_kill()->mutable_kill_policy() = policy;
    sendToExecutor(executor, kill);
  }
  if (executor.state == ExecutorRecord::State::kTerminating) {
    Event shutdown;
    shutdown.set_type(Event::SHUTDOWN);
    sendToExecutor(executor, shutdown);
  }
}

Status AgentDaemon::executorUpdate(FrameworkRecord& framework, ExecutorRecord& executor, v1::TaskStatus status) {
  if (!status.has_uuid()) return Status::invalidArgument("Expecting 'uuid' to be present");
  if (status.uuid().size() != 16) return Status::invalidArgument("'uuid' is not a valid 16-byte UUID");
  if (status.state() == v1::TASK_STAGING) return Status::invalidArgument("Received TASK_STAGING from executor");
  const std::string& executorId = executor.info.executor_id().value();
  if (status.has_executor_id() && status.executor_id().value() != executorId) {
    return Status::invalidArgument("ExecutorID in the status (" + status.executor_id().value() +
                                   ") does not match the caller (" + executorId + ")");
  }
  TaskId taskId(status.task_id().value());
  const v1::Task* task = framework.task(taskId);
  if (task == nullptr || executorOf(*task).value() != executorId) {
    return Status::invalidArgument("Task '" + taskId.value() + "' is not known to executor '" + executorId + "'");
  }
  // A task killed by the kernel at its container's memory limit fails with
  // that reason, whatever the executor saw (a SIGKILL); and nothing follows
  // a terminal update. Either way the executor is told the update is safe.
  if (isTerminalTaskState(status.state())) enforceMemoryLimit(framework, executor);
  const bool known = std::any_of(task->statuses().begin(), task->statuses().end(),
                                 [&](const v1::TaskStatus& seen) { return seen.uuid() == status.uuid(); });
  if (isTerminalTaskState(task->state()) && !known) {
    spdlog::info("Dropping {} of task {}: the task is already {}", v1::TaskState_Name(status.state()),
                 taskId.value(), v1::TaskState_Name(task->state()));
    acknowledgeToExecutor(executor, status);
    return Status::ok();
  }
  status.mutable_agent_id()->set_value(agentId_);
  if (!status.has_source()) status.set_source(v1::TaskStatus::SOURCE_EXECUTOR);
  if (!status.has_timestamp()) status.set_timestamp(toEpochSeconds(clock_.now()));
  status.mutable_container_status()->mutable_container_id()->set_value(executor.containerId);
  executor.launchedTasks.insert(taskId);
  const Recorded recorded = recordStatus(framework, status, UpdateOrigin::kExecutor);
  if (recorded == Recorded::kNotDurable) return Status::ok();  // not acknowledged: the executor resends it
  if (recorded == Recorded::kYes) {
    spdlog::info("Task {} of framework {} is {} (update {})", taskId.value(), framework.id.value(),
                 v1::TaskState_Name(status.state()), uuidBytesToString(status.uuid()));
  }
  acknowledgeToExecutor(executor, status);
  return Status::ok();
}

// The agent has the update now (duplicates too): the executor may forget it.
void AgentDaemon::acknowledgeToExecutor(ExecutorRecord& executor, const v1::TaskStatus& status) {
  Event ack;
  ack.set_type(Event::ACKNOWLEDGED);
  *ack.mutable_acknowledged()->mutable_task_id() = status.task_id();
  ack.mutable_acknowledged()->set_uuid(status.uuid());
  sendToExecutor(executor, ack);
}

}  // namespace mezzo::agent
