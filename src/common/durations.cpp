#include "mezzo/common/durations.hpp"

#include <array>
#include <cmath>
#include <fmt/format.h>
#include <utility>

namespace mezzo {

namespace {
struct Unit {
  std::string_view name;
  double nanoseconds;
};

// Longest names first so that "ms" is not read as "m" + garbage.
constexpr std::array<Unit, 19> kUnits = {{
    {"weeks", 604800e9}, {"days", 86400e9}, {"hrs", 3600e9}, {"mins", 60e9}, {"secs", 1e9},
    {"ms", 1e6}, {"us", 1e3}, {"ns", 1}, {"week", 604800e9}, {"day", 86400e9},
    {"hr", 3600e9}, {"min", 60e9}, {"sec", 1e9}, {"w", 604800e9}, {"d", 86400e9},
    {"h", 3600e9}, {"m", 60e9}, {"s", 1e9}, {"", 0},
}};
}  // namespace

Result<Duration> parseDuration(std::string_view text) {
  size_t split = 0;
  while (split < text.size() && (std::isdigit(static_cast<unsigned char>(text[split])) || text[split] == '.')) {
    ++split;
  }
  std::string number(text.substr(0, split));
  std::string_view unit = text.substr(split);
  if (number.empty()) {
    return Status::invalidArgument("Invalid duration '" + std::string(text) + "'");
  }
  double value = 0;
  try {
    size_t used = 0;
    value = std::stod(number, &used);
    if (used != number.size()) {
      return Status::invalidArgument("Invalid duration '" + std::string(text) + "'");
    }
  } catch (const std::exception&) {
    return Status::invalidArgument("Invalid duration '" + std::string(text) + "'");
  }
  for (const Unit& candidate : kUnits) {
    if (!candidate.name.empty() && candidate.name == unit) {
      double nanoseconds = value * candidate.nanoseconds;
      // llround's result is unspecified beyond int64 (about 292 years).
      if (nanoseconds >= 9.2e18) {
        return Status::invalidArgument("Duration '" + std::string(text) + "' is out of range");
      }
      return Duration(static_cast<int64_t>(std::llround(nanoseconds)));
    }
  }
  return Status::invalidArgument("Unknown duration unit in '" + std::string(text) + "'");
}

std::string formatDuration(Duration duration) {
  const double ns = static_cast<double>(duration.count());
  constexpr std::array<std::pair<std::string_view, double>, 7> kOutputUnits = {{
      {"weeks", 604800e9}, {"days", 86400e9}, {"hrs", 3600e9}, {"mins", 60e9},
      {"secs", 1e9}, {"ms", 1e6}, {"us", 1e3},
  }};
  for (const auto& [name, size] : kOutputUnits) {
    if (std::fabs(ns) >= size) {
      return fmt::format("{:g}{}", ns / size, name);
    }
  }
  return fmt::format("{}ns", duration.count());
}

}  // namespace mezzo
