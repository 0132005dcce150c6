// mezzo-launch: joins cgroups, sets rlimits, then execs the given program
// (see agent/launch_helper.hpp). Started by the agent with posix_spawn; it
// only calls async-signal-safe-ish libc and links nothing of Mezzo.
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "agent/launch_helper.hpp"

namespace {

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "mezzo-launch: %s\n", what.c_str());
  std::fflush(stderr);
  _exit(mezzo::agent::launch::kSetupFailedExitCode);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace mezzo::agent::launch;
  std::string error;
  auto request = parseArguments(argc, argv, &error);
  if (!request) fail(error);
  const std::string pid = std::to_string(getpid());
  for (const std::string& file : request->cgroupProcsFiles) {
    FILE* procs = std::fopen(file.c_str(), "we");
    if (procs == nullptr) fail("cannot open " + file + ": " + std::strerror(errno));
    const bool written = std::fputs(pid.c_str(), procs) >= 0;
    if (std::fclose(procs) != 0 || !written) fail("cannot join " + file + ": " + std::strerror(errno));
  }
  for (const auto& [name, value] : request->rlimits) {
    rlimit limit{static_cast<rlim_t>(value), static_cast<rlim_t>(value)};
    if (setrlimit(*rlimitResource(name), &limit) != 0) {
      fail("cannot set rlimit " + name + ": " + std::strerror(errno));
    }
  }
  std::vector<char*> args;
  for (std::string& arg : request->argv) args.push_back(arg.data());
  args.push_back(nullptr);
  if (request->executable.find('/') == std::string::npos) {
    execvp(request->executable.c_str(), args.data());
  } else {
    execv(request->executable.c_str(), args.data());
  }
  fail("cannot execute " + request->executable + ": " + std::strerror(errno));
}
