// `mezzo local`: a whole cluster on this machine in one command. Starts one
// mezzo-master (with --ha: a ZooKeeper and three masters) and N mezzo-agents
// (found next to the `mezzo` binary) on
// loopback, waits until the master lists every agent, prints the URLs, then
// either waits for Ctrl-C / SIGTERM or runs the sample workload
// (`--run-sample`) and exits 0 only if every sample task finished.
//
// Thread-safety: runLocal() runs on the calling thread.
#pragma once

#include <string>
#include <vector>

namespace mezzo::cli {

struct LocalOptions {
  int agents = 2;
  uint16_t port = 5050;        // 0: any free port
  std::string workDir;         // empty: a fresh temporary directory
  std::string agentResources;  // empty: kDefaultAgentResources
  bool runSample = false;
  // ZooKeeper (Debian's package, data under the work dir) and three masters
  // electing a leader, sharing the ZooKeeper registry.
  bool ha = false;
  std::string logLevel = "info";  // of the daemons (their logs go to files)
};

inline constexpr const char* kDefaultAgentResources = "cpus:2;mem:2048;disk:4096";

int runLocal(const LocalOptions& options);

// The --resources of agent `index`: the given text plus, unless it names
// ports, a port range of its own ([31000-31999] for agent 0, then
// [32000-32999], ...) so that tasks on different local agents never collide.
std::string agentResourcesFor(const std::string& resources, int index);

// The sample workload: `count` tasks "echo hello from task $i; sleep 1",
// spread over `agents` agents; prints transitions and outputs, returns 0 if
// every task reached TASK_FINISHED.
int runSample(const std::string& master, int agents, int count = 6);

}  // namespace mezzo::cli
