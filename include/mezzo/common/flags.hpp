// Mesos-style daemon flags shared by mezzo-master and mezzo-agent (CLI11):
//
// - Environment: a flag missing from the command line is read from
//   MEZZO_<NAME>, else MESOS_<NAME> (NAME: the flag's long name, or one of
//   its aliases, upper-cased), as Mesos reads MESOS_<NAME>. The command line
//   wins over both.
// - Compatibility flags: Mesos flags Mezzo has no use for are accepted with a
//   one-line warning, or refused (the daemon does not start) where ignoring
//   them would silently change what the operator asked for; values that
//   describe what Mezzo does anyway pass silently. Each daemon keeps its table
//   in one place (docs/flags.md lists them all).
// - Files: a value `file:///path` (command line or environment) is replaced
//   by the contents of that file without surrounding white space, as Mesos
//   does (e.g. --zk=file:///etc/mesos/zk).
// - Rendering: every flag's effective value, for /flags.
//
// Thread-safety: call from main() before threads start.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "mezzo/common/clock.hpp"
#include "mezzo/common/status.hpp"

namespace CLI {
class App;
class Option;
}  // namespace CLI

namespace mezzo::flags {

// The environment variable a flag with these long names (without dashes) is
// read from when the command line omits it: the first of MEZZO_<NAME> (each
// name in order), then MESOS_<NAME>, for which `isSet` holds.
std::optional<std::string> environmentVariableFor(const std::vector<std::string>& longNames,
                                                  const std::function<bool(const std::string&)>& isSet);

// Gives every long option of `app` registered so far its environment
// fallback (environmentVariableFor against the process environment) and
// reads `file://` values. Call after the last option is added and before
// parsing.
void addValueSources(CLI::App& app);

// `value` itself, or for "file:///path" that file's contents without
// surrounding white space; an unreadable file is an error naming it.
Result<std::string> resolveFileValue(const std::string& value);

// Each option's value (its default when not given), by long name without the
// dashes; --help and --version are left out.
std::map<std::string, std::string> renderFlags(const CLI::App& app);

// A Mesos duration flag ("5secs", "250ms"; durations.hpp) stored in
// `target`, whose value is the default shown; bad text fails parsing with a
// message naming the flag.
CLI::Option* addDurationFlag(CLI::App& app, const std::string& names, Duration& target, const std::string& help);
// The same for a duration without a default (unset until given).
CLI::Option* addDurationFlag(CLI::App& app, const std::string& names, std::optional<Duration>& target,
                             const std::string& help);

enum class FlagSupport {
  kWarn,    // accepted; a value outside `matching` gets a warning that it has no effect
  kRefuse,  // a value outside `matching` stops the daemon from starting
};

enum class FlagType {
  kValue,    // --name=value
  kBoolean,  // --name, --no-name, --name=true|false
};

// One Mesos flag Mezzo accepts without acting on it, or refuses.
struct CompatibilityFlag {
  std::string name;                   // Mesos's name, without dashes
  FlagSupport support = FlagSupport::kWarn;
  FlagType type = FlagType::kValue;
  std::vector<std::string> matching;  // values meaning what Mezzo does anyway: no warning, no refusal
  std::string note;                   // why, shown in the warning or the refusal
};

// The warnings to log for the compatibility flags given (`given`: name ->
// value), or the refusal naming the first refused flag. A boolean flag with a
// value other than true/false is refused.
Result<std::vector<std::string>> checkCompatibilityFlags(const std::vector<CompatibilityFlag>& table,
                                                         const std::map<std::string, std::string>& given);

// The Mesos flags both daemons take and Mezzo does not act on (logging,
// hostname lookup, advertised address, fault domains) or refuses (modules,
// hooks, ACLs, HTTP authenticators). Each daemon appends its own.
std::vector<CompatibilityFlag> daemonCompatibilityFlags();

// Registers `table` as options of `app` and, after parsing, reports which
// were given and with what value.
class CompatibilityOptions {
 public:
  CompatibilityOptions(CLI::App& app, std::vector<CompatibilityFlag> table);
  // Name -> value of the compatibility flags given (command line or environment).
  std::map<std::string, std::string> given() const;
  // checkCompatibilityFlags for what was given.
  Result<std::vector<std::string>> check() const { return checkCompatibilityFlags(table_, given()); }

 private:
  CLI::App& app_;
  std::vector<CompatibilityFlag> table_;
  std::map<std::string, std::string> values_;
};

// Logging flags every daemon takes: Mezzo's --log_level, and Mesos's
// --logging_level (INFO, WARNING, ERROR; wins when given), --log_dir (also
// write <log_dir>/<binary>.INFO) and --quiet (nothing on stderr).
struct LoggingFlags {
  std::string logLevel = "info";
  std::string loggingLevel;  // Mesos spelling; empty = not given
  std::string logDir;
  bool quiet = false;
};

void addLoggingFlags(CLI::App& app, LoggingFlags& flags);

// The spdlog level for `flags` (--logging_level mapped to info/warn/error),
// or a refusal naming the bad value.
Result<std::string> effectiveLogLevel(const LoggingFlags& flags);

// Sets up logging for `binary` (e.g. "mezzo-master", logger name
// `component`) as `flags` ask; fails when --log_dir cannot be written.
Status initDaemonLogging(const std::string& binary, const std::string& component, const LoggingFlags& flags);

// What every daemon's command line has besides its own flags: --version,
// the logging flags and the compatibility table. After parsing, start()
// sets up logging and logs the compatibility warnings, or returns the
// refusal (logged through a plain stderr logger by the caller).
class DaemonOptions {
 public:
  // `binary`: e.g. "mezzo-master" (names the --log_dir file and --version).
  DaemonOptions(CLI::App& app, std::string binary, std::vector<CompatibilityFlag> table);
  Status start(const std::string& component);

 private:
  std::string binary_;
  LoggingFlags logging_;
  CompatibilityOptions compatibility_;
};

}  // namespace mezzo::flags
