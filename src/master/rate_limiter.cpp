#include "master/rate_limiter.hpp"

#include <charconv>
#include <string>

#include "mezzo/common/durations.hpp"

namespace mezzo::master {

Result<RemovalRate> parseRemovalRate(std::string_view text) {
  auto invalid = [&](const std::string& why) {
    return Status::invalidArgument("Invalid rate '" + std::string(text) + "' (expected e.g. 1/10secs): " + why);
  };
  size_t slash = text.find('/');
  if (slash == std::string_view::npos) return invalid("missing '/'");
  std::string_view permitsText = text.substr(0, slash);
  uint32_t permits = 0;
  auto [end, ec] = std::from_chars(permitsText.data(), permitsText.data() + permitsText.size(), permits);
  if (ec != std::errc() || end != permitsText.data() + permitsText.size() || permits == 0) {
    return invalid("permits must be a positive integer");
  }
  auto per = parseDuration(text.substr(slash + 1));
  if (!per) return invalid(per.error());
  if (*per <= Duration::zero()) return invalid("duration must be positive");
  return RemovalRate{permits, *per};
}

bool RateLimiter::tryAcquire(TimePoint now) {
  if (next_ && now < *next_) return false;
  next_ = now + interval_;
  return true;
}

}  // namespace mezzo::master
