// The agent's side of containers: setting up isolation at start-up,
// launching an executor in its container, keeping the container's limits in
// step with its tasks, noticing the kernel's OOM kills (reported as
// TASK_FAILED / REASON_CONTAINER_LIMITATION_MEMORY), destroying containers,
// re-finding them after a restart, and /monitor/statistics.
#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <array>
#include <filesystem>
#include <boost/asio/posix/descriptor_base.hpp>

#include "agent/agent_daemon.hpp"
#include "agent/container_config.hpp"
#include "agent/containerizer.hpp"
#include "mezzo/common/resources.hpp"

namespace mezzo::agent {

namespace {

constexpr uint64_t kMiB = 1024 * 1024;

std::string mebibytes(uint64_t bytes) { return std::to_string(bytes / kMiB) + " MB"; }

}  // namespace

Status AgentDaemon::startContainerizer() {
  auto isolators = parseIsolation(flags_.isolation);
  if (!isolators) return Status::invalidArgument("Invalid --isolation: " + isolators.error());
  auto launcher = parseLauncher(flags_.launcher, *isolators);
  if (!launcher) return Status::invalidArgument("Invalid --launcher: " + launcher.error());
  IsolationOptions options;
  options.isolators = std::move(*isolators);
  options.launcher = *launcher;
  options.cgroupsRoot = flags_.cgroupsRoot;
  options.enableCfs = flags_.cgroupsEnableCfs;
  options.pidsMax = flags_.cgroupsPidsMax;
  options.launchHelperPath =
      flags_.launchHelperPath.empty() ? selfExecutableDir() + "/mezzo-launch" : flags_.launchHelperPath;
  auto containerizer = Containerizer::create(std::move(options));
  if (!containerizer) return containerizer.status();
  containerizer_ = std::make_unique<Containerizer>(std::move(*containerizer));
  spdlog::info("Containers: {}", containerizer_->describe());
  // Status files of supervised command tasks (supervised_tasks.cpp).
  std::error_code ec;
  std::filesystem::create_directories(flags_.workDir + "/containers", ec);
  if (ec) return Status::ioError("Cannot create " + flags_.workDir + "/containers: " + ec.message());
  return Status::ok();
}

ContainerLimits AgentDaemon::containerLimitsOf(const FrameworkRecord& framework, const ExecutorRecord& executor) const {
  const ExecutorId executorId(executor.info.executor_id().value());
  auto sum = Resources::fromProto(executor.info.resources());
  Resources total = sum ? std::move(*sum) : Resources();
  const Resources own = total;
  // TaskInfo.limits: a task without a limit counts with its request.
  double cpuLimits = 0;
  double memLimits = 0;
  BurstLimits burst;
  auto add = [&](const v1::Task& task) {
    if (isTerminalTaskState(task.state())) return;
    auto resources = Resources::fromProto(task.resources());
    if (resources) total += *resources;
    const double cpus = resources ? resources->cpus() : 0;
    const double mem = resources ? resources->mem() : 0;
    auto cpuLimit = task.limits().find("cpus");
    auto memLimit = task.limits().find("mem");
    cpuLimits += cpuLimit != task.limits().end() ? cpuLimit->second.value() : cpus;
    memLimits += memLimit != task.limits().end() ? memLimit->second.value() : mem;
    if (cpuLimit != task.limits().end()) burst.cpus = 0;
    if (memLimit != task.limits().end()) burst.mem = 0;
  };
  if (executor.commandExecutor) {
    // Its one task has the executor's id: no scan over the framework's tasks.
    auto it = framework.tasks.find(TaskId(executorId.value()));
    if (it != framework.tasks.end()) add(it->second);
  } else {
    for (const auto& [taskId, task] : framework.tasks) {
      if (executorOf(task) == executorId) add(task);
    }
  }
  if (burst.cpus) burst.cpus = cpuLimits + own.cpus();
  if (burst.mem) burst.mem = memLimits + own.mem();
  return containerLimits(total, executor.commandExecutor, burst);
}

Result<pid_t> AgentDaemon::launchContainer(const FrameworkRecord& framework, ExecutorRecord& executor,
                                           SpawnOptions spawn) {
  executor.limits = containerLimitsOf(framework, executor);
  return containerizer_->launch(executor.containerId, executor.limits, std::move(spawn), executor.settings);
}

Status AgentDaemon::configureContainer(const FrameworkRecord& framework, ExecutorRecord& executor) {
  const v1::ExecutorInfo& info = executor.info;
  if (flags_.switchUser) {
    auto user = containerUser(info.command(), framework.info.user());
    if (!user) return Status(user.status().code(), "Failed to chown the sandbox to its user: " + user.error());
    executor.settings.user = *user;
  }
  if (!info.has_container()) return Status::ok();
  auto settings = containerSettings(info.container(), {executor.directory, ""},
                                    containerizer_->options().has(Isolator::kFilesystemLinux));
  if (!settings) return settings.status();
  const std::string inSandbox = executor.directory + "/";
  for (const launch::BindMount& mount : settings->mounts) {
    std::error_code ec;
    // A sandbox path is created (as Mesos's sandbox_path isolator does); a host path must exist.
    if (mount.source.starts_with(inSandbox)) std::filesystem::create_directories(mount.source, ec);
    if (!std::filesystem::exists(mount.source, ec)) {
      return Status::invalidArgument("Path '" + mount.source + "' of volume '" + mount.target + "' does not exist");
    }
    // Mount points outside the sandbox are never created on the host (as Mesos).
    if (!mount.target.starts_with(inSandbox) && !std::filesystem::exists(mount.target, ec)) {
      return Status::invalidArgument("Mount point '" + mount.target +
                                     "' is an absolute path. It must exist if the container shares the host "
                                     "filesystem");
    }
  }
  executor.settings.rlimits = std::move(settings->rlimits);
  executor.settings.mounts = std::move(settings->mounts);
  return Status::ok();
}

Status AgentDaemon::giveSandboxToUser(const ExecutorRecord& executor) {
  if (!executor.settings.user) return Status::ok();
  for (const char* name : {"/stdout", "/stderr"}) {
    const int fd = ::open((executor.directory + name).c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd >= 0) ::close(fd);
  }
  return chownTree(executor.directory, *executor.settings.user);
}

std::string AgentDaemon::unsupportedInGroup(const v1::TaskGroupInfo& group) const {
  for (const v1::TaskInfo& task : group.tasks()) {
    const std::string prefix = "Task " + task.task_id().value() + " of the group: ";
    if (flags_.switchUser && task.command().has_user()) {
      if (auto user = lookUpUser(task.command().user()); !user) return prefix + user.error();
    }
    if (auto rlimits = rlimitsOf(task.container().rlimit_info()); !rlimits) return prefix + rlimits.error();
    if (task.container().volumes_size() > 0) {
      return prefix + "volumes of a task in a group are not supported; give them to the executor's ContainerInfo";
    }
  }
  return {};
}

void AgentDaemon::updateContainerLimits(FrameworkRecord& framework, ExecutorRecord& executor) {
  if (executor.commandExecutor) return;  // its one task was counted at launch
  // No container yet while fetching: it is sized at its launch.
  if (executor.state == ExecutorRecord::State::kFetching) return;
  ContainerLimits limits = containerLimitsOf(framework, executor);
  if (limits == executor.limits) return;
  executor.limits = limits;
  Status status = containerizer_->update(executor.containerId, limits);
  if (!status) spdlog::warn("Cannot update the limits of container {}: {}", executor.containerId, status.message());
}

void AgentDaemon::watchContainerMemory(const ExecutorKey& key, ExecutorRecord& executor) {
  auto fd = containerizer_->oomEventFd(executor.containerId);
  if (!fd) {
    if (containerizer_->options().has(Isolator::kCgroupsMem)) {
      spdlog::warn("Cannot watch OOM events of container {}: {}", executor.containerId, fd.error());
    }
    return;
  }
  executor.oomWatch = std::make_unique<boost::asio::posix::stream_descriptor>(io_, *fd);
  awaitOomEvent(key, executor);
}

void AgentDaemon::awaitOomEvent(const ExecutorKey& key, ExecutorRecord& executor) {
  // An eventfd (cgroups v1) or inotify descriptor (v2): wait until it is
  // readable, drain it, then look at the OOM counter.
  auto onEvent = [this, key](boost::system::error_code ec) {
    if (ec) return;  // closed: the container is gone
    FrameworkRecord* fw = framework(key.first);
    ExecutorRecord* executor = fw != nullptr ? fw->executor(key.second) : nullptr;
    if (executor == nullptr || !executor->oomWatch) return;
    std::array<char, 4096> events{};
    while (::read(executor->oomWatch->native_handle(), events.data(), events.size()) > 0) {
    }
    // Also signalled when the cgroup is removed: look before acting.
    if (!enforceMemoryLimit(*fw, *executor)) awaitOomEvent(key, *executor);
  };
  executor.oomWatch->async_wait(boost::asio::posix::descriptor_base::wait_read, std::move(onEvent));
}

bool AgentDaemon::enforceMemoryLimit(FrameworkRecord& framework, ExecutorRecord& executor) {
  if (executor.endReason == ExecutorRecord::EndReason::kMemoryLimit) return true;
  if (executor.containerId.empty() || !containerizer_->memoryLimitReached(executor.containerId)) return false;
  const ExecutorId executorId(executor.info.executor_id().value());
  std::string message = "Memory limit exceeded: the kernel killed a process of the container at its limit of " +
                        mebibytes(executor.limits.memoryBytes);
  if (executor.commandExecutor) {
    message += " (" + mebibytes(executor.limits.memoryBytes - kCommandExecutorMemoryBytes) + " for the task + " +
               mebibytes(kCommandExecutorMemoryBytes) + " for the command executor)";
  }
  spdlog::warn("Container {} of executor {} (framework {}) reached its memory limit; destroying it",
               executor.containerId, executorId.value(), framework.id.value());
  executor.endReason = ExecutorRecord::EndReason::kMemoryLimit;
  executor.state = ExecutorRecord::State::kTerminating;
  if (executor.timer) executor.timer->cancel();
  // The limitation is the reason of every live task, ahead of whatever the
  // executor would say about its dying task.
  std::vector<TaskId> live;
  for (const auto& [taskId, task] : framework.tasks) {
    if (executorOf(task) == executorId && !isTerminalTaskState(task.state())) live.push_back(taskId);
  }
  // As Mesos's memory isolator: the limitation is the container's memory limit, in MB.
  v1::TaskResourceLimitation limitation;
  v1::Resource* memory = limitation.add_resources();
  memory->set_name("mem");
  memory->set_type(v1::Value::SCALAR);
  memory->mutable_scalar()->set_value(static_cast<double>(executor.limits.memoryBytes) / (1024.0 * 1024.0));
  for (const TaskId& taskId : live) {
    generateStatus(framework, taskId, v1::TASK_FAILED, v1::TaskStatus::REASON_CONTAINER_LIMITATION_MEMORY, message,
                   &limitation);
  }
  (void)containerizer_->destroy(executor.containerId, executor.pid);
  return true;
}

void AgentDaemon::destroyContainer(ExecutorRecord& executor, bool signalProcesses) {
  if (executor.oomWatch) {
    executor.oomWatch->close();
    executor.oomWatch.reset();
  }
  const bool signal = signalProcesses && !executor.sessionKilled;
  Status status = containerizer_->destroy(executor.containerId, signal ? executor.pid : -1);
  if (!status) spdlog::warn("Cannot destroy container {}: {}", executor.containerId, status.message());
}

void AgentDaemon::recoverContainers() {
  std::set<std::string> live;
  for (auto& [frameworkId, fw] : frameworks_) {
    for (auto& [executorId, executor] : fw->executors) {
      if (executor->pid <= 0 || executor->containerId.empty()) continue;
      live.insert(executor->containerId);
      executor->limits = containerLimitsOf(*fw, *executor);
      if (containerizer_->hasContainer(executor->containerId)) watchContainerMemory({frameworkId, executorId}, *executor);
    }
  }
  size_t orphans = containerizer_->cleanupOrphans(live);
  if (orphans > 0) spdlog::info("Destroyed {} orphaned containers under --cgroups_root", orphans);
  // Status files nobody will read: their containers were settled or forgotten.
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(flags_.workDir + "/containers", ec)) {
    const std::filesystem::path& path = entry.path();
    if (!live.contains(path.stem().string())) std::filesystem::remove(path, ec);
  }
}

nlohmann::json AgentDaemon::renderStatistics() const {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& [frameworkId, fw] : frameworks_) {
    for (const auto& [executorId, executor] : fw->executors) {
      if (executor->pid <= 0) continue;
      ResourceStatistics stats = containerizer_->usage(executor->containerId, executor->pid, executor->limits);
      out.push_back({{"executor_id", executorId.value()},
                     {"executor_name", executor->info.name()},
                     {"framework_id", frameworkId.value()},
                     {"source", executor->info.source()},
                     {"container_id", executor->containerId},
                     {"statistics", stats.toJson()}});
    }
  }
  return out;
}

}  // namespace mezzo::agent
