// `mezzo task list`, `mezzo agent list`, `mezzo framework list`: GET the
// master's /tasks, /slaves or /frameworks and print a table (or, with
// --json, the JSON as the master sent it).
//
// Thread-safety: runList() runs on the calling thread.
#pragma once

#include <string>

namespace mezzo::cli {

enum class ListKind { kTasks, kAgents, kFrameworks };

int runList(ListKind kind, const std::string& master, bool json);

}  // namespace mezzo::cli
