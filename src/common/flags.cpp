#include "mezzo/common/flags.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <iterator>

#include "mezzo/common/durations.hpp"
#include "mezzo/common/logging.hpp"
#include "mezzo/common/strings.hpp"
#include "mezzo/version.hpp"

namespace mezzo::flags {

namespace {

std::string upperCase(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::toupper(c); });
  return text;
}

bool isListed(const std::vector<std::string>& values, const std::string& value) {
  return std::find(values.begin(), values.end(), value) != values.end();
}

std::string flagText(const std::string& name, const std::string& value) { return "--" + name + "=" + value; }

// A Mesos --logging_level as spdlog's level name.
std::optional<std::string> spdlogLevel(std::string mesosLevel) {
  mesosLevel = upperCase(std::move(mesosLevel));
  if (mesosLevel == "INFO") return "info";
  if (mesosLevel == "WARNING") return "warn";
  if (mesosLevel == "ERROR") return "err";
  return std::nullopt;
}

// A string option parsed as a Mesos duration into `target` (a Duration or an
// optional one); bad text fails parsing with the flag's name.
template <typename Target>
CLI::Option* addDurationOption(CLI::App& app, const std::string& names, Target& target, const std::string& help) {
  const std::string flag = names.substr(0, names.find(','));
  auto store = [&target, flag](const std::string& text) {
    auto duration = parseDuration(text);
    if (!duration) throw CLI::ValidationError(flag, duration.error());
    target = *duration;
  };
  return app.add_option_function<std::string>(names, store, help);
}

}  // namespace

std::optional<std::string> environmentVariableFor(const std::vector<std::string>& longNames,
                                                  const std::function<bool(const std::string&)>& isSet) {
  for (const char* prefix : {"MEZZO_", "MESOS_"}) {
    for (const std::string& name : longNames) {
      std::string variable = prefix + upperCase(name);
      if (isSet(variable)) return variable;
    }
  }
  return std::nullopt;
}

