#include "mezzo/common/logging.hpp"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace mezzo {

namespace {

void installLogger(std::string_view component, std::string_view level, std::vector<spdlog::sink_ptr> sinks) {
  auto logger = std::make_shared<spdlog::logger>(std::string(component), sinks.begin(), sinks.end());
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%L%$ [%n] %v");
  logger->set_level(spdlog::level::from_str(std::string(level)));
  logger->flush_on(spdlog::level::trace);  // a line is in the log file as soon as it is logged
  spdlog::set_default_logger(logger);
}

}  // namespace

void initLogging(std::string_view component, std::string_view level) {
  installLogger(component, level, {std::make_shared<spdlog::sinks::stderr_color_sink_mt>()});
}

Status initLogging(std::string_view component, std::string_view level, const std::string& logFile,
                   StderrLogging toStderr) {
  std::vector<spdlog::sink_ptr> sinks;
  if (toStderr == StderrLogging::kOn) sinks.push_back(std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
  if (!logFile.empty()) {
    std::error_code ec;
    std::filesystem::path path(logFile);
    if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), ec);
    try {
      sinks.push_back(std::make_shared<spdlog::sinks::basic_file_sink_mt>(logFile));
    } catch (const spdlog::spdlog_ex& error) {
      return Status::ioError("Cannot write the log file '" + logFile + "': " + error.what());
    }
  }
  installLogger(component, level, std::move(sinks));
  return Status::ok();
}

}  // namespace mezzo
