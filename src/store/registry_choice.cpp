#include "store/registry.hpp"

namespace mezzo::store {

Result<RegistryChoice> chooseRegistry(const std::string& registryFlag, bool withZooKeeper) {
  const std::string local = "sqlite";
  if (registryFlag.empty()) {
    return RegistryChoice{withZooKeeper ? "zookeeper" : local,
                          withZooKeeper ? "Keeping the registry in ZooKeeper (--zk given, --registry unset)" : ""};
  }
  if (registryFlag == "replicated_log") {
    const std::string backend = withZooKeeper ? "zookeeper" : local;
    return RegistryChoice{backend, "--registry=replicated_log (Mesos) means the " + backend + " registry here" +
                                       (withZooKeeper ? " (shared through --zk)" : " (in --work_dir)")};
  }
  if (registryFlag == "sqlite" && withZooKeeper) {
    return Status::invalidArgument(
        "--registry=sqlite cannot be used with --zk: each master would keep its own registry and a new leader "
        "would start without the agents, weights, quota and maintenance schedule of the last one; leave "
        "--registry unset (or use --registry=zookeeper) for HA masters");
  }
  if (registryFlag == "zookeeper" && !withZooKeeper) return Status::invalidArgument("--registry=zookeeper needs --zk");
  if (registryFlag == "sqlite" || registryFlag == "zookeeper" || registryFlag == "in_memory") {
    return RegistryChoice{registryFlag, ""};
  }
  return Status::invalidArgument("Unknown --registry=" + registryFlag +
                                 " (expected sqlite, zookeeper, replicated_log or in_memory)");
}

}  // namespace mezzo::store
