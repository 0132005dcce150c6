// ExecutorEnvironment: what an executor learns from the MESOS_* variables
// the agent sets (mesos-reference.md §2), parsed and validated.
//
// Required: MESOS_FRAMEWORK_ID, MESOS_EXECUTOR_ID, MESOS_AGENT_ENDPOINT.
// Optional: MESOS_CHECKPOINT ("1" = reconnect across agent restarts),
// MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD (default 5secs),
// MESOS_RECOVERY_TIMEOUT (default 15mins), MESOS_SUBSCRIPTION_BACKOFF_MAX
// (default 2secs), MESOS_SANDBOX / MESOS_DIRECTORY; Mezzo's own
// MEZZO_LAUNCH_HELPER (the agent's mezzo-launch) and MEZZO_SWITCH_USER
// ("0" = the agent runs with --switch_user=false), which the default
// executor needs to run a task as its user or with its rlimits.
//
// Thread-safety: a value; parse() only reads the getter it is given.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "mezzo/common/clock.hpp"
#include "mezzo/common/status.hpp"
#include "mezzo/net/http_client.hpp"

namespace mezzo::executor {

struct ExecutorEnvironment {
  std::string frameworkId;
  std::string executorId;
  net::Endpoint agent;
  std::string sandbox;
  std::string launchHelper;  // empty: tasks of a group cannot change user or rlimits
  bool switchUser = true;
  bool checkpoint = false;
  Duration shutdownGracePeriod = std::chrono::seconds(5);
  Duration recoveryTimeout = std::chrono::minutes(15);
  Duration subscriptionBackoffMax = std::chrono::seconds(2);

  // How long the executor keeps trying to re-subscribe before it gives up:
  // the recovery timeout when checkpointing, else a short grace.
  Duration reconnectWindow() const;

  using Getter = std::function<std::optional<std::string>(const std::string& name)>;
  static Result<ExecutorEnvironment> parse(const Getter& get);
  static Result<ExecutorEnvironment> fromProcessEnvironment();
};

}  // namespace mezzo::executor
