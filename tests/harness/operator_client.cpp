#include "harness/operator_client.hpp"

namespace mezzo::testing {

Result<net::ClientResponse> operatorCall(const net::Endpoint& master, const std::string& jsonBody,
                                         const std::string& accept) {
  net::ClientRequest request;
  request.method = boost::beast::http::verb::post;
  request.target = "/api/v1";
  request.headers = {{"Content-Type", "application/json"}, {"Accept", accept}};
  request.body = jsonBody;
  return net::httpRequestSync(master, std::move(request));
}

}  // namespace mezzo::testing
