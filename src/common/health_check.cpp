// HealthCheck validation (Mesos's rules, see the header).
#include "mezzo/common/health_check.hpp"

#include <cmath>
#include <utility>

namespace mezzo {

namespace {

Status validateType(const v1::HealthCheck& check) {
  switch (check.type()) {
    case v1::HealthCheck::COMMAND: {
      if (!check.has_command()) return Status::invalidArgument("Expecting 'command' to be set for COMMAND health check");
      if (!check.command().has_value()) {
        return Status::invalidArgument(std::string("Command health check must contain ") +
                                       (check.command().shell() ? "'shell command'" : "'executable path'"));
      }
      return Status::ok();
    }
    case v1::HealthCheck::HTTP: {
      if (!check.has_http()) return Status::invalidArgument("Expecting 'http' to be set for HTTP health check");
      const auto& http = check.http();
      if (http.has_scheme() && http.scheme() != "http" && http.scheme() != "https") {
        return Status::invalidArgument("Unsupported HTTP health check scheme: '" + http.scheme() + "'");
      }
      if (http.scheme() == "https") {
        return Status::invalidArgument("HTTPS health checks are not supported by Mezzo yet");
      }
      if (http.has_path() && !http.path().starts_with('/')) {
        return Status::invalidArgument("The path '" + http.path() + "' of HTTP health check must start with '/'");
      }
      return Status::ok();
    }
    case v1::HealthCheck::TCP:
      if (!check.has_tcp()) return Status::invalidArgument("Expecting 'tcp' to be set for TCP health check");
      return Status::ok();
    case v1::HealthCheck::UNKNOWN:
    default:
      return Status::invalidArgument("'" + v1::HealthCheck::Type_Name(check.type()) +
                                     "' is not a valid health check type");
  }
}

}  // namespace

Status validateHealthCheck(const v1::HealthCheck& check) {
  if (!check.has_type()) return Status::invalidArgument("HealthCheck must specify 'type'");
  if (Status status = validateType(check); !status) return status;
  const std::pair<const char*, double> durations[] = {{"delay_seconds", check.delay_seconds()},
                                                      {"grace_period_seconds", check.grace_period_seconds()},
                                                      {"interval_seconds", check.interval_seconds()},
                                                      {"timeout_seconds", check.timeout_seconds()}};
  for (const auto& [name, seconds] : durations) {
    // Mesos only refuses negative values; NaN and infinity are refused too
    // (Mesos's executor would abort on them).
    if (!std::isfinite(seconds)) return Status::invalidArgument(std::string("Expecting '") + name + "' to be finite");
    if (seconds < 0.0) return Status::invalidArgument(std::string("Expecting '") + name + "' to be non-negative");
  }
  return Status::ok();
}

}  // namespace mezzo