Result<std::string> resolveFileValue(const std::string& value) {
  constexpr std::string_view kScheme = "file://";
  if (!value.starts_with(kScheme)) return value;
  const std::string path = value.substr(kScheme.size());
  std::ifstream in(path);
  if (!in) return Status::invalidArgument("Cannot read '" + path + "'");
  std::string contents((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return std::string(trim(contents));
}

void addValueSources(CLI::App& app) {
  auto isSet = [](const std::string& variable) { return std::getenv(variable.c_str()) != nullptr; };
  auto readFile = [](std::string& value) -> std::string {
    auto resolved = resolveFileValue(value);
    if (!resolved) return resolved.error();
    value = *resolved;
    return {};
  };
  for (CLI::Option* option : app.get_options()) {
    if (option->get_lnames().empty()) continue;
    if (auto variable = environmentVariableFor(option->get_lnames(), isSet)) option->envname(*variable);
    if (option->get_expected_min() > 0) option->transform(CLI::Validator(readFile, "", "file"));
  }
}

std::map<std::string, std::string> renderFlags(const CLI::App& app) {
  std::map<std::string, std::string> rendered;
  for (const CLI::Option* option : app.get_options()) {
    const std::string& name = option->get_name();
    if (name == "--help" || name == "--version" || !name.starts_with("--")) continue;
    std::string value = option->count() > 0 ? option->as<std::string>() : option->get_default_str();
    rendered[name.substr(2)] = value;
  }
  return rendered;
}

CLI::Option* addDurationFlag(CLI::App& app, const std::string& names, Duration& target, const std::string& help) {
  return addDurationOption(app, names, target, help)->default_str(formatDuration(target));
}

CLI::Option* addDurationFlag(CLI::App& app, const std::string& names, std::optional<Duration>& target,
                             const std::string& help) {
  return addDurationOption(app, names, target, help);
}

Result<std::vector<std::string>> checkCompatibilityFlags(const std::vector<CompatibilityFlag>& table,
                                                         const std::map<std::string, std::string>& given) {
  std::vector<std::string> warnings;
  for (const CompatibilityFlag& flag : table) {
    auto it = given.find(flag.name);
    if (it == given.end()) continue;
    const std::string& value = it->second;
    if (flag.type == FlagType::kBoolean && value != "true" && value != "false") {
      return Status::invalidArgument("Invalid " + flagText(flag.name, value) + ": expected true or false");
    }
    if (isListed(flag.matching, value)) continue;
    if (flag.support == FlagSupport::kRefuse) {
      return Status::invalidArgument(flagText(flag.name, value) + " is not supported by Mezzo: " + flag.note);
    }
    warnings.push_back("Ignoring " + flagText(flag.name, value) + ": " + flag.note);
  }
  return warnings;
}

std::vector<CompatibilityFlag> daemonCompatibilityFlags() {
  const std::string noModules = "modules are not supported";
  const std::string noSecurity = "authentication and authorization are not implemented yet";
  return {
      {"hostname_lookup", FlagSupport::kWarn, FlagType::kBoolean, {"false"},
       "Mezzo advertises --hostname, else --ip, without a lookup"},
      {"advertise_ip", FlagSupport::kWarn, FlagType::kValue, {}, "Mezzo advertises --hostname/--ip"},
      {"advertise_port", FlagSupport::kWarn, FlagType::kValue, {}, "Mezzo advertises the port it listens on"},
      {"logbufsecs", FlagSupport::kWarn, FlagType::kValue, {"0"}, "log lines are written as they come"},
      {"initialize_driver_logging", FlagSupport::kWarn, FlagType::kBoolean, {"true"}, "there are no drivers"},
      {"external_log_file", FlagSupport::kWarn, FlagType::kValue, {}, "use --log_dir"},
      {"domain", FlagSupport::kWarn, FlagType::kValue, {}, "fault domains are not implemented"},
      {"modules", FlagSupport::kRefuse, FlagType::kValue, {}, noModules},
      {"modules_dir", FlagSupport::kRefuse, FlagType::kValue, {}, noModules},
      {"hooks", FlagSupport::kRefuse, FlagType::kValue, {}, noModules},
      {"acls", FlagSupport::kRefuse, FlagType::kValue, {}, noSecurity},
      {"http_authenticators", FlagSupport::kRefuse, FlagType::kValue, {}, noSecurity},
  };
}

CompatibilityOptions::CompatibilityOptions(CLI::App& app, std::vector<CompatibilityFlag> table)
    : app_(app), table_(std::move(table)) {
  for (const CompatibilityFlag& flag : table_) {
    std::string& value = values_[flag.name];
    const std::string help = "Mesos flag: " + flag.note;
    if (flag.type == FlagType::kBoolean) {
      app.add_flag("--" + flag.name + "{true},--no-" + flag.name + "{false}", value, help);
    } else {
      app.add_option("--" + flag.name, value, help);
    }
  }
}

std::map<std::string, std::string> CompatibilityOptions::given() const {
  std::map<std::string, std::string> given;
  for (const CompatibilityFlag& flag : table_) {
    if (app_.get_option("--" + flag.name)->count() > 0) given[flag.name] = values_.at(flag.name);
  }
  return given;
}

void addLoggingFlags(CLI::App& app, LoggingFlags& flags) {
  app.add_option("--log_level", flags.logLevel, "trace, debug, info, warn, error")->capture_default_str();
  app.add_option("--logging_level", flags.loggingLevel,
                 "Mesos's level: INFO, WARNING or ERROR (when given, wins over --log_level)");
  app.add_option("--log_dir", flags.logDir, "Also write the log to <log_dir>/<binary>.INFO");
  app.add_flag("--quiet,!--no-quiet", flags.quiet, "Log nothing to stderr");
}

Result<std::string> effectiveLogLevel(const LoggingFlags& flags) {
  if (flags.loggingLevel.empty()) {
    if (spdlog::level::from_str(flags.logLevel) == spdlog::level::off && flags.logLevel != "off") {
      return Status::invalidArgument("Invalid --log_level=" + flags.logLevel +
                                     ": expected trace, debug, info, warn, error or off");
    }
    return flags.logLevel;
  }
  auto level = spdlogLevel(flags.loggingLevel);
  if (!level) {
    return Status::invalidArgument("Invalid --logging_level=" + flags.loggingLevel + ": expected INFO, WARNING or ERROR");
  }
  return *level;
}

Status initDaemonLogging(const std::string& binary, const std::string& component, const LoggingFlags& flags) {
  auto level = effectiveLogLevel(flags);
  if (!level) {
    initLogging(component);
    return level.status();
  }
  const std::string logFile = flags.logDir.empty() ? std::string() : flags.logDir + "/" + binary + ".INFO";
  Status status = initLogging(component, *level, logFile, flags.quiet ? StderrLogging::kOff : StderrLogging::kOn);
  if (!status) initLogging(component);
  return status;
}

DaemonOptions::DaemonOptions(CLI::App& app, std::string binary, std::vector<CompatibilityFlag> table)
    : binary_(std::move(binary)), compatibility_(app, std::move(table)) {
  app.set_version_flag("--version", binary_ + " " + kMezzoVersion + " (Mesos " + kMezzoMesosVersion + ")");
  addLoggingFlags(app, logging_);
}

Status DaemonOptions::start(const std::string& component) {
  Status logged = initDaemonLogging(binary_, component, logging_);
  if (!logged) return logged;
  auto warnings = compatibility_.check();
  if (!warnings) return warnings.status();
  for (const std::string& warning : *warnings) spdlog::warn("{}", warning);
  return Status::ok();
}

}  // namespace mezzo::flags
