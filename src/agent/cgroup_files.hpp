// Reading and writing cgroup control files, shared by the cgroups v1
// (cgroups.hpp) and v2 (cgroups2.hpp) implementations: one-value files,
// flat keyed files ("key value" lines: cpu.stat, memory.stat,
// memory.events, cpuacct.stat), pid lists (cgroup.procs), the cpu numbers
// both versions derive from a task's cpus, and the bounded kill loop of a
// container's destruction.
//
// The parsers are pure (text in, values out) and unit-tested; the readers
// treat a missing or unreadable file as "no value" because a cgroup can
// disappear at any time (its container was destroyed).
//
// Thread-safety: stateless functions.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mezzo/common/status.hpp"

namespace mezzo::agent {

// CFS period used with a quota (both versions): 100 ms.
inline constexpr uint64_t kCfsPeriodMicros = 100000;

// Writes `value` to a control file; the error names the file and value.
Status writeControl(const std::string& file, const std::string& value);
// The whole text of a control file, or nullopt if it cannot be read.
std::optional<std::string> readControl(const std::string& file);

// "key value" lines into a map; lines whose value is not a number are skipped.
std::map<std::string, uint64_t> parseFlatKeyed(std::string_view text);
// parseFlatKeyed of a file (empty when unreadable).
std::map<std::string, uint64_t> readFlatKeyed(const std::string& file);
// The number at the start of a one-value file ("4096\n"); nullopt when
// unreadable or not a number (cgroups v2 writes "max" for no limit).
std::optional<uint64_t> readNumber(const std::string& file);
std::optional<uint64_t> lookup(const std::map<std::string, uint64_t>& values, const std::string& key);

// Pids of a cgroup.procs text (one per line).
std::vector<pid_t> parsePids(std::string_view text);
// parsePids of a file (empty when unreadable).
std::vector<pid_t> readPids(const std::string& file);

// cpu.shares (v1; v2 maps it to cpu.weight) for `cpus`: 1024 per cpu, at least 2.
uint64_t cpuShares(double cpus);
// CFS quota for `cpus` over kCfsPeriodMicros, at least 1 ms.
uint64_t cfsQuotaMicros(double cpus);

// Destroys a container's processes: until `empty()` holds, `killAll()`
// then a 10 ms pause, at most 50 rounds. True once empty.
bool killUntilEmpty(const std::function<bool()>& empty, const std::function<void()>& killAll);

// A non-blocking inotify descriptor that becomes readable when `file` is
// modified (cgroup v2 event files: memory.events, cgroup.events) or
// removed. The caller owns it and drains it with read().
Result<int> watchFileModifications(const std::string& file);

}  // namespace mezzo::agent
