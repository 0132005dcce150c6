// Resources: parsing, printing, wire conversion and the resource arithmetic.
//
// Invariant kept by every mutator (addEntry is the only way in): `entries_`
// holds no entry with an empty value and no two entries with the same
// metadata; ranges are sorted, disjoint and coalesced. Everything below relies
// on it: contains/-=/== look up the single entry with matching metadata.
//
// Kept deliberately simple (linear look-ups); the allocator gets its own flat
// interned form for the hot path.
#include "mezzo/common/resources.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

#include "mezzo/common/ids.hpp"
#include "mezzo/common/json_proto.hpp"
#include "mezzo/common/strings.hpp"

namespace mezzo {

namespace {

constexpr double kMillisPerUnit = 1000.0;
// Largest scalar accepted from outside. Far beyond any real machine (1e12 MB
// is an exabyte) and small enough that millions of them sum without
// overflowing the int64 millis.
constexpr double kMaxScalar = 1e12;
const std::string kUnreservedRole = "*";

std::string inQuotes(std::string_view text) { return "'" + std::string(text) + "'"; }

// The deprecated pre-refinement `role` field is touched only through these.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
bool hasLegacyRole(const v1::Resource& proto) { return proto.has_role(); }
const std::string& legacyRole(const v1::Resource& proto) { return proto.role(); }
void setLegacyRole(v1::Resource* proto, std::string_view role) { proto->set_role(std::string(role)); }
#pragma GCC diagnostic pop

// ---------------------------------------------------------------- scalars

Result<int64_t> scalarToMillis(double value, std::string_view name) {
  if (!std::isfinite(value)) {
    return Status::invalidArgument("Scalar resource " + inQuotes(name) + " must be finite");
  }
  if (value < 0) {
    return Status::invalidArgument("Scalar resource " + inQuotes(name) + " must not be negative");
  }
  if (value > kMaxScalar) {
    return Status::invalidArgument("Scalar resource " + inQuotes(name) + " is too large");
  }
  return static_cast<int64_t>(std::llround(value * kMillisPerUnit));
}

// "4", "0.5", "1.25": up to three decimals, no trailing zeros.
std::string formatMillis(int64_t millis) {
  std::string out = std::to_string(millis / 1000);
  int64_t fraction = millis % 1000;
  if (fraction != 0) {
    std::string digits = std::to_string(fraction);
    digits.insert(0, 3 - digits.size(), '0');
    digits.erase(digits.find_last_not_of('0') + 1);
    out += "." + digits;
  }
  return out;
}

// ---------------------------------------------------------------- intervals

void coalesce(std::vector<Interval>* intervals) {
  std::sort(intervals->begin(), intervals->end());
  std::vector<Interval> out;
  out.reserve(intervals->size());
  for (const Interval& next : *intervals) {
    if (!out.empty() && (out.back().end == std::numeric_limits<uint64_t>::max() || next.begin <= out.back().end + 1)) {
      out.back().end = std::max(out.back().end, next.end);
    } else {
      out.push_back(next);
    }
  }
  *intervals = std::move(out);
}

// `from` minus `what`; both sorted, disjoint and coalesced, so is the result.
std::vector<Interval> subtractIntervals(const std::vector<Interval>& from, const std::vector<Interval>& what) {
  std::vector<Interval> out;
  for (const Interval& x : from) {
    uint64_t start = x.begin;
    bool remainder = true;
    for (const Interval& y : what) {
      if (y.end < start) continue;
      if (y.begin > x.end) break;
      if (y.begin > start) out.push_back({start, y.begin - 1});
      if (y.end >= x.end) {
        remainder = false;
        break;
      }
      start = y.end + 1;
    }
    if (remainder) out.push_back({start, x.end});
  }
  return out;
}

// With `outer` coalesced, a contiguous interval of `inner` lies inside the
// union of `outer` only if it lies inside one of its intervals.
bool containsIntervals(const std::vector<Interval>& outer, const std::vector<Interval>& inner) {
  return std::all_of(inner.begin(), inner.end(), [&](const Interval& y) {
    return std::any_of(outer.begin(), outer.end(),
                       [&](const Interval& x) { return x.begin <= y.begin && y.end <= x.end; });
  });
}

std::string formatIntervals(const std::vector<Interval>& intervals) {
  std::string out = "[";
  for (size_t i = 0; i < intervals.size(); ++i) {
    if (i > 0) out += ",";
    out += std::to_string(intervals[i].begin) + "-" + std::to_string(intervals[i].end);
  }
  return out + "]";
}

std::string formatSet(const std::set<std::string>& items) {
  std::string out = "{";
  for (const std::string& item : items) {
    if (out.size() > 1) out += ",";
    out += item;
  }
  return out + "}";
}

// ---------------------------------------------------------------- entry values
// The helpers below assume both entries have the same metadata (so the same type).

void addValue(ResourceEntry* into, const ResourceEntry& from) {
  switch (into->type) {
    case v1::Value::RANGES:
      into->ranges.insert(into->ranges.end(), from.ranges.begin(), from.ranges.end());
      coalesce(&into->ranges);
      break;
    case v1::Value::SET:
      into->items.insert(from.items.begin(), from.items.end());
      break;
    default:
      into->scalarMillis += from.scalarMillis;
      break;
  }
}

void subtractValue(ResourceEntry* from, const ResourceEntry& what) {
  switch (from->type) {
    case v1::Value::RANGES:
      from->ranges = subtractIntervals(from->ranges, what.ranges);
      break;
    case v1::Value::SET:
      for (const std::string& item : what.items) from->items.erase(item);
      break;
    default:
      from->scalarMillis = std::max<int64_t>(0, from->scalarMillis - what.scalarMillis);
      break;
  }
}

bool containsValue(const ResourceEntry& outer, const ResourceEntry& inner) {
  switch (outer.type) {
    case v1::Value::RANGES:
      return containsIntervals(outer.ranges, inner.ranges);
    case v1::Value::SET:
      return std::includes(outer.items.begin(), outer.items.end(), inner.items.begin(), inner.items.end());
    default:
      return outer.scalarMillis >= inner.scalarMillis;
  }
}

bool sameValue(const ResourceEntry& a, const ResourceEntry& b) {
  return a.scalarMillis == b.scalarMillis && a.ranges == b.ranges && a.items == b.items;
}

std::string formatValue(const ResourceEntry& entry) {
  switch (entry.type) {
    case v1::Value::RANGES:
      return formatIntervals(entry.ranges);
    case v1::Value::SET:
      return formatSet(entry.items);
    default:
      return formatMillis(entry.scalarMillis);
  }
}

// `cpus`, `cpus(eng)`; metadata the text format cannot express is shown in
// annotations that parse() rejects: `(reservations: [...])`,
// `(allocated: eng)`, `{REV}`.
std::string formatEntry(const ResourceEntry& entry) {
  std::string out = entry.name;
  const auto& stack = entry.reservations;
  if (stack.size() == 1 && stack[0].type == Reservation::Type::kStatic) {
    out += "(" + stack[0].role + ")";
  } else if (!stack.empty()) {
    out += "(reservations: [";
    for (size_t i = 0; i < stack.size(); ++i) {
      if (i > 0) out += ",";
      bool dynamic = stack[i].type == Reservation::Type::kDynamic;
      out += std::string(dynamic ? "(DYNAMIC," : "(STATIC,") + stack[i].role;
      if (!stack[i].principal.empty()) out += "," + stack[i].principal;
      out += ")";
    }
    out += "])";
  }
  if (!entry.allocationRole.empty()) out += "(allocated: " + entry.allocationRole + ")";
  if (entry.revocable) out += "{REV}";
  return out + ":" + formatValue(entry);
}

// ---------------------------------------------------------------- text parsing

Result<int64_t> parseScalarText(std::string_view text, std::string_view name) {
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
    return Status::invalidArgument("Bad number " + inQuotes(text) + " for resource " + inQuotes(name));
  }
  return scalarToMillis(value, name);
}

Result<uint64_t> parseBound(std::string_view text, std::string_view name) {
  text = trim(text);
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
    return Status::invalidArgument("Bad range bound " + inQuotes(text) + " for resource " + inQuotes(name));
  }
  return value;
}

