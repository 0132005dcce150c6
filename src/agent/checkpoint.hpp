// Checkpointer: the agent's persistent state under `<work_dir>/meta`, so
// that a restarted agent (after `kill -9`, an upgrade, a crash) re-registers
// with the same agent id and re-attaches to the executors it left running
// (mesos-reference.md §4.3). Only frameworks with checkpoint=true are
// written, as in Mesos.
//
// Layout (our own, modelled on Mesos's):
//   meta/boot_id                        boot id of the host when written
//   meta/slaves/latest                  symlink to the current agent's dir
//   meta/slaves/<A>/slave.info          v1::AgentInfo (binary)
//   meta/slaves/<A>/frameworks/<F>/framework.info          v1::FrameworkInfo
//   .../frameworks/<F>/executors/<E>/executor.info          v1::ExecutorInfo
//   .../executors/<E>/executor.run      JSON: container id, sandbox, pid, kind
//   .../executors/<E>/terminated        present once the executor has ended
//   .../executors/<E>/tasks/<T>/task.info     v1::TaskInfo as launched
//   .../executors/<E>/tasks/<T>/task.updates  status update stream
//
// meta/ and every directory below it are 0700, checkpoint files 0600: they
// hold TaskInfos with their environments. (Sandboxes live elsewhere and stay
// reachable by the tasks' users.)
//
// Files are replaced atomically (temp file, fsync, rename, fsync of the
// directory). task.updates is append-only: records of [4-byte big-endian
// length][1-byte kind][payload], each appended with fsync; a torn record at
// the end (crash mid-append) is ignored on reading; a failed append (disk
// full) is truncated away before the error is returned. Kinds: 'U' = a
// v1::TaskStatus (binary), 'A' = the uuid of an acknowledged update.
//
// Errors are returned, never thrown; the writer fsyncs on the caller's
// thread (the agent's event loop: a few small files per task event).
//
// Thread-safety: stateless functions plus a value type; no shared state.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "mezzo/common/status.hpp"
#include "mezzo/v1/mesos.pb.h"

namespace mezzo::agent {

// Where an executor runs: what a restarted agent needs to find it again.
struct ExecutorRun {
  std::string containerId;
  std::string directory;  // sandbox
  pid_t pid = -1;         // session leader
  bool commandExecutor = false;
  bool supervised = false;  // a command task run by the task supervisor (pid = the task)
};

struct RecoveredTask {
  v1::TaskInfo info;
  std::vector<v1::TaskStatus> updates;  // in the order they were recorded
  std::vector<std::string> acknowledged;  // uuids, in order
};

struct RecoveredExecutor {
  v1::ExecutorInfo info;
  std::optional<ExecutorRun> run;
  bool terminated = false;
  std::vector<RecoveredTask> tasks;
};

struct RecoveredFramework {
  v1::FrameworkInfo info;
  std::vector<RecoveredExecutor> executors;
};

struct RecoveredState {
  std::string bootId;                  // empty if never written
  std::optional<v1::AgentInfo> agent;  // with its id
  std::vector<RecoveredFramework> frameworks;
};

// The host's current boot id (/proc/sys/kernel/random/boot_id), trimmed.
std::string currentBootId();

class Checkpointer {
 public:
  explicit Checkpointer(std::string workDir) : metaDir_(std::move(workDir) + "/meta") {}

  const std::string& metaDir() const { return metaDir_; }

  // Reads everything under meta/ for the agent `latest` points to. A missing
  // meta/ is an empty state; unreadable files are errors (a corrupt
  // checkpoint must not be silently ignored).
  Result<RecoveredState> recover() const;

  Status writeBootId(const std::string& bootId) const;
  // Writes slave.info and points `latest` at this agent.
  Status writeAgent(const v1::AgentInfo& info) const;
  Status writeFramework(const std::string& agent, const v1::FrameworkInfo& info) const;
  Status writeExecutor(const std::string& agent, const std::string& framework, const v1::ExecutorInfo& info,
                       const ExecutorRun& run) const;
  Status markExecutorTerminated(const std::string& agent, const std::string& framework,
                                const std::string& executor) const;
  Status writeTask(const std::string& agent, const std::string& framework, const std::string& executor,
                   const v1::TaskInfo& task) const;
  Status appendUpdate(const std::string& agent, const std::string& framework, const std::string& executor,
                      const v1::TaskStatus& status) const;
  Status appendAcknowledgement(const std::string& agent, const std::string& framework, const std::string& executor,
                               const std::string& task, const std::string& uuid) const;
  void removeTask(const std::string& agent, const std::string& framework, const std::string& executor,
                  const std::string& task) const;
  void removeExecutor(const std::string& agent, const std::string& framework, const std::string& executor) const;
  void removeFramework(const std::string& agent, const std::string& framework) const;
  // Forgets everything (--recover=cleanup after a reboot, or a new agent id).
  void removeAll() const;
  // Removes the checkpoints of agent ids other than `agent` (earlier
  // registrations from this work_dir, which recover() never reads again).
  // Returns how many were removed.
  size_t removeOtherAgents(const std::string& agent) const;

  std::string agentDir(const std::string& agent) const;
  std::string frameworkDir(const std::string& agent, const std::string& framework) const;
  std::string executorDir(const std::string& agent, const std::string& framework, const std::string& executor) const;
  std::string taskDir(const std::string& agent, const std::string& framework, const std::string& executor,
                      const std::string& task) const;

 private:
  std::string metaDir_;
};

// Low-level helpers (exposed for tests).
Status writeFileAtomically(const std::string& path, const std::string& contents);
Status appendRecord(const std::string& path, char kind, const std::string& payload);
// Complete records of `path`; a torn tail is dropped.
Result<std::vector<std::pair<char, std::string>>> readRecords(const std::string& path);

}  // namespace mezzo::agent
