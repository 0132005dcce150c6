// Mesos-style duration text: "250ms", "5secs", "15mins", "2hrs", "1days",
// "3weeks", also "ns", "us", "s", "m", "h", "d", "w" and fractions ("1.5secs").
// Used for flags (--allocation_interval=1secs) and the MESOS_* executor
// environment.
//
// Thread-safety: stateless functions.
#pragma once

#include <string>
#include <string_view>

#include "mezzo/common/clock.hpp"
#include "mezzo/common/status.hpp"

namespace mezzo {

Result<Duration> parseDuration(std::string_view text);

// Renders like Mesos's Duration stream output: the largest unit that keeps
// the value at or above 1 ("5secs", "250ms", "15mins").
std::string formatDuration(Duration duration);

}  // namespace mezzo
