// Sandbox layout and the path rules of the agent's /files endpoints.
//
// Sandboxes live at
//   <work_dir>/slaves/<agent>/frameworks/<framework>/executors/<executor>/runs/<container>
// with a `latest` symlink in runs/ naming the newest run (mesos-reference.md
// §4.3). /files/read and /files/download accept either such a real path or
// the virtual form `/frameworks/<F>/executors/<E>/runs/latest/<file>` (any
// run id instead of `latest` too). Nothing else is served: a `..` component
// is refused, and after symlinks are resolved the file must still lie inside
// a run directory of this work_dir (a task cannot publish /etc/shadow by
// linking to it from its sandbox).
//
// Errors: kPermissionDenied (HTTP 403) for traversal or a path outside the
// sandboxes, kNotFound (404) for a path that does not exist.
//
// Thread-safety: stateless functions.
#pragma once

#include <string>
#include <string_view>

#include "mezzo/common/status.hpp"

namespace mezzo::agent {

struct SandboxId {
  std::string agent;
  std::string framework;
  std::string executor;
  std::string container;
};

// <work_dir>/slaves/<agent>/frameworks/<framework>/executors/<executor>/runs
std::string runsDirectory(const std::string& workDir, const SandboxId& id);
// runsDirectory(...)/<container>
std::string sandboxDirectory(const std::string& workDir, const SandboxId& id);

// Maps a requested /files path to an absolute path below `workDir`, purely
// textually (no file system access). `agentId` resolves virtual paths.
Result<std::string> mapFilesPath(const std::string& workDir, const std::string& agentId, std::string_view requested);

// Resolves symlinks of an existing `path` and checks it lies inside a run
// directory of `workDir`. Returns the canonical path.
Result<std::string> confineToSandboxes(const std::string& workDir, const std::string& path);

// mapFilesPath followed by confineToSandboxes.
Result<std::string> resolveFilesPath(const std::string& workDir, const std::string& agentId,
                                     std::string_view requested);

}  // namespace mezzo::agent
