#include "executor/executor_env.hpp"

#include <cstdlib>

#include "mezzo/common/durations.hpp"

namespace mezzo::executor {

namespace {

constexpr auto kNonCheckpointReconnectWindow = std::chrono::seconds(10);

Status readDuration(const ExecutorEnvironment::Getter& get, const std::string& name, Duration* out) {
  auto text = get(name);
  if (!text || text->empty()) return Status::ok();
  auto duration = parseDuration(*text);
  if (!duration) return Status::invalidArgument("Invalid " + name + ": " + duration.error());
  *out = *duration;
  return Status::ok();
}

}  // namespace

Duration ExecutorEnvironment::reconnectWindow() const {
  return checkpoint ? recoveryTimeout : Duration(kNonCheckpointReconnectWindow);
}

Result<ExecutorEnvironment> ExecutorEnvironment::parse(const Getter& get) {
  ExecutorEnvironment env;
  for (auto [name, field] : {std::pair{"MESOS_FRAMEWORK_ID", &env.frameworkId},
                             std::pair{"MESOS_EXECUTOR_ID", &env.executorId}}) {
    auto value = get(name);
    if (!value || value->empty()) return Status::invalidArgument(std::string("Missing ") + name);
    *field = *value;
  }
  auto endpoint = get("MESOS_AGENT_ENDPOINT");
  if (!endpoint || endpoint->empty()) return Status::invalidArgument("Missing MESOS_AGENT_ENDPOINT");
  auto agent = net::parseEndpoint(*endpoint);
  if (!agent) return Status::invalidArgument("Invalid MESOS_AGENT_ENDPOINT: " + agent.error());
  env.agent = *agent;
  env.sandbox = get("MESOS_SANDBOX").value_or(get("MESOS_DIRECTORY").value_or(""));
  env.checkpoint = get("MESOS_CHECKPOINT").value_or("0") == "1";
  env.launchHelper = get("MEZZO_LAUNCH_HELPER").value_or("");
  env.switchUser = get("MEZZO_SWITCH_USER").value_or("1") != "0";
  for (auto [name, field] : {std::pair{"MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD", &env.shutdownGracePeriod},
                             std::pair{"MESOS_RECOVERY_TIMEOUT", &env.recoveryTimeout},
                             std::pair{"MESOS_SUBSCRIPTION_BACKOFF_MAX", &env.subscriptionBackoffMax}}) {
    Status status = readDuration(get, name, field);
    if (!status) return status;
  }
  return env;
}

Result<ExecutorEnvironment> ExecutorEnvironment::fromProcessEnvironment() {
  return parse([](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  });
}

}  // namespace mezzo::executor