// `body` is the text between '[' and ']': `31000-32000, 33000-33010`.
Result<std::vector<Interval>> parseRangesText(std::string_view body, std::string_view name) {
  std::vector<Interval> intervals;
  if (trim(body).empty()) return intervals;
  for (std::string_view piece : split(body, ',')) {
    std::vector<std::string_view> bounds = split(piece, '-');
    if (bounds.size() != 2) {
      return Status::invalidArgument("Malformed range " + inQuotes(trim(piece)) + " for resource " + inQuotes(name) +
                                     " (expected begin-end)");
    }
    Result<uint64_t> begin = parseBound(bounds[0], name);
    if (!begin) return begin.status();
    Result<uint64_t> end = parseBound(bounds[1], name);
    if (!end) return end.status();
    if (*begin > *end) {
      return Status::invalidArgument("Range " + inQuotes(trim(piece)) + " for resource " + inQuotes(name) +
                                     " has begin > end");
    }
    intervals.push_back({*begin, *end});
  }
  coalesce(&intervals);
  return intervals;
}

Result<std::set<std::string>> parseSetText(std::string_view body, std::string_view name) {
  std::set<std::string> items;
  if (trim(body).empty()) return items;
  for (std::string_view piece : split(body, ',')) {
    std::string_view item = trim(piece);
    if (item.empty()) {
      return Status::invalidArgument("Empty item in set for resource " + inQuotes(name));
    }
    items.emplace(item);
  }
  return items;
}

