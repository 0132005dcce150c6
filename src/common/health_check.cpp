// HealthCheck and CheckInfo validation (Mesos's rules, see the header).
#include "mezzo/common/health_check.hpp"

#include <cmath>
#include <initializer_list>
#include <utility>

namespace mezzo {

namespace {

// `what` is "health check" or "check", as in Mesos's messages.
Status validateCommand(const v1::CommandInfo* command, const std::string& what) {
  if (command == nullptr) return Status::invalidArgument("Expecting 'command' to be set for COMMAND " + what);
  if (!command->has_value()) {
    return Status::invalidArgument((what == "check" ? std::string("Command check") : "Command health check") +
                                   " must contain " + (command->shell() ? "'shell command'" : "'executable path'"));
  }
  return Status::ok();
}

Status validatePath(const std::string* path, const std::string& what) {
  if (path != nullptr && !path->starts_with('/')) {
    return Status::invalidArgument("The path '" + *path + "' of HTTP " + what + " must start with '/'");
  }
  return Status::ok();
}

Status validateDurations(std::initializer_list<std::pair<const char*, double>> durations) {
  for (const auto& [name, seconds] : durations) {
    // Mesos only refuses negative values; its executors would abort on NaN or infinity.
    if (!std::isfinite(seconds)) return Status::invalidArgument(std::string("Expecting '") + name + "' to be finite");
    if (seconds < 0.0) return Status::invalidArgument(std::string("Expecting '") + name + "' to be non-negative");
  }
  return Status::ok();
}

Status validateHealthCheckType(const v1::HealthCheck& check) {
  const std::string what = "health check";
  switch (check.type()) {
    case v1::HealthCheck::COMMAND:
      return validateCommand(check.has_command() ? &check.command() : nullptr, what);
    case v1::HealthCheck::HTTP: {
      if (!check.has_http()) return Status::invalidArgument("Expecting 'http' to be set for HTTP health check");
      const auto& http = check.http();
      if (http.has_scheme() && http.scheme() != "http" && http.scheme() != "https") {
        return Status::invalidArgument("Unsupported HTTP health check scheme: '" + http.scheme() + "'");
      }
      if (http.scheme() == "https")
        return Status::invalidArgument("HTTPS health checks are not supported by Mezzo yet");
      return validatePath(http.has_path() ? &http.path() : nullptr, what);
    }
    case v1::HealthCheck::TCP:
      if (!check.has_tcp()) return Status::invalidArgument("Expecting 'tcp' to be set for TCP health check");
      return Status::ok();
    default:
      return Status::invalidArgument("'" + v1::HealthCheck::Type_Name(check.type()) +
                                     "' is not a valid health check type");
  }
}

Status validateCheckType(const v1::CheckInfo& check) {
  const std::string what = "check";
  switch (check.type()) {
    case v1::CheckInfo::COMMAND:
      return validateCommand(check.has_command() ? &check.command().command() : nullptr, what);
    case v1::CheckInfo::HTTP:
      if (!check.has_http()) return Status::invalidArgument("Expecting 'http' to be set for HTTP check");
      return validatePath(check.http().has_path() ? &check.http().path() : nullptr, what);
    case v1::CheckInfo::TCP:
      if (!check.has_tcp()) return Status::invalidArgument("Expecting 'tcp' to be set for TCP check");
      return Status::ok();
    default:
      return Status::invalidArgument("'" + v1::CheckInfo::Type_Name(check.type()) + "' is not a valid check type");
  }
}

}  // namespace

Status validateHealthCheck(const v1::HealthCheck& check) {
  if (!check.has_type()) return Status::invalidArgument("HealthCheck must specify 'type'");
  if (Status status = validateHealthCheckType(check); !status) return status;
  return validateDurations({{"delay_seconds", check.delay_seconds()},
                            {"grace_period_seconds", check.grace_period_seconds()},
                            {"interval_seconds", check.interval_seconds()},
                            {"timeout_seconds", check.timeout_seconds()}});
}

Status validateCheckInfo(const v1::CheckInfo& check) {
  if (!check.has_type()) return Status::invalidArgument("CheckInfo must specify 'type'");
  if (Status status = validateCheckType(check); !status) return status;
  return validateDurations({{"delay_seconds", check.delay_seconds()},
                            {"interval_seconds", check.interval_seconds()},
                            {"timeout_seconds", check.timeout_seconds()}});
}

}  // namespace mezzo
