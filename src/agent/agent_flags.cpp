#include "agent/agent_flags.hpp"

#include <sys/statvfs.h>
#include <unistd.h>

#include <charconv>
#include <filesystem>
#include <fstream>
#include <thread>

#include "mezzo/common/strings.hpp"

namespace mezzo::agent {

namespace {

constexpr uint64_t kMiB = 1024 * 1024;
constexpr uint64_t kGiB = 1024 * kMiB;

uint64_t totalMemoryBytes() {
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  uint64_t kib = 0;
  std::string unit;
  while (meminfo >> key >> kib >> unit) {
    if (key == "MemTotal:") return kib * 1024;
  }
  long pages = sysconf(_SC_PHYS_PAGES);
  long pageSize = sysconf(_SC_PAGESIZE);
  return pages > 0 && pageSize > 0 ? static_cast<uint64_t>(pages) * static_cast<uint64_t>(pageSize) : 0;
}

uint64_t fileSystemBytes(const std::string& path) {
  std::filesystem::path probe = path.empty() ? std::filesystem::path("/") : std::filesystem::path(path);
  std::error_code ec;
  while (!probe.empty() && !std::filesystem::exists(probe, ec) && probe != probe.root_path()) {
    probe = probe.parent_path();
  }
  struct statvfs stats {};
  if (statvfs(probe.empty() ? "/" : probe.c_str(), &stats) != 0) return 0;
  return static_cast<uint64_t>(stats.f_blocks) * stats.f_frsize;
}

Result<double> parseNumber(std::string_view text) {
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return Status::invalidArgument("not a number");
  return value;
}

Result<v1::Value::Ranges> parseRanges(std::string_view text) {
  v1::Value::Ranges ranges;
  std::string_view body = trim(text.substr(1, text.size() - 2));
  if (body.empty()) return ranges;
  for (std::string_view piece : split(body, ',')) {
    piece = trim(piece);
    size_t dash = piece.find('-');
    uint64_t begin = 0;
    uint64_t end = 0;
    std::string_view first = trim(piece.substr(0, dash));
    std::string_view second = dash == std::string_view::npos ? first : trim(piece.substr(dash + 1));
    auto r1 = std::from_chars(first.data(), first.data() + first.size(), begin);
    auto r2 = std::from_chars(second.data(), second.data() + second.size(), end);
    if (r1.ec != std::errc() || r1.ptr != first.data() + first.size() || r2.ec != std::errc() ||
        r2.ptr != second.data() + second.size() || begin > end) {
      return Status::invalidArgument("Malformed range '" + std::string(piece) + "'");
    }
    v1::Value::Range* range = ranges.add_range();
    range->set_begin(begin);
    range->set_end(end);
  }
  return ranges;
}

Result<v1::Attribute> parseAttribute(std::string_view token) {
  size_t colon = token.find(':');
  if (colon == std::string_view::npos) {
    return Status::invalidArgument("Invalid attribute '" + std::string(token) + "': expected name:value");
  }
  std::string_view name = trim(token.substr(0, colon));
  std::string_view value = trim(token.substr(colon + 1));
  if (name.empty()) return Status::invalidArgument("Attribute '" + std::string(token) + "' has no name");
  v1::Attribute attribute;
  attribute.set_name(std::string(name));
  if (value.size() >= 2 && value.front() == '[' && value.back() == ']') {
    auto ranges = parseRanges(value);
    if (!ranges) return Status::invalidArgument("Invalid attribute '" + std::string(name) + "': " + ranges.error());
    attribute.set_type(v1::Value::RANGES);
    *attribute.mutable_ranges() = std::move(*ranges);
  } else if (value.size() >= 2 && value.front() == '{' && value.back() == '}') {
    attribute.set_type(v1::Value::SET);
    for (std::string_view item : split(value.substr(1, value.size() - 2), ',')) {
      item = trim(item);
      if (!item.empty()) attribute.mutable_set()->add_item(std::string(item));
    }
  } else if (auto number = parseNumber(value); number) {
    attribute.set_type(v1::Value::SCALAR);
    attribute.mutable_scalar()->set_value(*number);
  } else {
    attribute.set_type(v1::Value::TEXT);
    attribute.mutable_text()->set_value(std::string(value));
  }
  return attribute;
}

}  // namespace

HostCapacity detectHostCapacity(const std::string& workDir) {
  HostCapacity host;
  host.cpus = std::max(1u, std::thread::hardware_concurrency());
  host.memoryBytes = totalMemoryBytes();
  host.diskBytes = fileSystemBytes(workDir);
  return host;
}

Result<Resources> agentResources(const std::string& flagText, const HostCapacity& host) {
  Resources resources;
  if (!trim(flagText).empty()) {
    auto parsed = Resources::parse(flagText);
    if (!parsed) return Status::invalidArgument("Invalid --resources: " + parsed.error());
    resources = std::move(*parsed);
  }
  auto has = [&](std::string_view name) {
    return std::any_of(resources.entries().begin(), resources.entries().end(),
                       [&](const ResourceEntry& entry) { return entry.name == name; });
  };
  std::string detected;
  auto append = [&](const std::string& item) { detected += (detected.empty() ? "" : ";") + item; };
  if (!has("cpus")) append("cpus:" + std::to_string(host.cpus));
  if (!has("mem")) {
    uint64_t mem = host.memoryBytes >= 2 * kGiB ? host.memoryBytes - kGiB : host.memoryBytes / 2;
    append("mem:" + std::to_string(mem / kMiB));
  }
  if (!has("disk")) {
    uint64_t disk = host.diskBytes >= 10 * kGiB ? host.diskBytes - 5 * kGiB : host.diskBytes / 2;
    append("disk:" + std::to_string(disk / kMiB));
  }
  if (!has("ports")) append("ports:[31000-32000]");
  if (!detected.empty()) {
    auto extra = Resources::parse(detected);
    if (!extra) return extra.status();
    resources += *extra;
  }
  return resources;
}

Result<std::vector<v1::Attribute>> parseAttributes(const std::string& text) {
  std::vector<v1::Attribute> attributes;
  for (std::string_view token : split(text, ';')) {
    token = trim(token);
    if (token.empty()) continue;
    auto attribute = parseAttribute(token);
    if (!attribute) return attribute.status();
    attributes.push_back(std::move(*attribute));
  }
  return attributes;
}

Status checkReconfiguration(ReconfigurationPolicy policy, const v1::AgentInfo& previous,
                            const v1::AgentInfo& current) {
  auto before = Resources::fromProto(previous.resources());
  auto after = Resources::fromProto(current.resources());
  if (!before || !after) return Status::internal("Unreadable agent resources in the checkpoint");
  const bool additive = policy == ReconfigurationPolicy::kAdditive;
  const std::string allowed = additive ? " (--reconfiguration_policy=additive allows only additions)"
                                       : " (--reconfiguration_policy=equal allows no change)";
  if (additive ? !after->contains(*before) : !(*after == *before)) {
    return Status::failedPrecondition("Incompatible agent info: resources changed from " + before->toString() +
                                      " to " + after->toString() + allowed);
  }
  std::map<std::string, std::string> attributes;
  for (const v1::Attribute& attribute : current.attributes()) {
    attributes[attribute.name()] = attribute.SerializeAsString();
  }
  for (const v1::Attribute& attribute : previous.attributes()) {
    auto it = attributes.find(attribute.name());
    if (it == attributes.end() || it->second != attribute.SerializeAsString()) {
      return Status::failedPrecondition("Incompatible agent info: attribute '" + attribute.name() +
                                        "' was removed or changed" + allowed);
    }
    attributes.erase(it);
  }
  if (!additive && !attributes.empty()) {
    return Status::failedPrecondition("Incompatible agent info: attribute '" + attributes.begin()->first +
                                      "' was added" + allowed);
  }
  return Status::ok();
}

std::string selfExecutableDir() {
  std::error_code ec;
  std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return {};
  return self.parent_path().string();
}

}  // namespace mezzo::agent
