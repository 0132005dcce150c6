// mezzo-executor: the built-in command executor. Started by the agent with
// the MESOS_* environment; speaks the v1 executor API back to the agent.
#include <boost/asio/io_context.hpp>
#include <spdlog/spdlog.h>

#include "executor/command_executor.hpp"
#include "mezzo/common/logging.hpp"

int main() {
  using namespace mezzo;
  const char* level = std::getenv("MEZZO_EXECUTOR_LOG_LEVEL");
  initLogging("executor", level != nullptr ? level : "info");
  auto env = executor::ExecutorEnvironment::fromProcessEnvironment();
  if (!env) {
    spdlog::critical("{}; mezzo-executor must be started by a Mezzo (or Mesos) agent", env.error());
    return 1;
  }
  boost::asio::io_context io(1);
  executor::CommandExecutor commandExecutor(io, *env);
  commandExecutor.start();
  io.run();
  return commandExecutor.exitCode();
}
