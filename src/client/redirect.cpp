#include "mezzo/client/redirect.hpp"

namespace mezzo::client {

Result<RedirectTarget> parseRedirectLocation(std::string_view location, const net::Endpoint& current,
                                             std::string_view defaultPath) {
  while (!location.empty() && (location.front() == ' ' || location.front() == '\t')) location.remove_prefix(1);
  while (!location.empty() && (location.back() == ' ' || location.back() == '\t')) location.remove_suffix(1);
  if (location.empty()) return Status::invalidArgument("Redirect without a Location");

  RedirectTarget target;
  if (location.starts_with("/") && !location.starts_with("//")) {
    target.endpoint = current;
    target.path = std::string(location);
    return target;
  }
  if (location.starts_with("//")) {
    location.remove_prefix(2);
  } else if (location.starts_with("http://")) {
    location.remove_prefix(7);
  } else {
    return Status::invalidArgument("Unsupported redirect Location '" + std::string(location) + "'");
  }
  size_t slash = location.find_first_of("/?");
  std::string_view authority = location.substr(0, slash);
  auto endpoint = net::parseEndpoint(authority);
  if (!endpoint) return Status::invalidArgument("Bad redirect Location: " + endpoint.error());
  target.endpoint = *endpoint;
  if (slash == std::string_view::npos) {
    target.path = std::string(defaultPath);
  } else if (location[slash] == '?') {
    target.path = std::string(defaultPath) + std::string(location.substr(slash));
  } else {
    target.path = std::string(location.substr(slash));
  }
  return target;
}

}  // namespace mezzo::client
