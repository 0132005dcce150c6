#include "agent/isolation.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <limits>

#include "agent/container_config.hpp"
#include "agent/launch_helper.hpp"
#include "agent/resource_statistics.hpp"

namespace mezzo::agent {
namespace {

TEST(IsolationFlagsTest, ParsesNamesAndCgroupsAll) {
  auto isolators = parseIsolation("cgroups/cpu, cgroups/mem,posix/rlimits");
  ASSERT_TRUE(isolators) << isolators.error();
  EXPECT_EQ(*isolators, (std::set<Isolator>{Isolator::kCgroupsCpu, Isolator::kCgroupsMem, Isolator::kPosixRlimits}));
  auto namespaces = parseIsolation("namespaces/pid,filesystem/linux");
  ASSERT_TRUE(namespaces) << namespaces.error();
  EXPECT_EQ(*namespaces, (std::set<Isolator>{Isolator::kNamespacesPid, Isolator::kFilesystemLinux}));
  auto all = parseIsolation("cgroups/all");
  ASSERT_TRUE(all);
  EXPECT_EQ(all->size(), 3u);
  EXPECT_TRUE(parseIsolation("")->empty());
  auto unknown = parseIsolation("cgroups/cpu,gpu/nvidia");
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().find("gpu/nvidia"), std::string::npos);
}

TEST(IsolationFlagsTest, LauncherDefaultsToLinuxWithCgroups) {
  EXPECT_EQ(*parseLauncher("", {Isolator::kCgroupsMem}), LauncherKind::kLinux);
  EXPECT_EQ(*parseLauncher("", {Isolator::kPosixCpu}), LauncherKind::kPosix);
  EXPECT_EQ(*parseLauncher("linux", {}), LauncherKind::kLinux);
  EXPECT_FALSE(parseLauncher("posix", {Isolator::kCgroupsCpu}));
  EXPECT_FALSE(parseLauncher("docker", {}));
  // Namespaces are the linux launcher's too.
  EXPECT_EQ(*parseLauncher("", {Isolator::kNamespacesPid}), LauncherKind::kLinux);
  EXPECT_EQ(*parseLauncher("", {Isolator::kFilesystemLinux}), LauncherKind::kLinux);
  EXPECT_FALSE(parseLauncher("posix", {Isolator::kNamespacesPid}));
}

TEST(ContainerLimitsTest, CommandExecutorAddsItsMemoryButNoCpu) {
  auto resources = Resources::parse("cpus:0.5;mem:64;disk:10");
  ASSERT_TRUE(resources);
  ContainerLimits custom = containerLimits(*resources, false);
  EXPECT_DOUBLE_EQ(custom.cpus, 0.5);
  EXPECT_EQ(custom.memoryBytes, 64ull << 20);
  ContainerLimits command = containerLimits(*resources, true);
  EXPECT_DOUBLE_EQ(command.cpus, 0.5);
  EXPECT_EQ(command.memoryBytes, (64ull << 20) + kCommandExecutorMemoryBytes);
  EXPECT_EQ(containerLimits(Resources(), true).memoryBytes, 0u);  // no mem: no limit
}

TEST(IsolationTest, BurstLimitsSetTheQuotaAndTheMemoryLimit) {
  auto resources = Resources::parse("cpus:0.5;mem:64");
  ASSERT_TRUE(resources);
  ContainerLimits burst = containerLimits(*resources, false, {.cpus = 2.0, .mem = 128.0});
  EXPECT_DOUBLE_EQ(burst.cpus, 0.5);  // the weight stays the request
  EXPECT_DOUBLE_EQ(burst.cpuQuota, 2.0);
  EXPECT_EQ(burst.memoryBytes, 128ull << 20);
  const double infinity = std::numeric_limits<double>::infinity();
  ContainerLimits unlimited = containerLimits(*resources, true, {.cpus = infinity, .mem = infinity});
  EXPECT_TRUE(std::isinf(unlimited.cpuQuota));
  EXPECT_EQ(unlimited.memoryBytes, 0u);
  EXPECT_DOUBLE_EQ(containerLimits(*resources, false, {.cpus = 0.25, .mem = std::nullopt}).cpuQuota, 0);  // below the request: no change
}

TEST(ContainerConfigTest, RlimitsKeepMesosNamesAndRules) {
  v1::RLimitInfo info;
  auto* nofile = info.add_rlimits();
  nofile->set_type(v1::RLimitInfo::RLimit::RLMT_NOFILE);
  nofile->set_soft(10);
  nofile->set_hard(20);
  info.add_rlimits()->set_type(v1::RLimitInfo::RLimit::RLMT_SIGPENDING);
  auto rlimits = rlimitsOf(info);
  ASSERT_TRUE(rlimits) << rlimits.error();
  EXPECT_EQ(*rlimits, (std::vector<launch::Rlimit>{{"nofile", 10, 20}, {"sigpending", RLIM_INFINITY, RLIM_INFINITY}}));
  nofile->set_soft(30);
  EXPECT_NE(rlimitsOf(info).error().find("soft limit above its hard limit"), std::string::npos);
  nofile->clear_hard();
  EXPECT_NE(rlimitsOf(info).error().find("both"), std::string::npos);
  v1::RLimitInfo unknown;
  unknown.add_rlimits();
  EXPECT_FALSE(rlimitsOf(unknown));
}

TEST(ContainerConfigTest, VolumesBecomeBindMountsOrAClearRefusal) {
  v1::ContainerInfo info;
  info.set_type(v1::ContainerInfo::MESOS);
  v1::Volume* host = info.add_volumes();
  host->set_container_path("/data");
  host->set_host_path("/srv/data");
  host->set_mode(v1::Volume::RO);
  v1::Volume* sandbox = info.add_volumes();
  sandbox->set_container_path("shared");
  sandbox->set_mode(v1::Volume::RW);
  sandbox->mutable_source()->set_type(v1::Volume::Source::SANDBOX_PATH);
  sandbox->mutable_source()->mutable_sandbox_path()->set_type(v1::Volume::Source::SandboxPath::PARENT);
  sandbox->mutable_source()->mutable_sandbox_path()->set_path("out");
  auto settings = containerSettings(info, {"/sb/task", "/sb"}, true);
  ASSERT_TRUE(settings) << settings.error();
  EXPECT_EQ(settings->mounts, (std::vector<launch::BindMount>{{"/srv/data", "/data", true},
                                                              {"/sb/out", "/sb/task/shared", false}}));
  EXPECT_NE(containerSettings(info, {"/sb/task", ""}, true).error().find("no parent"), std::string::npos);
  EXPECT_NE(containerSettings(info, {"/sb/task", "/sb"}, false).error().find("filesystem/linux"), std::string::npos);
  sandbox->mutable_source()->mutable_sandbox_path()->set_path("../escape");
  EXPECT_NE(containerSettings(info, {"/sb/task", "/sb"}, true).error().find("inside the sandbox"), std::string::npos);
  sandbox->mutable_source()->set_type(v1::Volume::Source::SECRET);
  EXPECT_NE(containerSettings(info, {"/sb/task", "/sb"}, true).error().find("SECRET"), std::string::npos);
  host->set_host_path("relative");
  EXPECT_NE(containerSettings(info, {"/sb/task", "/sb"}, true).error().find("must be absolute"), std::string::npos);
  info.set_type(v1::ContainerInfo::DOCKER);
  EXPECT_NE(containerSettings(info, {"/sb/task", "/sb"}, true).error().find("DOCKER"), std::string::npos);
}

TEST(LaunchHelperTest, ArgumentsRoundTrip) {
  launch::Request request;
  request.cgroupProcsFiles = {"/sys/fs/cgroup/memory/mezzo/c1/cgroup.procs"};
  request.rlimits = {{"data", 1234, 1234}, {"nofile", 64, RLIM_INFINITY}};
  request.mountNamespace = true;
  request.pidNamespace = true;
  request.mounts = {{"/srv/a:b", "/data", true}, {"/tmp/s/x", "/tmp/s/y", false}};
  request.user = launch::UserIds{65534, 65534, {65534, 100}};
  request.executable = "/bin/sh";
  request.argv = {"sh", "-c", "echo --cgroup=x"};
  std::vector<std::string> arguments = launch::toArguments(request);
  arguments.insert(arguments.begin(), "mezzo-launch");
  std::vector<char*> argv;
  for (std::string& argument : arguments) argv.push_back(argument.data());
  std::string error;
  auto parsed = launch::parseArguments(static_cast<int>(argv.size()), argv.data(), &error);
  ASSERT_TRUE(parsed) << error;
  EXPECT_EQ(parsed->cgroupProcsFiles, request.cgroupProcsFiles);
  EXPECT_EQ(parsed->rlimits, request.rlimits);
  EXPECT_TRUE(parsed->mountNamespace);
  EXPECT_TRUE(parsed->pidNamespace);
  EXPECT_EQ(parsed->mounts, request.mounts);
  EXPECT_EQ(parsed->user, request.user);
  EXPECT_EQ(parsed->executable, "/bin/sh");
  EXPECT_EQ(parsed->argv, request.argv);
}

TEST(LaunchHelperTest, RejectsBadArguments) {
  std::string error;
  for (std::vector<std::string> arguments : std::vector<std::vector<std::string>>{
           {"mezzo-launch", "--rlimit=bogus:1:1", "--", "true"},
           {"mezzo-launch", "--rlimit=nofile:1", "--", "true"},
           {"mezzo-launch", "--rlimit=nofile:x:1", "--", "true"},
           {"mezzo-launch", "--bind=rx:1:/a/b", "--", "true"},
           {"mezzo-launch", "--bind=ro:9:/a/b", "--", "true"},
           {"mezzo-launch", "--user=1", "--", "true"},
           {"mezzo-launch", "--user=1:2:x", "--", "true"},
           {"mezzo-launch", "--frobnicate", "--", "true"},
           {"mezzo-launch", "--cgroup=/x"},
           {"mezzo-launch", "--"}}) {
    std::vector<char*> argv;
    for (std::string& argument : arguments) argv.push_back(argument.data());
    EXPECT_FALSE(launch::parseArguments(static_cast<int>(argv.size()), argv.data(), &error)) << arguments[1];
    EXPECT_FALSE(error.empty());
  }
}

TEST(ResourceStatisticsTest, MesosFieldNamesAndOwnProcessSample) {
  ResourceStatistics stats = sampleProcesses({getpid()});
  EXPECT_EQ(stats.processes, 1u);
  EXPECT_GT(*stats.memRssBytes, 0u);
  stats.cpusLimit = 0.5;
  stats.memLimitBytes = 1024;
  nlohmann::json json = stats.toJson();
  EXPECT_EQ(json["cpus_limit"], 0.5);
  EXPECT_EQ(json["mem_limit_bytes"], 1024);
  EXPECT_TRUE(json.contains("cpus_user_time_secs"));
  EXPECT_TRUE(json.contains("mem_rss_bytes"));
  EXPECT_FALSE(json.contains("cpus_nr_throttled"));  // unknown without cgroups
}

}  // namespace
}  // namespace mezzo::agent
