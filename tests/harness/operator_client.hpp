// Test helper: one v1 operator API call (POST /api/v1) with a JSON body,
// answered in JSON, on its own connection.
//
// Thread-safety: stateless; callable from any test thread.
#pragma once

#include <string>

#include "mezzo/net/http_client.hpp"

namespace mezzo::testing {

Result<net::ClientResponse> operatorCall(const net::Endpoint& master, const std::string& jsonBody,
                                         const std::string& accept = "application/json");

}  // namespace mezzo::testing
