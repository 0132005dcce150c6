// mezzo-default-executor: the executor of ExecutorInfo.type DEFAULT, which
// runs task groups. Started by the agent with the MESOS_* environment.
#include <boost/asio/io_context.hpp>
#include <spdlog/spdlog.h>

#include "executor/default_executor.hpp"
#include "mezzo/common/logging.hpp"

int main() {
  using namespace mezzo;
  const char* level = std::getenv("MEZZO_EXECUTOR_LOG_LEVEL");
  initLogging("default-executor", level != nullptr ? level : "info");
  auto env = executor::ExecutorEnvironment::fromProcessEnvironment();
  if (!env) {
    spdlog::critical("{}; mezzo-default-executor must be started by a Mezzo (or Mesos) agent", env.error());
    return 1;
  }
  boost::asio::io_context io(1);
  executor::DefaultExecutor defaultExecutor(io, *env);
  defaultExecutor.start();
  io.run();
  return defaultExecutor.exitCode();
}
