// The process tree below `mezzo local`, so that a local cluster going away
// leaves nothing running: not its daemons, nor the agents' task supervisors
// (which start sessions of their own to outlive an agent restart), nor their
// tasks.
//
// `mezzo local` runs the cluster in a child of the process the user started
// (runInGuardedChild). That child is a subreaper, so every process started
// below it stays below it whatever sessions it starts, and it is signalled
// when its parent dies, even by SIGKILL, upon which it kills its whole tree
// at once. The parent forwards SIGINT, SIGTERM and SIGHUP to it and exits
// with its exit code.
//
// Thread-safety: runInGuardedChild() must be called while the process has a
// single thread (it forks). The other functions are safe from any thread.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <set>
#include <vector>

namespace mezzo::cli {

using ParentMap = std::map<pid_t, pid_t>;  // pid -> parent pid

// Every process below `root` in `parents`, each after its parent.
std::vector<pid_t> descendantsOf(pid_t root, const ParentMap& parents);

// pid -> parent pid of every process visible in /proc now.
ParentMap readProcessParents();

// Ends every process below this one: SIGTERM, up to `grace` for them to exit,
// then SIGKILL until none is left (bounded by a few seconds); reaps them.
void killDescendants(std::chrono::milliseconds grace);

// Reaps the ended children of this process that are not in `owned`: the
// orphans a subreaper adopts.
void reapAdoptedChildren(const std::set<pid_t>& owned);

// Runs `body` in a forked child guarded as described above and returns its
// exit code (128 + signal if it was killed). The child exits with body()'s
// result and never returns. Without fork(), runs body() here.
int runInGuardedChild(const std::function<int()>& body);

}  // namespace mezzo::cli
