#include "agent/sandbox.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace mezzo::agent {
namespace {

namespace fs = std::filesystem;

class SandboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/mezzo-sandbox-test-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    root = pattern;
    workDir = root + "/work";
    sandbox = sandboxDirectory(workDir, id);
    fs::create_directories(sandbox);
    fs::create_directory_symlink("c1", runsDirectory(workDir, id) + "/latest");
    std::ofstream(sandbox + "/stdout") << "hello\n";
    std::ofstream(root + "/secret") << "s3cret";
  }
  void TearDown() override { fs::remove_all(root); }

  SandboxId id{"A-S0", "F-0000", "task-1", "c1"};
  std::string root;
  std::string workDir;
  std::string sandbox;
};

TEST_F(SandboxTest, LayoutFollowsMesos) {
  EXPECT_EQ(sandboxDirectory("/var/lib/agent/", id),
            "/var/lib/agent/slaves/A-S0/frameworks/F-0000/executors/task-1/runs/c1");
  EXPECT_EQ(runsDirectory("/var/lib/agent", id), "/var/lib/agent/slaves/A-S0/frameworks/F-0000/executors/task-1/runs");
}

TEST_F(SandboxTest, RealSandboxPathResolves) {
  auto resolved = resolveFilesPath(workDir, "A-S0", sandbox + "/stdout");
  ASSERT_TRUE(resolved) << resolved.error();
  EXPECT_EQ(*resolved, fs::canonical(sandbox + "/stdout").string());
}

TEST_F(SandboxTest, VirtualLatestPathResolves) {
  auto resolved = resolveFilesPath(workDir, "A-S0", "/frameworks/F-0000/executors/task-1/runs/latest/stdout");
  ASSERT_TRUE(resolved) << resolved.error();
  EXPECT_EQ(*resolved, fs::canonical(sandbox + "/stdout").string());
  auto byRun = resolveFilesPath(workDir, "A-S0", "/frameworks/F-0000/executors/task-1/runs/c1/stdout");
  ASSERT_TRUE(byRun) << byRun.error();
}

TEST_F(SandboxTest, TraversalIsRefused) {
  auto up = resolveFilesPath(workDir, "A-S0", "/frameworks/F-0000/executors/task-1/runs/latest/../../../../../../secret");
  ASSERT_FALSE(up);
  EXPECT_EQ(up.status().code(), StatusCode::kPermissionDenied);
  auto real = resolveFilesPath(workDir, "A-S0", sandbox + "/../../../../../../../../secret");
  ASSERT_FALSE(real);
  EXPECT_EQ(real.status().code(), StatusCode::kPermissionDenied);
}

TEST_F(SandboxTest, PathsOutsideSandboxesAreRefused) {
  for (const std::string& path : {root + "/secret", std::string("/etc/passwd"), workDir + "/slaves/A-S0",
                                  std::string("relative/stdout")}) {
    auto resolved = resolveFilesPath(workDir, "A-S0", path);
    ASSERT_FALSE(resolved) << path;
    EXPECT_EQ(resolved.status().code(), StatusCode::kPermissionDenied) << path;
  }
}

TEST_F(SandboxTest, SymlinkOutOfTheSandboxIsRefused) {
  fs::create_symlink(root + "/secret", sandbox + "/escape");
  auto resolved = resolveFilesPath(workDir, "A-S0", sandbox + "/escape");
  ASSERT_FALSE(resolved);
  EXPECT_EQ(resolved.status().code(), StatusCode::kPermissionDenied);
}

TEST_F(SandboxTest, MissingFileIsNotFound) {
  auto resolved = resolveFilesPath(workDir, "A-S0", "/frameworks/F-0000/executors/task-1/runs/latest/nope");
  ASSERT_FALSE(resolved);
  EXPECT_EQ(resolved.status().code(), StatusCode::kNotFound);
  auto unknown = resolveFilesPath(workDir, "A-S0", "/frameworks/F-9/executors/x/runs/latest/stdout");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.status().code(), StatusCode::kNotFound);
}

TEST_F(SandboxTest, MapFilesPathIsTextual) {
  auto mapped = mapFilesPath("/w", "A", "/frameworks/F/executors/E/runs/latest/stderr");
  ASSERT_TRUE(mapped);
  EXPECT_EQ(*mapped, "/w/slaves/A/frameworks/F/executors/E/runs/latest/stderr");
  EXPECT_FALSE(mapFilesPath("/w", "A", ""));
  EXPECT_FALSE(mapFilesPath("/w", "", "/frameworks/F/executors/E/runs/latest/stderr"));
  auto doubled = mapFilesPath("/w", "A", "//w//slaves/A/./frameworks/F/executors/E/runs/C/stdout");
  ASSERT_TRUE(doubled) << doubled.error();
  EXPECT_EQ(*doubled, "/w/slaves/A/frameworks/F/executors/E/runs/C/stdout");
}

}  // namespace
}  // namespace mezzo::agent
