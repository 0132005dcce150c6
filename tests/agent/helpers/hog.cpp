// mezzo-test-hog: a task that uses resources on purpose, for isolation tests.
//   mezzo-test-hog mem <MB> [hold seconds, default 60]
//       allocates and touches <MB> MiB in 1 MiB steps, prints "allocated
//       <MB> MB", holds it, exits 0; exits 3 if an allocation fails.
//   mezzo-test-hog cpu <threads> <seconds>
//       keeps <threads> threads busy for <seconds>, exits 0.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

int hogMemory(long mebibytes, long holdSeconds) {
  constexpr size_t kStep = 1 << 20;
  std::vector<char*> blocks;
  for (long i = 0; i < mebibytes; ++i) {
    char* block = static_cast<char*>(std::malloc(kStep));
    if (block == nullptr) {
      std::printf("allocation failed after %ld MB\n", i);
      return 3;
    }
    std::memset(block, 1, kStep);
    blocks.push_back(block);
  }
  std::printf("allocated %ld MB\n", mebibytes);
  std::fflush(stdout);
  std::this_thread::sleep_for(std::chrono::seconds(holdSeconds));
  return 0;
}

int hogCpu(long threads, long seconds) {
  std::atomic<bool> stop{false};
  std::vector<std::thread> burners;
  for (long i = 0; i < threads; ++i) {
    burners.emplace_back([&stop] {
      volatile unsigned long counter = 0;
      while (!stop.load(std::memory_order_relaxed)) counter = counter + 1;
    });
  }
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  stop = true;
  for (std::thread& burner : burners) burner.join();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "mem" && argc >= 3) return hogMemory(std::atol(argv[2]), argc >= 4 ? std::atol(argv[3]) : 60);
  if (mode == "cpu" && argc >= 4) return hogCpu(std::atol(argv[2]), std::atol(argv[3]));
  std::fprintf(stderr, "usage: %s mem <MB> [hold seconds] | cpu <threads> <seconds>\n", argv[0]);
  return 2;
}