Status parseValueText(std::string_view text, ResourceEntry* entry) {
  if (text.starts_with('[') || text.ends_with(']')) {
    if (!text.starts_with('[') || !text.ends_with(']') || text.size() < 2) {
      return Status::invalidArgument("Malformed ranges " + inQuotes(text) + " for resource " + inQuotes(entry->name));
    }
    entry->type = v1::Value::RANGES;
    Result<std::vector<Interval>> ranges = parseRangesText(text.substr(1, text.size() - 2), entry->name);
    if (!ranges) return ranges.status();
    entry->ranges = std::move(*ranges);
    return Status::ok();
  }
  if (text.starts_with('{') || text.ends_with('}')) {
    if (!text.starts_with('{') || !text.ends_with('}') || text.size() < 2) {
      return Status::invalidArgument("Malformed set " + inQuotes(text) + " for resource " + inQuotes(entry->name));
    }
    entry->type = v1::Value::SET;
    Result<std::set<std::string>> items = parseSetText(text.substr(1, text.size() - 2), entry->name);
    if (!items) return items.status();
    entry->items = std::move(*items);
    return Status::ok();
  }
  entry->type = v1::Value::SCALAR;
  Result<int64_t> millis = parseScalarText(text, entry->name);
  if (!millis) return millis.status();
  entry->scalarMillis = *millis;
  return Status::ok();
}

bool validResourceName(std::string_view name) {
  if (name.empty()) return false;
  return std::none_of(name.begin(), name.end(), [](char c) {
    return static_cast<unsigned char>(c) <= 0x20 || std::string_view("(){}[]:;,").find(c) != std::string_view::npos;
  });
}

// Applies `role` ("*" = unreserved) as a static reservation.
Status applyStaticRole(std::string_view role, ResourceEntry* entry) {
  std::string error = validateRoleName(role);
  if (!error.empty()) return Status::invalidArgument(error);
  if (role != "*") {
    entry->reservations.push_back({Reservation::Type::kStatic, std::string(role), ""});
  }
  return Status::ok();
}

