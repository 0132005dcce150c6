// CommandFramework: the small framework behind `mezzo run` and the sample
// workload of `mezzo local --run-sample`, built on client::Scheduler.
//
// It subscribes, launches a fixed list of shell-command tasks on the first
// offers that fit them (at most `maxTasksPerOffer` per offer, to spread them
// over agents), acknowledges every update, suppresses offers once everything
// is launched, and reports each state transition. onDone fires once, when
// every task is terminal (or was abandoned by killAll() before launch).
// After a re-subscription it reconciles its live tasks.
//
// Thread-safety: one io_context thread, like client::Scheduler.
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "cli/agent_files.hpp"
#include "mezzo/client/scheduler.hpp"
#include "mezzo/common/resources.hpp"

namespace mezzo::cli {

struct CommandTask {
  std::string id;
  std::string name;
  std::string command;  // run with /bin/sh -c
  double cpus = 0.1;
  double mem = 32;
};

struct TaskRecord {
  enum class Phase { kPending, kLaunched, kAbandoned };

  CommandTask spec;
  Phase phase = Phase::kPending;
  v1::AgentID agentId;
  net::Endpoint agent;     // the agent's HTTP endpoint
  std::string executorId;  // the command executor's id (the task id)
  std::optional<v1::TaskStatus> last;

  bool terminal() const { return last && client::isTerminalState(last->state()); }
};

// Takes `cpus` and `mem` (scalars, any reservation the offer allows) out of
// `available`; nullopt if they do not fit.
std::optional<Resources> pickResources(const Resources& available, double cpus, double mem);

class CommandFramework {
 public:
  struct Options {
    std::string master = "127.0.0.1:5050";
    std::string name = "mezzo-run";
    std::string role = "*";
    std::string user;  // empty: the user running the CLI
    size_t maxTasksPerOffer = 1000;
    double failoverTimeoutSeconds = 30;
    Duration subscribeTimeout = std::chrono::seconds(10);
  };

  struct Callbacks {
    std::function<void(const v1::FrameworkID& id)> onSubscribed;
    std::function<void(const TaskRecord& task)> onLaunched;
    std::function<void(const TaskRecord& task, const v1::TaskStatus& status)> onUpdate;
    std::function<void()> onDone;
    // Could not subscribe in time, or the master refused us: nothing runs.
    std::function<void(const std::string& message)> onFatal;
    // The subscription was lost (the master went away); re-subscription is
    // tried with a backoff until onResubscribed or stop.
    std::function<void(const Status& reason)> onDisconnected;
    std::function<void()> onResubscribed;
  };

  CommandFramework(boost::asio::io_context& io, Options options, std::vector<CommandTask> tasks, Callbacks callbacks);

  void start();
  // Kills launched live tasks; tasks not yet launched are abandoned.
  void killAll();
  // TEARDOWN (bounded by a few seconds), then `done`.
  void teardown(std::function<void()> done);
  // Reads a file ("stdout", "stderr") of the task's sandbox from its agent.
  void fetchOutput(const TaskRecord& task, const std::string& file, std::function<void(Result<std::string>)> done);
  // Follows that file while the task runs (see FileFollower); null if the
  // task was never launched.
  std::shared_ptr<FileFollower> followOutput(const TaskRecord& task, const std::string& file,
                                             std::function<void(const std::string& data)> onData);

  const std::vector<TaskRecord>& tasks() const { return tasks_; }
  std::optional<v1::FrameworkID> frameworkId() const { return scheduler_.frameworkId(); }

 private:
  client::SchedulerCallbacks schedulerCallbacks();
  void onOffers(const std::vector<v1::Offer>& offers);
  void onUpdate(const v1::TaskStatus& status);
  void relaunchAfterFailedAccept(const std::vector<std::string>& taskIds, const Status& status);
  void checkDone();
  size_t pendingCount() const;

  boost::asio::io_context& io_;
  Options options_;
  Callbacks callbacks_;
  std::vector<TaskRecord> tasks_;
  client::Scheduler scheduler_;
  boost::asio::steady_timer subscribeTimer_;
  boost::asio::steady_timer teardownTimer_;
  bool everSubscribed_ = false;
  bool suppressed_ = false;
  bool done_ = false;
};

}  // namespace mezzo::cli
