// Re-registration benchmark (issue 5 point 4; workload, anchor and medians in
// docs/benchmarks.md). One master on its SQLite registry and N emulated
// agents (bench/agent_emulator.hpp) in this process:
//   1. the agents register (new ids, no tasks; each admission is a registry write);
//   2. the master is killed with SIGKILL and restarted on the same work dir;
//   3. once it answers /health, every agent re-registers with its id and its
//      T tasks of one framework, at most C at a time;
// and measures from the restarted master's first answer until its
// /metrics/snapshot shows N active agents and N*T running tasks (also: until
// the last REGISTERED reached the emulator). Pings are every 10 minutes
// (--agent_ping_timeout), so none falls inside a run; the emulator answers them.
//
//   reregistration_bench [agents=10000] [tasks_per_agent=10] [concurrency=1000] [runs=1]
//   (MEZZO_BIN_DIR=build/bin)
#include <sys/resource.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>

#include <algorithm>
#include <future>
#include <iostream>
#include <thread>

#include "agent_emulator.hpp"
#include "harness/process.hpp"

using namespace mezzo;
using namespace mezzo::testing;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// The emulator holds one socket per agent: raise the soft limit if needed.
bool enoughOpenFiles(size_t agents) {
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  rlim_t needed = agents + 512;
  if (limit.rlim_cur < needed && limit.rlim_max >= needed) {
    limit.rlim_cur = needed;
    setrlimit(RLIMIT_NOFILE, &limit);
    getrlimit(RLIMIT_NOFILE, &limit);
  }
  if (limit.rlim_cur < needed) {
    std::cerr << "need " << needed << " open files, the limit is " << limit.rlim_cur << " (ulimit -n)\n";
    return false;
  }
  return true;
}

bool waitForHealth(const net::Endpoint& master, std::chrono::milliseconds timeout) {
  return waitUntil(
      [&] {
        net::ClientRequest request;
        request.method = boost::beast::http::verb::get;
        request.target = "/health";
        request.timeout = 1s;
        auto response = net::httpRequestSync(master, std::move(request));
        return response && response->status == 200;
      },
      timeout);
}

bool metricsShow(const net::Endpoint& master, size_t agents, size_t tasks) {
  auto metrics = getJson(master, "/metrics/snapshot");
  return metrics.is_object() && metrics.value("master/slaves_active", 0.0) >= static_cast<double>(agents) &&
         metrics.value("master/tasks_running", 0.0) >= static_cast<double>(tasks);
}

// Runs `round` on the emulator's thread and waits until it calls back.
bool runRound(boost::asio::io_context& io, bench::AgentEmulator& emulator, bench::AgentEmulator::Mode mode,
              std::chrono::seconds timeout) {
  auto done = std::make_shared<std::promise<void>>();
  auto future = done->get_future();
  boost::asio::post(io, [&emulator, mode, done] { emulator.registerAll(mode, [done] { done->set_value(); }); });
  return future.wait_for(timeout) == std::future_status::ready;
}

}  // namespace

int main(int argc, char** argv) {
  bench::EmulatorOptions options;
  if (argc > 1) options.agents = std::stoul(argv[1]);
  if (argc > 2) options.tasksPerAgent = std::stoul(argv[2]);
  if (argc > 3) options.concurrency = std::stoul(argv[3]);
  int runs = argc > 4 ? std::max(1, std::atoi(argv[4])) : 1;
  if (!enoughOpenFiles(options.agents)) return 1;
  const size_t tasks = options.agents * options.tasksPerAgent;

  auto dir = makeTempDir("mezzo-rereg");
  net::Endpoint master{"127.0.0.1", freePort()};
  std::vector<std::string> args = {"--ip=127.0.0.1", "--port=" + std::to_string(master.port),
                                   "--work_dir=" + (dir / "master").string(), "--registry=sqlite",
                                   "--agent_ping_timeout=10mins", "--agent_reregister_timeout=1hrs",
                                   "--log_level=warn"};
  auto process = std::make_unique<DaemonProcess>("mezzo-master", args, dir / "master.log");
  if (!waitForHealth(master, 30s)) {
    std::cerr << "the master did not start\n" << process->log();
    return 1;
  }

  boost::asio::io_context io(1);
  auto work = boost::asio::make_work_guard(io);
  std::thread loop([&io] { io.run(); });
  bench::AgentEmulator emulator(io, master, options);
  auto finish = [&](int code) {
    boost::asio::post(io, [&emulator] { emulator.closeAll(); });
    work.reset();
    io.stop();
    loop.join();
    process->stop();
    if (code == 0) std::filesystem::remove_all(dir);
    return code;
  };

  auto start = Clock::now();
  if (!runRound(io, emulator, bench::AgentEmulator::Mode::kNewAgents, 600s) || emulator.failed() > 0) {
    std::cerr << "registration failed (" << emulator.failed() << " agents gave up)\n";
    return finish(1);
  }
  std::cout << "registered " << options.agents << " new agents in " << seconds(Clock::now() - start) << " s\n";

  std::vector<double> results;
  for (int run = 0; run < runs; ++run) {
    process->kill9();
    boost::asio::post(io, [&emulator] { emulator.closeAll(); });
    process = std::make_unique<DaemonProcess>("mezzo-master", args, dir / ("master-" + std::to_string(run) + ".log"));
    if (!waitForHealth(master, 120s)) {
      std::cerr << "the restarted master did not answer\n" << process->log();
      return finish(1);
    }
    auto firstAnswer = Clock::now();
    if (!runRound(io, emulator, bench::AgentEmulator::Mode::kReregisterWithTasks, 600s) || emulator.failed() > 0) {
      std::cerr << "re-registration failed (" << emulator.failed() << " agents gave up)\n";
      return finish(1);
    }
    auto allRegistered = emulator.lastRegistered();
    if (!waitUntil([&] { return metricsShow(master, options.agents, tasks); }, 120s)) {
      std::cerr << "the master does not show " << options.agents << " agents and " << tasks << " tasks\n";
      return finish(1);
    }
    auto shown = Clock::now();
    results.push_back(seconds(shown - firstAnswer));
    std::cout << "run " << run << ": " << options.agents << " agents, " << tasks << " tasks re-registered in "
              << seconds(shown - firstAnswer) << " s (last REGISTERED after " << seconds(allRegistered - firstAnswer)
              << " s)" << std::endl;
  }
  std::sort(results.begin(), results.end());
  std::cout << "median: " << results[results.size() / 2] << " s over " << runs << " runs\n";
  return finish(0);
}