// One `name(role):value` token.
Result<ResourceEntry> parseTextEntry(std::string_view token, std::string_view defaultRole) {
  auto fail = [&](const std::string& why) {
    return Status::invalidArgument("Invalid resource " + inQuotes(token) + ": " + why);
  };
  size_t colon = token.find(':');
  size_t open = token.find('(');
  ResourceEntry entry;
  std::string_view role = defaultRole;
  std::string_view valueText;
  if (open != std::string_view::npos && open < colon) {
    size_t close = token.find(')', open);
    if (close == std::string_view::npos) return fail("missing ')'");
    entry.name = std::string(trim(token.substr(0, open)));
    role = trim(token.substr(open + 1, close - open - 1));
    std::string_view rest = trim(token.substr(close + 1));
    if (!rest.starts_with(':')) return fail("expected ':' after the role");
    valueText = trim(rest.substr(1));
  } else {
    if (colon == std::string_view::npos) return fail("expected name:value");
    entry.name = std::string(trim(token.substr(0, colon)));
    valueText = trim(token.substr(colon + 1));
  }
  if (!validResourceName(entry.name)) return fail("bad resource name " + inQuotes(entry.name));
  if (valueText.empty()) return fail("missing value");
  Status status = applyStaticRole(role, &entry);
  if (status.isOk()) status = parseValueText(valueText, &entry);
  if (!status.isOk()) return fail(status.message());
  return entry;
}

// Rejects one name used with two value types (`cpus:1;cpus:[1-2]`).
Status checkConsistentTypes(const Resources& resources) {
  std::map<std::string, v1::Value::Type> types;
  for (const ResourceEntry& entry : resources.entries()) {
    auto [it, inserted] = types.emplace(entry.name, entry.type);
    if (!inserted && it->second != entry.type) {
      return Status::invalidArgument("Resources with the same name (" + inQuotes(entry.name) +
                                     ") but different types are not allowed");
    }
  }
  return Status::ok();
}

Result<Resources> parseText(std::string_view text, std::string_view defaultRole) {
  Resources out;
  for (std::string_view token : split(text, ';')) {
    token = trim(token);
    if (token.empty()) continue;
    Result<ResourceEntry> entry = parseTextEntry(token, defaultRole);
    if (!entry) return entry.status();
    out.addEntry(*entry);
  }
  return out;
}

// A JSON array of Resource objects; entries without any role or reservation
// get `defaultRole`, as Mesos does.
Result<Resources> parseJsonArray(std::string_view text, std::string_view defaultRole) {
  nlohmann::json json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_array()) {
    return Status::invalidArgument("Invalid resources: expected a JSON array of Resource objects");
  }
  ResourceProtos protos;
  for (const nlohmann::json& item : json) {
    v1::Resource* proto = protos.Add();
    Status status = jsonToMessage(item, proto);
    if (status.isOk() && !proto->IsInitialized()) {
      status = Status::invalidArgument("Missing required fields: " + proto->InitializationErrorString());
    }
    if (!status.isOk()) {
      return Status::invalidArgument("Invalid resource " + item.dump() + ": " + status.message());
    }
    if (!hasLegacyRole(*proto) && proto->reservations_size() == 0 && defaultRole != "*") {
      setLegacyRole(proto, defaultRole);
    }
  }
  return Resources::fromProto(protos);
}

// ---------------------------------------------------------------- protobuf

Status validateProtoValue(const v1::Resource& proto) {
  const std::string& name = proto.name();
  auto mismatch = [&] {
    return Status::invalidArgument("Resource " + inQuotes(name) + " of type " + v1::Value::Type_Name(proto.type()) +
                                   " must carry exactly the matching value field");
  };
  switch (proto.type()) {
    case v1::Value::SCALAR:
      if (!proto.has_scalar() || proto.has_ranges() || proto.has_set()) return mismatch();
      return scalarToMillis(proto.scalar().value(), name).status();
    case v1::Value::RANGES:
      if (proto.has_scalar() || !proto.has_ranges() || proto.has_set()) return mismatch();
      for (const v1::Value::Range& range : proto.ranges().range()) {
        if (range.begin() > range.end()) {
          return Status::invalidArgument("Range [" + std::to_string(range.begin()) + "-" + std::to_string(range.end()) +
                                         "] of resource " + inQuotes(name) + " has begin > end");
        }
      }
      return Status::ok();
    case v1::Value::SET:
      if (proto.has_scalar() || proto.has_ranges() || !proto.has_set()) return mismatch();
      return Status::ok();
    default:
      return Status::invalidArgument("Resource " + inQuotes(name) + " has unsupported type " +
                                     v1::Value::Type_Name(proto.type()));
  }
}

