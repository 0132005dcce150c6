// Logging set-up shared by every Mezzo binary (spdlog). Components log
// through spdlog's default logger; messages carry no trailing period.
//
// Thread-safety: initLogging() is called once from main() before threads start.
#pragma once

#include <spdlog/spdlog.h>

#include <string_view>

namespace mezzo {

// `level` is one of trace, debug, info, warn, error, off. Logs go to stderr
// with the component name in each line.
void initLogging(std::string_view component, std::string_view level = "info");

}  // namespace mezzo
