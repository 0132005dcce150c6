#include "mezzo/common/ids.hpp"

#include <boost/uuid/random_generator.hpp>
#include <boost/uuid/uuid.hpp>
#include <boost/uuid/uuid_io.hpp>
#include <cstring>
#include <fmt/format.h>

namespace mezzo {

namespace {
boost::uuids::uuid randomUuid() {
  thread_local boost::uuids::random_generator generator;
  return generator();
}
}  // namespace

std::string randomUuidBytes() {
  boost::uuids::uuid id = randomUuid();
  return std::string(reinterpret_cast<const char*>(id.data), id.size());
}

std::string randomUuidString() { return boost::uuids::to_string(randomUuid()); }

std::string uuidBytesToString(std::string_view bytes) {
  boost::uuids::uuid id{};
  if (bytes.size() != id.size()) {
    return std::string(bytes);
  }
  std::memcpy(id.data, bytes.data(), id.size());
  return boost::uuids::to_string(id);
}

FrameworkId IdGenerator::nextFrameworkId() {
  return FrameworkId(fmt::format("{}-{:04d}", masterId_, nextFramework_++));
}

AgentId IdGenerator::nextAgentId() { return AgentId(fmt::format("{}-S{}", masterId_, nextAgent_++)); }

OfferId IdGenerator::nextOfferId() { return OfferId(fmt::format("{}-O{}", masterId_, nextOffer_++)); }

std::string validateClientId(std::string_view id) {
  if (id.empty()) {
    return "ID must not be empty";
  }
  if (id.size() > 255) {
    return "ID must be at most 255 characters";
  }
  if (id == "." || id == "..") {
    return "'" + std::string(id) + "' is disallowed";
  }
  for (char c : id) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return "ID must not contain control characters";
    }
    if (c == '/' || c == '\\') {
      return "ID must not contain '/' or '\\'";
    }
  }
  return {};
}

std::string validateRoleName(std::string_view role) {
  if (role == "*") {
    return {};
  }
  if (role.empty()) {
    return "Role name must not be empty";
  }
  if (role.size() > kMaxRoleNameLength) {
    return "Role name must be at most " + std::to_string(kMaxRoleNameLength) + " characters (got " +
           std::to_string(role.size()) + ")";
  }
  if (role.front() == '/' || role.back() == '/') {
    return "Role '" + std::string(role) + "' cannot start or end with '/'";
  }
  size_t start = 0;
  while (start <= role.size()) {
    size_t end = role.find('/', start);
    if (end == std::string_view::npos) {
      end = role.size();
    }
    std::string_view component = role.substr(start, end - start);
    if (component.empty()) {
      return "Role '" + std::string(role) + "' cannot contain '//'";
    }
    if (component == "." || component == ".." || component == "*") {
      return "Role '" + std::string(role) + "' cannot contain '.', '..' or '*' as a component";
    }
    if (component.front() == '-') {
      return "Role '" + std::string(role) + "' component cannot start with '-'";
    }
    for (char c : component) {
      if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
        return "Role '" + std::string(role) + "' cannot contain whitespace or control characters";
      }
    }
    start = end + 1;
  }
  return {};
}

}  // namespace mezzo