Status checkRole(std::string_view role, std::string_view what) {
  std::string error = validateRoleName(role);
  if (!error.empty()) return Status::invalidArgument("Invalid " + std::string(what) + ": " + error);
  return Status::ok();
}

// Reads either reservation format into `entry->reservations`.
Status reservationsFromProto(const v1::Resource& proto, ResourceEntry* entry) {
  bool legacy = hasLegacyRole(proto) && legacyRole(proto) != "*";
  if (proto.reservations_size() > 0) {
    if (legacy || proto.has_reservation()) {
      return Status::invalidArgument("Resource " + inQuotes(proto.name()) +
                                     " mixes 'role'/'reservation' with 'reservations'");
    }
    for (const auto& info : proto.reservations()) {
      if (!info.has_role() || info.role() == "*") {
        return Status::invalidArgument("Reservation of resource " + inQuotes(proto.name()) + " needs a role");
      }
      Status status = checkRole(info.role(), "reservation role");
      if (!status.isOk()) return status;
      if (!entry->reservations.empty() && (entry->reservations.back().role == info.role() ||
                                           !isRoleOrDescendant(info.role(), entry->reservations.back().role))) {
        return Status::invalidArgument("Reservation role " + inQuotes(info.role()) + " of resource " +
                                       inQuotes(proto.name()) + " does not refine " +
                                       inQuotes(entry->reservations.back().role));
      }
      auto type = info.type() == v1::Resource::ReservationInfo::DYNAMIC ? Reservation::Type::kDynamic
                                                                        : Reservation::Type::kStatic;
      entry->reservations.push_back({type, info.role(), info.principal()});
    }
    return Status::ok();
  }
  if (proto.has_reservation() && !legacy) {
    return Status::invalidArgument("Resource " + inQuotes(proto.name()) + " has 'reservation' but no role");
  }
  if (legacy) {
    const std::string& role = legacyRole(proto);
    Status status = checkRole(role, "role");
    if (!status.isOk()) return status;
    if (proto.has_reservation()) {
      entry->reservations.push_back({Reservation::Type::kDynamic, role, proto.reservation().principal()});
    } else {
      entry->reservations.push_back({Reservation::Type::kStatic, role, ""});
    }
  }
  return Status::ok();
}

Result<ResourceEntry> entryFromProto(const v1::Resource& proto) {
  if (proto.name().empty()) return Status::invalidArgument("Resource name must not be empty");
  Status status = validateProtoValue(proto);
  if (!status.isOk()) return status;
  ResourceEntry entry;
  entry.name = proto.name();
  entry.type = proto.type();
  status = reservationsFromProto(proto, &entry);
  if (!status.isOk()) return status;
  if (proto.has_allocation_info() && proto.allocation_info().has_role()) {
    status = checkRole(proto.allocation_info().role(), "allocation role");
    if (!status.isOk()) return status;
    entry.allocationRole = proto.allocation_info().role();
  }
  entry.revocable = proto.has_revocable();
  switch (entry.type) {
    case v1::Value::SCALAR:
      entry.scalarMillis = *scalarToMillis(proto.scalar().value(), entry.name);
      break;
    case v1::Value::RANGES:
      for (const auto& range : proto.ranges().range()) entry.ranges.push_back({range.begin(), range.end()});
      coalesce(&entry.ranges);
      break;
    default:
      entry.items.insert(proto.set().item().begin(), proto.set().item().end());
      break;
  }
  return entry;
}

