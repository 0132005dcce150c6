// Logging set-up shared by every Mezzo binary (spdlog). Components log
// through spdlog's default logger; messages carry no trailing period.
//
// Thread-safety: initLogging() is called once from main() before threads start.
#pragma once

#include <spdlog/spdlog.h>

#include <string>
#include <string_view>

#include "mezzo/common/status.hpp"

namespace mezzo {

// `level` is one of trace, debug, info, warn, error, off. Logs go to stderr
// with the component name in each line.
void initLogging(std::string_view component, std::string_view level = "info");

enum class StderrLogging { kOn, kOff };

// As above, and also appends every line to `logFile` when it is not empty
// (its directory is created); with StderrLogging::kOff nothing goes to
// stderr. Fails, logging nowhere yet, when the file cannot be opened.
Status initLogging(std::string_view component, std::string_view level, const std::string& logFile,
                   StderrLogging toStderr);

}  // namespace mezzo
