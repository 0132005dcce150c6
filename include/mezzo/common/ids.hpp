// Strong identifier types and the generators that mint Mesos-shaped ids.
//
// Ids on the wire are strings; inside Mezzo each kind has its own type so a
// TaskId can never be passed where an AgentId is expected. IdGenerator makes
// master-assigned ids in the Mesos formats (mesos-reference.md §0.6):
// FrameworkID `<master-id>-<4-digit counter>`, AgentID `<master-id>-S<n>`,
// OfferID `<master-id>-O<n>`.
//
// Thread-safety: the id types are values. IdGenerator is not synchronised;
// it belongs to the master's event loop.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace mezzo {

template <typename Tag>
class StrongId {
 public:
  StrongId() = default;
  explicit StrongId(std::string value) : value_(std::move(value)) {}
  const std::string& value() const { return value_; }
  bool empty() const { return value_.empty(); }
  auto operator<=>(const StrongId&) const = default;

 private:
  std::string value_;
};

using FrameworkId = StrongId<struct FrameworkIdTag>;
using AgentId = StrongId<struct AgentIdTag>;
using OfferId = StrongId<struct OfferIdTag>;
using TaskId = StrongId<struct TaskIdTag>;
using ExecutorId = StrongId<struct ExecutorIdTag>;

struct StrongIdHash {
  template <typename Tag>
  size_t operator()(const StrongId<Tag>& id) const {
    return std::hash<std::string>{}(id.value());
  }
};

// A random RFC 4122 version-4 UUID: 16 raw bytes (TaskStatus.uuid) or text.
std::string randomUuidBytes();
std::string randomUuidString();
// Renders 16 raw uuid bytes as the canonical 36-character text form.
std::string uuidBytesToString(std::string_view bytes);

class IdGenerator {
 public:
  explicit IdGenerator(std::string masterId) : masterId_(std::move(masterId)) {}

  const std::string& masterId() const { return masterId_; }
  FrameworkId nextFrameworkId();
  AgentId nextAgentId();
  OfferId nextOfferId();

 private:
  std::string masterId_;
  uint64_t nextFramework_ = 0;
  uint64_t nextAgent_ = 0;
  uint64_t nextOffer_ = 0;
};

// Validates a client-chosen id (task, executor): non-empty, at most 255
// bytes, not "." or "..", no control characters, no '/' or '\'.
// Returns an empty string when valid, else the reason.
std::string validateClientId(std::string_view id);

// Longest role name accepted. Mesos sets no bound; ours keeps roles (which
// are persisted with weights, quota and reservations) to a sane size.
constexpr size_t kMaxRoleNameLength = 255;

// Validates a role name as Mesos does (mesos-reference.md §0.6: not empty,
// no '/' at either end nor "//", no component ".", ".." or "*", no
// component starting with '-', no whitespace or control characters) and
// at most kMaxRoleNameLength bytes. Empty string when valid.
std::string validateRoleName(std::string_view role);

}  // namespace mezzo