void entryToProto(const ResourceEntry& entry, v1::Resource* proto) {
  proto->set_name(entry.name);
  proto->set_type(entry.type);
  switch (entry.type) {
    case v1::Value::RANGES: {
      v1::Value::Ranges* ranges = proto->mutable_ranges();
      for (const Interval& interval : entry.ranges) {
        v1::Value::Range* range = ranges->add_range();
        range->set_begin(interval.begin);
        range->set_end(interval.end);
      }
      break;
    }
    case v1::Value::SET: {
      v1::Value::Set* set = proto->mutable_set();
      for (const std::string& item : entry.items) set->add_item(item);
      break;
    }
    default:
      proto->mutable_scalar()->set_value(entry.scalar());
      break;
  }
  for (const Reservation& reservation : entry.reservations) {
    v1::Resource::ReservationInfo* info = proto->add_reservations();
    info->set_type(reservation.type == Reservation::Type::kDynamic ? v1::Resource::ReservationInfo::DYNAMIC
                                                                   : v1::Resource::ReservationInfo::STATIC);
    info->set_role(reservation.role);
    if (!reservation.principal.empty()) info->set_principal(reservation.principal);
  }
  if (!entry.allocationRole.empty()) proto->mutable_allocation_info()->set_role(entry.allocationRole);
  if (entry.revocable) proto->mutable_revocable();
}

}  // namespace

// ---------------------------------------------------------------- ResourceEntry

bool ResourceEntry::sameMetadata(const ResourceEntry& other) const {
  return name == other.name && type == other.type && reservations == other.reservations &&
         allocationRole == other.allocationRole && revocable == other.revocable;
}

bool ResourceEntry::emptyValue() const {
  switch (type) {
    case v1::Value::RANGES:
      return ranges.empty();
    case v1::Value::SET:
      return items.empty();
    default:
      return scalarMillis == 0;
  }
}

const std::string& ResourceEntry::reservationRole() const {
  return reservations.empty() ? kUnreservedRole : reservations.back().role;
}

// ---------------------------------------------------------------- Resources

Result<Resources> Resources::parse(std::string_view text, std::string_view defaultRole) {
  std::string error = validateRoleName(defaultRole);
  if (!error.empty()) return Status::invalidArgument("Invalid default role: " + error);
  text = trim(text);
  Result<Resources> parsed = text.starts_with('[') ? parseJsonArray(text, defaultRole) : parseText(text, defaultRole);
  if (!parsed) return parsed;
  Status status = checkConsistentTypes(*parsed);
  if (!status.isOk()) return status;
  return parsed;
}

Result<Resources> Resources::fromProto(const ResourceProtos& protos) {
  Resources out;
  for (const v1::Resource& proto : protos) {
    Result<ResourceEntry> entry = entryFromProto(proto);
    if (!entry) return entry.status();
    out.addEntry(*entry);
  }
  return out;
}

void Resources::toProto(ResourceProtos* out) const {
  for (const ResourceEntry& entry : entries_) entryToProto(entry, out->Add());
}

ResourceProtos Resources::toProto() const {
  ResourceProtos out;
  toProto(&out);
  return out;
}

std::string Resources::toString() const {
  std::string out;
  for (const ResourceEntry& entry : entries_) {
    if (!out.empty()) out += ";";
    out += formatEntry(entry);
  }
  return out;
}

nlohmann::json Resources::toStateJson() const {
  std::map<std::string, int64_t> scalars;
  std::map<std::string, std::vector<Interval>> ranges;
  std::map<std::string, std::set<std::string>> sets;
  for (const ResourceEntry& entry : entries_) {
    std::string key = entry.revocable ? entry.name + "_revocable" : entry.name;
    switch (entry.type) {
      case v1::Value::RANGES:
        ranges[key].insert(ranges[key].end(), entry.ranges.begin(), entry.ranges.end());
        break;
      case v1::Value::SET:
        sets[key].insert(entry.items.begin(), entry.items.end());
        break;
      default:
        scalars[key] += entry.scalarMillis;
        break;
    }
  }
  nlohmann::json out = {{"cpus", 0}, {"gpus", 0}, {"mem", 0}, {"disk", 0}};
  for (const auto& [key, millis] : scalars) out[key] = static_cast<double>(millis) / kMillisPerUnit;
  for (auto& [key, intervals] : ranges) {
    coalesce(&intervals);
    out[key] = formatIntervals(intervals);
  }
  for (const auto& [key, items] : sets) out[key] = formatSet(items);
  return out;
}

