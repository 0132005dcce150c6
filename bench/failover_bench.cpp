// Failover benchmark (issue 5; workload, anchors and latest medians in
// docs/benchmarks.md). A real ZooKeeper, three masters on the ZooKeeper
// registry with a tuned session timeout, one agent following the leader
// through ZooKeeper. Each run kills the leader with SIGKILL and measures
//   (a) until a standby answers a scheduler SUBSCRIBE with 200, and
//   (b) until that framework receives its first offer (the agent found the
//       new leader and re-registered).
// The killed master is restarted as a standby before the next run.
//
//   failover_bench [runs=5] [session_timeout=1secs]   (MEZZO_BIN_DIR=build/bin)
#include <algorithm>
#include <csignal>
#include <cstdio>
#include <iostream>

#include "harness/ha_masters.hpp"
#include "harness/scheduler_session.hpp"

using namespace mezzo;
using namespace mezzo::testing;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

double ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  size_t n = values.size();
  return n == 0 ? 0 : (n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2);
}

}  // namespace

int main(int argc, char** argv) {
  int runs = argc > 1 ? std::max(1, std::atoi(argv[1])) : 5;
  std::string sessionTimeout = argc > 2 ? argv[2] : "1secs";
  HaMasters masters({"--registry=zookeeper"}, 3, sessionTimeout);
  if (!masters.available()) {
    std::cerr << "ZooKeeper could not be started (Debian package `zookeeper` needed)\n";
    return 1;
  }
  DaemonProcess agent("mezzo-agent",
                      {"--master=" + masters.zkUrl(), "--ip=127.0.0.1", "--port=0",
                       "--work_dir=" + (masters.dir() / "agent").string(), "--resources=cpus:4;mem:2048",
                       "--registration_backoff_factor=50ms"},
                      masters.dir() / "agent.log");
  std::vector<double> serving;
  std::vector<double> offering;
  for (int run = 0; run < runs; ++run) {
    auto leader = masters.waitForLeader(std::chrono::seconds(30));
    if (!leader) {
      std::cerr << "run " << run << ": no leader\n";
      return 1;
    }
    bool agentThere = waitUntil(
        [&] { return getJson(masters.endpoint(*leader), "/state")["activated_slaves"] == 1; }, std::chrono::seconds(30));
    if (!agentThere) {
      std::cerr << "run " << run << ": the agent did not register\n";
      return 1;
    }
    auto killed = Clock::now();
    masters.process(*leader).kill9();

    std::unique_ptr<SchedulerSession> session;
    while (!session && Clock::now() - killed < std::chrono::seconds(60)) {
      for (size_t i = 0; i < masters.size() && !session; ++i) {
        if (i == *leader) continue;
        auto attempt = std::make_unique<SchedulerSession>(masters.endpoint(i));
        if (attempt->subscribe(subscribeCall("failover-bench"), milliseconds(2000)) == 200) session = std::move(attempt);
      }
      if (!session) std::this_thread::sleep_for(milliseconds(10));
    }
    if (!session) {
      std::cerr << "run " << run << ": no master served SUBSCRIBE within 60 s\n";
      return 1;
    }
    auto served = Clock::now();
    auto offer = session->waitForType(v1::scheduler::Event::OFFERS, std::chrono::seconds(60));
    auto offered = Clock::now();
    if (!offer) {
      std::cerr << "run " << run << ": no offer within 60 s of the new leader\n";
      return 1;
    }
    serving.push_back(ms(served - killed));
    offering.push_back(ms(offered - killed));
    std::printf("run %d: new leader serving after %.0f ms, first offer after %.0f ms\n", run, serving.back(),
                offering.back());
    session.reset();
    masters.start(*leader);  // back as a standby
  }
  std::printf("failover (zk_session_timeout=%s, %d runs): median %.0f ms to a serving leader, %.0f ms to offers\n",
              sessionTimeout.c_str(), runs, median(serving), median(offering));
  return 0;
}
