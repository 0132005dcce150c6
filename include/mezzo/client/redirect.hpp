// Where a 307 from a non-leading master points (mesos-reference.md §0.2):
// Mesos sends a protocol-relative `Location: //host:port/path`; we also take
// `http://host:port/path` and a bare `/path` (same host). An empty path
// (the `/master/redirect` form `//host:port`) means `defaultPath`.
//
// Thread-safety: stateless functions.
#pragma once

#include <string>
#include <string_view>

#include "mezzo/common/status.hpp"
#include "mezzo/net/http_client.hpp"

namespace mezzo::client {

struct RedirectTarget {
  net::Endpoint endpoint;
  std::string path;  // with the query, if any
};

Result<RedirectTarget> parseRedirectLocation(std::string_view location, const net::Endpoint& current,
                                             std::string_view defaultPath);

}  // namespace mezzo::client