bool Resources::contains(const Resources& other) const {
  for (const ResourceEntry& wanted : other.entries_) {
    auto have = std::find_if(entries_.begin(), entries_.end(),
                             [&](const ResourceEntry& entry) { return entry.sameMetadata(wanted); });
    if (have == entries_.end() || !containsValue(*have, wanted)) return false;
  }
  return true;
}

void Resources::addEntry(const ResourceEntry& entry) {
  if (entry.emptyValue()) return;
  auto same = std::find_if(entries_.begin(), entries_.end(),
                           [&](const ResourceEntry& existing) { return existing.sameMetadata(entry); });
  if (same != entries_.end()) {
    addValue(&*same, entry);
    return;
  }
  entries_.push_back(entry);
  if (entry.type == v1::Value::RANGES) coalesce(&entries_.back().ranges);
}

Resources& Resources::operator+=(const Resources& other) {
  for (const ResourceEntry& entry : other.entries_) addEntry(entry);
  return *this;
}

Resources& Resources::operator-=(const Resources& other) {
  for (const ResourceEntry& removed : other.entries_) {
    auto have = std::find_if(entries_.begin(), entries_.end(),
                             [&](const ResourceEntry& entry) { return entry.sameMetadata(removed); });
    if (have == entries_.end()) continue;
    subtractValue(&*have, removed);
    if (have->emptyValue()) entries_.erase(have);
  }
  return *this;
}

bool Resources::operator==(const Resources& other) const {
  if (entries_.size() != other.entries_.size()) return false;
  return std::all_of(entries_.begin(), entries_.end(), [&](const ResourceEntry& mine) {
    return std::any_of(other.entries_.begin(), other.entries_.end(), [&](const ResourceEntry& theirs) {
      return mine.sameMetadata(theirs) && sameValue(mine, theirs);
    });
  });
}

double Resources::scalar(std::string_view name) const {
  int64_t millis = 0;
  for (const ResourceEntry& entry : entries_) {
    if (entry.type == v1::Value::SCALAR && entry.name == name) millis += entry.scalarMillis;
  }
  return static_cast<double>(millis) / kMillisPerUnit;
}

std::map<std::string, double> Resources::scalarQuantities() const {
  std::map<std::string, int64_t> millis;
  for (const ResourceEntry& entry : entries_) {
    if (entry.type == v1::Value::SCALAR) millis[entry.name] += entry.scalarMillis;
  }
  std::map<std::string, double> out;
  for (const auto& [name, value] : millis) out[name] = static_cast<double>(value) / kMillisPerUnit;
  return out;
}

Resources Resources::allocatedTo(std::string_view role) const {
  return filter([&](const ResourceEntry& entry) { return entry.allocationRole == role; });
}

Resources Resources::withAllocationRole(std::string_view role) const {
  Resources out;
  for (ResourceEntry entry : entries_) {
    entry.allocationRole = std::string(role);
    out.addEntry(entry);
  }
  return out;
}

Resources Resources::withoutAllocation() const { return withAllocationRole(""); }

Resources Resources::reservedFor(std::string_view role) const {
  return filter(
      [&](const ResourceEntry& entry) { return !entry.reservations.empty() && entry.reservationRole() == role; });
}

Resources Resources::unreserved() const {
  return filter([](const ResourceEntry& entry) { return entry.reservations.empty(); });
}

Resources Resources::reserved() const {
  return filter([](const ResourceEntry& entry) { return !entry.reservations.empty(); });
}

Resources Resources::allocatableTo(std::string_view role) const {
  return filter([&](const ResourceEntry& entry) {
    return entry.reservations.empty() || isRoleOrDescendant(role, entry.reservationRole());
  });
}

Resources Resources::revocable() const {
  return filter([](const ResourceEntry& entry) { return entry.revocable; });
}

Resources Resources::nonRevocable() const {
  return filter([](const ResourceEntry& entry) { return !entry.revocable; });
}

std::ostream& operator<<(std::ostream& out, const Resources& resources) { return out << resources.toString(); }

bool isRoleOrDescendant(std::string_view role, std::string_view ancestor) {
  if (role == ancestor) return true;
  return role.size() > ancestor.size() && role.starts_with(ancestor) && role[ancestor.size()] == '/';
}

}  // namespace mezzo
