#include "cli/command_framework.hpp"

#include <pwd.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <cmath>

#include "cli/agent_files.hpp"

namespace mezzo::cli {

namespace asio = boost::asio;
using Capability = v1::FrameworkInfo::Capability;

namespace {

std::string currentUser() {
  if (const passwd* entry = ::getpwuid(::getuid())) return entry->pw_name;
  if (const char* user = std::getenv("USER")) return user;
  return "nobody";
}

v1::FrameworkInfo frameworkInfo(const CommandFramework::Options& options) {
  v1::FrameworkInfo info;
  info.set_user(options.user.empty() ? currentUser() : options.user);
  info.set_name(options.name);
  info.add_roles(options.role);
  info.set_failover_timeout(options.failoverTimeoutSeconds);
  char host[256] = {};
  if (::gethostname(host, sizeof(host) - 1) == 0) info.set_hostname(host);
  for (auto type : {Capability::MULTI_ROLE, Capability::RESERVATION_REFINEMENT, Capability::TASK_KILLING_STATE}) {
    info.add_capabilities()->set_type(type);
  }
  return info;
}

v1::Filters refuseFor(double seconds) {
  v1::Filters filters;
  filters.set_refuse_seconds(seconds);
  return filters;
}

}  // namespace

std::optional<Resources> pickResources(const Resources& available, double cpus, double mem) {
  Resources picked;
  for (auto [name, amount] : {std::pair<const char*, double>{"cpus", cpus}, {"mem", mem}}) {
    int64_t remaining = std::llround(amount * 1000);
    for (const ResourceEntry& entry : available.entries()) {
      if (remaining <= 0) break;
      if (entry.name != name || entry.type != v1::Value::SCALAR || entry.revocable) continue;
      ResourceEntry part = entry;
      part.scalarMillis = std::min(remaining, entry.scalarMillis);
      remaining -= part.scalarMillis;
      picked.addEntry(part);
    }
    if (remaining > 0) return std::nullopt;
  }
  return picked;
}

CommandFramework::CommandFramework(asio::io_context& io, Options options, std::vector<CommandTask> tasks,
                                   Callbacks callbacks)
    : io_(io),
      options_(std::move(options)),
      callbacks_(std::move(callbacks)),
      scheduler_(io, options_.master, frameworkInfo(options_), schedulerCallbacks()),
      subscribeTimer_(io),
      teardownTimer_(io) {
  for (CommandTask& task : tasks) {
    TaskRecord record;
    record.spec = std::move(task);
    tasks_.push_back(std::move(record));
  }
}

client::SchedulerCallbacks CommandFramework::schedulerCallbacks() {
  client::SchedulerCallbacks callbacks;
  callbacks.onSubscribed = [this](const v1::FrameworkID& id, Duration) {
    subscribeTimer_.cancel();
    if (everSubscribed_) {
      // Back after a disconnection: ask where our live tasks stand.
      std::vector<v1::scheduler::Call::Reconcile::Task> live;
      for (const TaskRecord& task : tasks_) {
        if (task.phase != TaskRecord::Phase::kLaunched || task.terminal()) continue;
        v1::scheduler::Call::Reconcile::Task entry;
        entry.mutable_task_id()->set_value(task.spec.id);
        *entry.mutable_agent_id() = task.agentId;
        live.push_back(std::move(entry));
      }
      if (!live.empty()) scheduler_.reconcile(live);
      if (suppressed_ && pendingCount() == 0) scheduler_.suppress();
      if (callbacks_.onResubscribed) callbacks_.onResubscribed();
      return;
    }
    everSubscribed_ = true;
    if (callbacks_.onSubscribed) callbacks_.onSubscribed(id);
  };
  callbacks.onOffers = [this](const std::vector<v1::Offer>& offers) { onOffers(offers); };
  callbacks.onUpdate = [this](const v1::TaskStatus& status) { onUpdate(status); };
  callbacks.onDisconnected = [this](const Status& reason) {
    if (callbacks_.onDisconnected) callbacks_.onDisconnected(reason);
  };
  callbacks.onError = [this](const std::string& message) {
    if (callbacks_.onFatal) callbacks_.onFatal(message);
  };
  return callbacks;
}

void CommandFramework::start() {
  subscribeTimer_.expires_after(options_.subscribeTimeout);
  subscribeTimer_.async_wait([this](boost::system::error_code ec) {
    if (ec || everSubscribed_) return;
    std::string reason = scheduler_.lastError().isOk() ? "no answer" : scheduler_.lastError().message();
    scheduler_.stop();
    if (callbacks_.onFatal)
      callbacks_.onFatal("Could not subscribe to the master at " + options_.master + ": " + reason);
  });
  scheduler_.start();
}

size_t CommandFramework::pendingCount() const {
  size_t count = 0;
  for (const TaskRecord& task : tasks_) count += task.phase == TaskRecord::Phase::kPending ? 1 : 0;
  return count;
}

void CommandFramework::onOffers(const std::vector<v1::Offer>& offers) {
  for (const v1::Offer& offer : offers) {
    auto available = Resources::fromProto(offer.resources());
    std::vector<v1::TaskInfo> launch;
    std::vector<std::string> launchedIds;
    for (TaskRecord& task : tasks_) {
      if (!available || launch.size() >= options_.maxTasksPerOffer) break;
      if (task.phase != TaskRecord::Phase::kPending) continue;
      auto picked = pickResources(*available, task.spec.cpus, task.spec.mem);
      if (!picked) continue;
      *available -= *picked;
      v1::TaskInfo info;
      info.set_name(task.spec.name);
      info.mutable_task_id()->set_value(task.spec.id);
      *info.mutable_agent_id() = offer.agent_id();
      picked->toProto(info.mutable_resources());
      info.mutable_command()->set_shell(true);
      info.mutable_command()->set_value(task.spec.command);
      launch.push_back(std::move(info));
      task.phase = TaskRecord::Phase::kLaunched;
      task.agentId = offer.agent_id();
      task.agent = agentEndpoint(offer);
      task.executorId = task.spec.id;
      launchedIds.push_back(task.spec.id);
      if (callbacks_.onLaunched) callbacks_.onLaunched(task);
    }
    const double refuse = pendingCount() > 0 ? 1 : 3600;
    if (launch.empty()) {
      scheduler_.decline({offer.id()}, refuseFor(refuse));
      continue;
    }
    scheduler_.launch(offer, std::move(launch), refuseFor(refuse), [this, launchedIds](const Status& status) {
      if (!status.isOk()) relaunchAfterFailedAccept(launchedIds, status);
    });
  }
  if (pendingCount() == 0 && !suppressed_) {
    suppressed_ = true;
    scheduler_.suppress();
  }
}

void CommandFramework::relaunchAfterFailedAccept(const std::vector<std::string>& taskIds, const Status& status) {
  spdlog::warn("Launch was not accepted ({}); trying again with the next offers", status.message());
  for (TaskRecord& task : tasks_) {
    if (task.phase != TaskRecord::Phase::kLaunched || task.last) continue;
    if (std::find(taskIds.begin(), taskIds.end(), task.spec.id) != taskIds.end()) {
      task.phase = TaskRecord::Phase::kPending;
    }
  }
  if (suppressed_) {
    suppressed_ = false;
    scheduler_.revive();
  }
}

void CommandFramework::onUpdate(const v1::TaskStatus& status) {
  scheduler_.acknowledge(status);
  auto it = std::find_if(tasks_.begin(), tasks_.end(),
                         [&](const TaskRecord& task) { return task.spec.id == status.task_id().value(); });
  if (it == tasks_.end() || it->terminal()) return;
  // Reconciliation answers repeat the state we know: not a transition.
  const bool repeated = it->last && it->last->state() == status.state();
  it->last = status;
  if (status.has_executor_id()) it->executorId = status.executor_id().value();
  if (!repeated && callbacks_.onUpdate) callbacks_.onUpdate(*it, status);
  checkDone();
}

void CommandFramework::killAll() {
  for (TaskRecord& task : tasks_) {
    if (task.phase == TaskRecord::Phase::kPending) {
      task.phase = TaskRecord::Phase::kAbandoned;
    } else if (task.phase == TaskRecord::Phase::kLaunched && !task.terminal()) {
      scheduler_.kill(task.last ? task.last->task_id() : [&] {
        v1::TaskID id;
        id.set_value(task.spec.id);
        return id;
      }(), task.agentId);
    }
  }
  checkDone();
}

void CommandFramework::checkDone() {
  if (done_) return;
  for (const TaskRecord& task : tasks_) {
    if (task.phase == TaskRecord::Phase::kPending) return;
    if (task.phase == TaskRecord::Phase::kLaunched && !task.terminal()) return;
  }
  done_ = true;
  asio::post(io_, [this] {
    if (callbacks_.onDone) callbacks_.onDone();
  });
}

void CommandFramework::teardown(std::function<void()> done) {
  auto finished = std::make_shared<bool>(false);
  auto finish = [this, finished, done = std::move(done)] {
    if (*finished) return;
    *finished = true;
    teardownTimer_.cancel();
    scheduler_.stop();
    if (done) done();
  };
  if (!scheduler_.subscribed()) {
    asio::post(io_, finish);
    return;
  }
  teardownTimer_.expires_after(std::chrono::seconds(5));
  teardownTimer_.async_wait([finish](boost::system::error_code ec) {
    if (!ec) finish();
  });
  scheduler_.teardown([finish](const Status&) { finish(); });
}

void CommandFramework::fetchOutput(const TaskRecord& task, const std::string& file,
                                   std::function<void(Result<std::string>)> done) {
  auto id = frameworkId();
  if (!id || task.phase != TaskRecord::Phase::kLaunched) {
    asio::post(io_, [done] { done(Status::notFound("The task was never launched")); });
    return;
  }
  readAgentFile(io_, task.agent, sandboxPath(id->value(), task.executorId, file), std::move(done));
}

std::shared_ptr<FileFollower> CommandFramework::followOutput(const TaskRecord& task, const std::string& file,
                                                           std::function<void(const std::string& data)> onData) {
  auto id = frameworkId();
  if (!id || task.phase != TaskRecord::Phase::kLaunched) return nullptr;
  return FileFollower::start(io_, task.agent, sandboxPath(id->value(), task.executorId, file), std::move(onData));
}

}  // namespace mezzo::cli
