#include "mezzo/common/flags.hpp"

#include <CLI/CLI.hpp>
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <set>

namespace mezzo::flags {
namespace {

using namespace std::chrono_literals;

TEST(EnvironmentFlags, MezzoWinsOverMesosAndAliasesCount) {
  std::set<std::string> set = {"MESOS_PORT", "MEZZO_PORT", "MESOS_SLAVE_PING_TIMEOUT"};
  auto isSet = [&](const std::string& name) { return set.contains(name); };
  EXPECT_EQ(environmentVariableFor({"port"}, isSet), "MEZZO_PORT");
  set.erase("MEZZO_PORT");
  EXPECT_EQ(environmentVariableFor({"port"}, isSet), "MESOS_PORT");
  EXPECT_EQ(environmentVariableFor({"agent_ping_timeout", "slave_ping_timeout"}, isSet), "MESOS_SLAVE_PING_TIMEOUT");
  EXPECT_EQ(environmentVariableFor({"work_dir"}, isSet), std::nullopt);
}

// Parses `args` (after the program name) into an app with a --port and a
// --gc_delay duration flag, with the process environment as fallback.
struct ParsedFlags {
  int port = 5050;
  Duration gcDelay = std::chrono::hours(1);
  std::string error;
  std::map<std::string, std::string> rendered;
};

ParsedFlags parse(std::vector<std::string> args) {
  ParsedFlags parsed;
  CLI::App app;
  app.add_option("--port", parsed.port)->capture_default_str();
  addDurationFlag(app, "--gc_delay", parsed.gcDelay, "");
  addValueSources(app);
  args.insert(args.begin(), "program");
  std::vector<const char*> argv;
  for (const std::string& arg : args) argv.push_back(arg.c_str());
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
    parsed.rendered = renderFlags(app);
  } catch (const CLI::ParseError& error) {
    parsed.error = error.what();
  }
  return parsed;
}

TEST(EnvironmentFlags, CommandLineWinsOverEnvironment) {
  ::setenv("MESOS_PORT", "6000", 1);
  ::setenv("MESOS_GC_DELAY", "2days", 1);
  EXPECT_EQ(parse({}).port, 6000);
  EXPECT_EQ(parse({}).gcDelay, std::chrono::hours(48));
  EXPECT_EQ(parse({}).rendered["gc_delay"], "2days");
  EXPECT_EQ(parse({"--port=7000"}).port, 7000);
  ::setenv("MEZZO_PORT", "6001", 1);
  EXPECT_EQ(parse({}).port, 6001);
  ::unsetenv("MEZZO_PORT");
  ::unsetenv("MESOS_PORT");
  ::unsetenv("MESOS_GC_DELAY");
  EXPECT_EQ(parse({}).port, 5050);
  EXPECT_EQ(parse({}).rendered["port"], "5050");
  EXPECT_EQ(parse({}).rendered["gc_delay"], "1hrs");
}

TEST(FileValues, FileUrlsAreReplacedByTheFilesContents) {
  char path[] = "/tmp/mezzo-flag-XXXXXX";
  int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::write(fd, "6123\n", 5), 5);
  ::close(fd);
  EXPECT_EQ(parse({std::string("--port=file://") + path}).port, 6123);
  ::setenv("MESOS_PORT", ("file://" + std::string(path)).c_str(), 1);
  EXPECT_EQ(parse({}).port, 6123);
  ::unsetenv("MESOS_PORT");
  ::unlink(path);
  ParsedFlags missing = parse({std::string("--port=file://") + path});
  EXPECT_NE(missing.error.find(path), std::string::npos) << missing.error;
  EXPECT_EQ(*resolveFileValue("plain"), "plain");
}

TEST(DurationFlags, BadDurationNamesTheFlag) {
  ParsedFlags parsed = parse({"--gc_delay=soon"});
  EXPECT_NE(parsed.error.find("--gc_delay"), std::string::npos) << parsed.error;
  EXPECT_EQ(parse({"--gc_delay=250ms"}).gcDelay, 250ms);
}

const std::vector<CompatibilityFlag> kTable = {
    {"quorum", FlagSupport::kWarn, FlagType::kValue, {}, "no replicated log"},
    {"hostname_lookup", FlagSupport::kWarn, FlagType::kBoolean, {"false"}, "no lookup"},
    {"containerizers", FlagSupport::kRefuse, FlagType::kValue, {"mesos"}, "no Docker"},
    {"authenticate_agents", FlagSupport::kRefuse, FlagType::kBoolean, {"false"}, "no security"},
};

TEST(CompatibilityFlags, MatchingValuesPassSilentlyOthersWarn) {
  auto warnings = checkCompatibilityFlags(
      kTable, {{"quorum", "2"}, {"hostname_lookup", "false"}, {"containerizers", "mesos"},
               {"authenticate_agents", "false"}});
  ASSERT_TRUE(warnings) << warnings.error();
  ASSERT_EQ(warnings->size(), 1u);
  EXPECT_EQ((*warnings)[0], "Ignoring --quorum=2: no replicated log");
  warnings = checkCompatibilityFlags(kTable, {{"hostname_lookup", "true"}});
  ASSERT_TRUE(warnings);
  EXPECT_EQ(warnings->size(), 1u);
}

TEST(CompatibilityFlags, RefusalNamesTheFlag) {
  auto refused = checkCompatibilityFlags(kTable, {{"containerizers", "docker,mesos"}});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error(), "--containerizers=docker,mesos is not supported by Mezzo: no Docker");
  refused = checkCompatibilityFlags(kTable, {{"authenticate_agents", "true"}});
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().find("--authenticate_agents=true"), std::string::npos);
  refused = checkCompatibilityFlags(kTable, {{"hostname_lookup", "maybe"}});
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().find("expected true or false"), std::string::npos);
}

TEST(CompatibilityFlags, BooleanFlagsTakeMesosSpellings) {
  for (auto [arg, expected] : std::vector<std::pair<std::string, std::string>>{
           {"--hostname_lookup", "true"}, {"--no-hostname_lookup", "false"}, {"--hostname_lookup=false", "false"}}) {
    CLI::App app;
    CompatibilityOptions options(app, kTable);
    std::vector<const char*> argv = {"program", arg.c_str()};
    app.parse(static_cast<int>(argv.size()), argv.data());
    EXPECT_EQ(options.given(), (std::map<std::string, std::string>{{"hostname_lookup", expected}})) << arg;
  }
}

TEST(LoggingFlags, MesosLevelsMapAndBadOnesAreRefused) {
  LoggingFlags logging;
  EXPECT_EQ(*effectiveLogLevel(logging), "info");
  logging.loggingLevel = "WARNING";
  EXPECT_EQ(*effectiveLogLevel(logging), "warn");
  logging.loggingLevel = "ERROR";
  EXPECT_EQ(*effectiveLogLevel(logging), "err");
  logging.loggingLevel = "LOUD";
  EXPECT_FALSE(effectiveLogLevel(logging));
  logging.loggingLevel.clear();
  logging.logLevel = "chatty";
  EXPECT_FALSE(effectiveLogLevel(logging));
}

}  // namespace
}  // namespace mezzo::flags
