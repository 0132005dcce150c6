// Reading a task's sandbox files through an agent's files API
// (`GET /files/read?path=...&offset=...&length=...`, answered with
// {"data": "...", "offset": N}), page by page until the end of the file.
//
// Thread-safety: callbacks run on the io_context passed in.
#pragma once

#include <boost/asio/io_context.hpp>
#include <functional>
#include <string>

#include "mezzo/common/status.hpp"
#include "mezzo/net/http_client.hpp"
#include "mezzo/v1/mesos.pb.h"

namespace mezzo::cli {

// The virtual path of a file in the latest run of an executor's sandbox:
// /frameworks/<fid>/executors/<eid>/runs/latest/<file>.
std::string sandboxPath(const std::string& frameworkId, const std::string& executorId, const std::string& file);

// Where an offer's agent serves HTTP: url.address (ip, else hostname) and
// port, else the offer's hostname and 5051.
net::Endpoint agentEndpoint(const v1::Offer& offer);

std::string urlEncode(std::string_view text);

// Reads the whole file (up to `maxBytes`). kNotFound when the agent says 404.
void readAgentFile(boost::asio::io_context& io, const net::Endpoint& agent, const std::string& path,
                   std::function<void(Result<std::string>)> done, size_t maxBytes = 16 * 1024 * 1024);

}  // namespace mezzo::cli
