// mezzo-launch-tasks-bench: end-to-end launch throughput (docs/benchmarks.md,
// B4). A framework on the C++ scheduler library launches --tasks command
// tasks (default `true`) through the master, as many at a time as the
// offers fit, and times each task from the ACCEPT that launched it to its
// terminal update arriving at the scheduler (through the master). Prints one
// line: tasks, outcome counts, wall time (first ACCEPT to last terminal
// update), throughput and latency percentiles.
//
//   mezzo-launch-tasks-bench --master 127.0.0.1:5050 [--tasks 1000] [--cpus 0.01]
//                            [--mem 4] [--command true] [--timeout 300]
//
// Thread-safety: single-threaded (one io_context).
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "mezzo/client/scheduler.hpp"
#include "mezzo/common/resources.hpp"

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string master = "127.0.0.1:5050";
  int tasks = 1000;
  double cpus = 0.01;
  double mem = 4;
  std::string command = "true";
  int timeoutSeconds = 300;
};

Options parseOptions(int argc, char** argv) {
  Options options;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    std::string value = argv[i + 1];
    if (flag == "--master") options.master = value;
    else if (flag == "--tasks") options.tasks = std::atoi(value.c_str());
    else if (flag == "--cpus") options.cpus = std::atof(value.c_str());
    else if (flag == "--mem") options.mem = std::atof(value.c_str());
    else if (flag == "--command") options.command = value;
    else if (flag == "--timeout") options.timeoutSeconds = std::atoi(value.c_str());
    else {
      std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
      std::exit(2);
    }
  }
  return options;
}

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  return values[static_cast<size_t>(p * static_cast<double>(values.size() - 1))];
}

class LaunchBench {
 public:
  LaunchBench(boost::asio::io_context& io, Options options) : io_(io), options_(std::move(options)), timeout_(io) {
    mezzo::v1::FrameworkInfo framework;
    framework.set_name("launch-tasks-bench");
    framework.set_user("root");
    mezzo::client::SchedulerCallbacks callbacks;
    callbacks.onOffers = [this](const std::vector<mezzo::v1::Offer>& offers) { onOffers(offers); };
    callbacks.onUpdate = [this](const mezzo::v1::TaskStatus& status) { onUpdate(status); };
    callbacks.onError = [this](const std::string& message) {
      std::fprintf(stderr, "scheduler error: %s\n", message.c_str());
      io_.stop();
    };
    scheduler_ = std::make_unique<mezzo::client::Scheduler>(io, options_.master, framework, callbacks,
                                                             mezzo::MediaType::kProtobuf);
  }

  void start() {
    scheduler_->start();
    timeout_.expires_after(std::chrono::seconds(options_.timeoutSeconds));
    timeout_.async_wait([this](boost::system::error_code ec) {
      if (ec) return;
      std::fprintf(stderr, "timed out with %d of %d tasks done\n", done_, options_.tasks);
      io_.stop();
    });
  }

  int report() const {
    std::chrono::duration<double> wall = lastEnd_ - firstLaunch_;
    std::printf("tasks=%d finished=%d other=%d wall_s=%.3f tasks_per_s=%.1f latency_ms_p50=%.1f p90=%.1f p99=%.1f\n",
                done_, finished_, done_ - finished_, wall.count(), done_ / std::max(wall.count(), 1e-9),
                percentile(latencies_, 0.5), percentile(latencies_, 0.9), percentile(latencies_, 0.99));
    return done_ == options_.tasks && finished_ == done_ ? 0 : 1;
  }

 private:
  void onOffers(const std::vector<mezzo::v1::Offer>& offers) {
    for (const mezzo::v1::Offer& offer : offers) {
      auto available = mezzo::Resources::fromProto(offer.resources());
      int fit = available ? static_cast<int>(std::min(available->cpus() / options_.cpus + 1e-9,
                                                      available->mem() / options_.mem + 1e-9))
                          : 0;
      fit = std::min(fit, options_.tasks - launched_);
      if (fit <= 0) {
        mezzo::v1::Filters filters;
        filters.set_refuse_seconds(launched_ == options_.tasks ? 3600 : 0);
        scheduler_->decline({offer.id()}, filters);
        continue;
      }
      auto resources = mezzo::Resources::parse("cpus:" + std::to_string(options_.cpus) +
                                               ";mem:" + std::to_string(options_.mem));
      mezzo::Resources allocation = *resources;
      if (offer.has_allocation_info()) allocation = allocation.withAllocationRole(offer.allocation_info().role());
      std::vector<mezzo::v1::TaskInfo> tasks;
      const auto now = Clock::now();
      if (launched_ == 0) firstLaunch_ = now;
      for (int i = 0; i < fit; ++i) {
        mezzo::v1::TaskInfo task;
        const std::string id = "t" + std::to_string(launched_++);
        task.set_name(id);
        task.mutable_task_id()->set_value(id);
        *task.mutable_agent_id() = offer.agent_id();
        task.mutable_command()->set_value(options_.command);
        allocation.toProto(task.mutable_resources());
        tasks.push_back(std::move(task));
        launchedAt_[id] = now;
      }
      mezzo::v1::Filters filters;
      filters.set_refuse_seconds(0);
      scheduler_->launch(offer, std::move(tasks), filters);
    }
  }

  void onUpdate(const mezzo::v1::TaskStatus& status) {
    scheduler_->acknowledge(status);
    if (!mezzo::isTerminalState(status.state())) return;
    auto it = launchedAt_.find(status.task_id().value());
    if (it == launchedAt_.end()) return;
    lastEnd_ = Clock::now();
    latencies_.push_back(std::chrono::duration<double, std::milli>(lastEnd_ - it->second).count());
    launchedAt_.erase(it);
    ++done_;
    if (status.state() == mezzo::v1::TASK_FINISHED) {
      ++finished_;
    } else if (done_ - finished_ <= 3) {
      std::fprintf(stderr, "task %s: %s %s\n", status.task_id().value().c_str(),
                   mezzo::v1::TaskState_Name(status.state()).c_str(), status.message().c_str());
    }
    if (done_ == options_.tasks) {
      timeout_.cancel();
      scheduler_->teardown([this](const mezzo::Status&) { io_.stop(); });
    }
  }

  boost::asio::io_context& io_;
  Options options_;
  boost::asio::steady_timer timeout_;
  std::unique_ptr<mezzo::client::Scheduler> scheduler_;
  int launched_ = 0;
  int done_ = 0;
  int finished_ = 0;
  Clock::time_point firstLaunch_{};
  Clock::time_point lastEnd_{};
  std::map<std::string, Clock::time_point> launchedAt_;
  std::vector<double> latencies_;
};

}  // namespace

int main(int argc, char** argv) {
  Options options = parseOptions(argc, argv);
  boost::asio::io_context io;
  LaunchBench bench(io, options);
  bench.start();
  io.run();
  return bench.report();
}
