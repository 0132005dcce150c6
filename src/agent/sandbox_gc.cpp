// Sandbox garbage collection in the agent (mesos-reference.md §4.3): the run
// directory of an ended executor stays for the framework to read (/files)
// and is removed after --gc_delay, sooner when the disk fills up
// (--gc_disk_headroom, checked every --disk_watch_interval). Emptied
// executor and framework directories go with their last run. After a
// restart, run directories without a live executor are scheduled as of their
// last modification. Removal runs on the event loop (sandboxes are small;
// a huge one delays the loop while it is deleted).
#include <sys/statvfs.h>

#include <spdlog/spdlog.h>

#include <filesystem>
#include <set>

#include "agent/agent_daemon.hpp"
#include "mezzo/common/durations.hpp"

namespace mezzo::agent {

namespace fs = std::filesystem;

namespace {

// Used fraction of the file system holding `path` (0 if unknown).
double diskUsage(const std::string& path) {
  struct statvfs info {};
  if (::statvfs(path.c_str(), &info) != 0 || info.f_blocks == 0) return 0;
  return static_cast<double>(info.f_blocks - info.f_bfree) / static_cast<double>(info.f_blocks);  // as Mesos
}

// Removes `dir` if it holds nothing but (possibly dangling) symlinks.
bool removeIfOnlyLinks(const fs::path& dir) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (!entry.is_symlink()) return false;
  }
  if (ec) return false;
  fs::remove_all(dir, ec);
  return !ec;
}

}  // namespace

void AgentDaemon::scheduleSandboxGc(const std::string& directory) {
  if (directory.empty()) return;
  sandboxGc_.schedule(directory, clock_.now());
  spdlog::debug("Sandbox {} will be removed in at most {}", directory, formatDuration(flags_.gcDelay));
  // Re-arm the timer if this one is due before it fires (not per sandbox otherwise).
  const auto due = std::chrono::steady_clock::now() +
                   std::chrono::duration_cast<std::chrono::steady_clock::duration>(flags_.gcDelay);
  if (due < sandboxGcTimer_.expiry()) collectSandboxGarbage();
}

void AgentDaemon::scheduleLeftoverSandboxes() {
  std::set<std::string> live;
  for (const auto& [frameworkId, framework] : frameworks_) {
    for (const auto& [executorId, executor] : framework->executors) live.insert(executor->directory);
  }
  // <work_dir>/slaves/<agent>/frameworks/<framework>/executors/<executor>/runs/<container>
  std::error_code ec;
  size_t found = 0;
  for (const auto& agentDir : fs::directory_iterator(fs::path(flags_.workDir) / "slaves", ec)) {
    std::error_code inner;
    for (const auto& frameworkDir : fs::directory_iterator(agentDir.path() / "frameworks", inner)) {
      for (const auto& executorDir : fs::directory_iterator(frameworkDir.path() / "executors", inner)) {
        for (const auto& run : fs::directory_iterator(executorDir.path() / "runs", inner)) {
          if (run.is_symlink() || !run.is_directory() || live.contains(run.path().string())) continue;
          auto modified = fs::last_write_time(run.path(), inner);
          if (inner) continue;
          auto since = std::chrono::time_point_cast<Duration>(std::chrono::file_clock::to_sys(modified));
          sandboxGc_.schedule(run.path().string(), since);
          ++found;
        }
      }
    }
  }
  if (found > 0) spdlog::info("Scheduled {} sandboxes of ended executors for garbage collection", found);
}

void AgentDaemon::collectSandboxGarbage() {
  const TimePoint now = clock_.now();
  const double usage = diskUsage(flags_.workDir);
  for (const std::string& directory : sandboxGc_.takeOlderThan(sandboxGc_.maxAge(usage, flags_.gcDiskHeadroom), now)) {
    removeSandbox(directory);
  }
  // Wake when the next one is due, or to look at the disk again.
  Duration wait = flags_.diskWatchInterval;
  if (auto due = sandboxGc_.nextDue()) wait = std::min(wait, std::max(Duration::zero(), *due - now));
  sandboxGcTimer_.expires_after(std::chrono::duration_cast<std::chrono::steady_clock::duration>(wait));
  sandboxGcTimer_.async_wait([this](boost::system::error_code ec) {
    if (!ec && !stopping_) collectSandboxGarbage();
  });
}

void AgentDaemon::removeSandbox(const std::string& directory) {
  std::error_code ec;
  fs::remove_all(directory, ec);
  if (ec) {
    spdlog::warn("Could not remove sandbox {}: {}", directory, ec.message());
    ++counters_.gcRemovalsFailed;
    return;
  }
  ++counters_.gcRemovalsSucceeded;
  spdlog::info("Removed sandbox {}", directory);
  // A supervised task's status file goes with its sandbox (named by the container id).
  fs::remove(supervisorStatusFile(fs::path(directory).filename().string()), ec);
  // runs/ -> executor dir -> executors/ -> framework dir, while emptied.
  fs::path runs = fs::path(directory).parent_path();
  if (!removeIfOnlyLinks(runs)) return;
  fs::path executor = runs.parent_path();
  if (!fs::is_empty(executor, ec) || ec) return;
  fs::remove(executor, ec);
  fs::path executors = executor.parent_path();
  if (!fs::is_empty(executors, ec) || ec) return;
  fs::remove_all(executors.parent_path(), ec);  // the framework's directory
}

}  // namespace mezzo::agent
