// Resources: the one value type for all resource math in Mezzo.
//
// A Resources value is a bag of ResourceEntry "atoms". Two entries with the
// same metadata (name, type, reservation stack, allocation role, revocable)
// merge; their values add (scalars), union (ranges, sets). Scalars are
// fixed-point with three decimals, as in Mesos, so 0.1 + 0.2 == 0.3.
//
// Text format (agent --resources, CLI): `cpus:4;mem:8192;disk:10000;
// ports:[31000-32000];cpus(ops):2;disks:{sda,sdb}` where `name(role)` is a
// static reservation for `role` and `*` means unreserved. A JSON array of
// Resource objects is accepted too.
//
// Wire form: Resource protos in the post-refinement format (`reservations`
// stack). fromProto() also accepts the pre-refinement format (`role` +
// `reservation`).
//
// Thread-safety: a value type; no shared state.
#pragma once

#include <google/protobuf/repeated_ptr_field.h>

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <ostream>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mezzo/common/status.hpp"
#include "mezzo/v1/mesos.pb.h"

namespace mezzo {

using ResourceProtos = google::protobuf::RepeatedPtrField<v1::Resource>;

struct Reservation {
  enum class Type { kStatic, kDynamic };
  Type type = Type::kStatic;
  std::string role;
  std::string principal;
  auto operator<=>(const Reservation&) const = default;
};

// Inclusive interval [begin, end].
struct Interval {
  uint64_t begin = 0;
  uint64_t end = 0;
  auto operator<=>(const Interval&) const = default;
};

struct ResourceEntry {
  std::string name;
  v1::Value::Type type = v1::Value::SCALAR;
  int64_t scalarMillis = 0;            // SCALAR: value * 1000
  std::vector<Interval> ranges;        // RANGES: sorted, disjoint, coalesced
  std::set<std::string> items;         // SET
  std::vector<Reservation> reservations;  // empty = unreserved; back() is the current owner
  std::string allocationRole;          // empty = not allocated to a role
  bool revocable = false;

  bool sameMetadata(const ResourceEntry& other) const;
  bool emptyValue() const;
  // The role this entry is reserved for, or "*" when unreserved.
  const std::string& reservationRole() const;
  double scalar() const { return static_cast<double>(scalarMillis) / 1000.0; }
};

class Resources {
 public:
  Resources() = default;

  static Result<Resources> parse(std::string_view text, std::string_view defaultRole = "*");
  static Result<Resources> fromProto(const ResourceProtos& protos);
  void toProto(ResourceProtos* out) const;
  ResourceProtos toProto() const;

  // Human text in the same format parse() reads.
  std::string toString() const;
  // The flattened form of the legacy JSON endpoints:
  // {"cpus":1.5,"gpus":0,"mem":256,"disk":0,"ports":"[31000-31005]"}.
  nlohmann::json toStateJson() const;

  bool empty() const { return entries_.empty(); }
  const std::vector<ResourceEntry>& entries() const { return entries_; }

  // True if every unit of `other` (with its metadata) is in this value.
  bool contains(const Resources& other) const;

  Resources& operator+=(const Resources& other);
  // Removes what `other` holds; parts of `other` not present are ignored.
  Resources& operator-=(const Resources& other);
  friend Resources operator+(Resources a, const Resources& b) { return a += b; }
  friend Resources operator-(Resources a, const Resources& b) { return a -= b; }
  bool operator==(const Resources& other) const;

  // Sum of the scalar resource `name` over all metadata (0 when absent).
  double scalar(std::string_view name) const;
  double cpus() const { return scalar("cpus"); }
  double mem() const { return scalar("mem"); }
  double disk() const { return scalar("disk"); }
  // Scalar totals by name, ignoring metadata.
  std::map<std::string, double> scalarQuantities() const;

  // Entries allocated to `role` (allocation_info.role).
  Resources allocatedTo(std::string_view role) const;
  // A copy with every entry's allocation role set to `role`.
  Resources withAllocationRole(std::string_view role) const;
  Resources withoutAllocation() const;
  // Entries whose current reservation is exactly `role`.
  Resources reservedFor(std::string_view role) const;
  Resources unreserved() const;
  Resources reserved() const;
  // Entries usable by `role`: unreserved ones and those reserved for `role`
  // or one of its ancestors (`eng` for `eng/ml`).
  Resources allocatableTo(std::string_view role) const;
  Resources revocable() const;
  Resources nonRevocable() const;

  template <typename Predicate>
  Resources filter(Predicate keep) const {
    Resources out;
    for (const ResourceEntry& entry : entries_) {
      if (keep(entry)) out.addEntry(entry);
    }
    return out;
  }

  // Adds `entry`, merging it into the entry with the same metadata if there
  // is one. Entries with an empty value are ignored; ranges need not be
  // sorted or coalesced (they are normalised here). No validation: use
  // parse()/fromProto() for untrusted input.
  void addEntry(const ResourceEntry& entry);

 private:
  std::vector<ResourceEntry> entries_;
};

std::ostream& operator<<(std::ostream& out, const Resources& resources);

// True if `role` is `ancestor` or lies below it (`eng/ml` is below `eng`).
// Purely textual: `*` is not treated as the ancestor of every role.
bool isRoleOrDescendant(std::string_view role, std::string_view ancestor);

}  // namespace mezzo
