#include "mezzo/common/logging.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>

#include <string>

namespace mezzo {

void initLogging(std::string_view component, std::string_view level) {
  auto logger = spdlog::stderr_color_mt(std::string(component));
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%L%$ [%n] %v");
  logger->set_level(spdlog::level::from_str(std::string(level)));
  spdlog::set_default_logger(logger);
}

}  // namespace mezzo
