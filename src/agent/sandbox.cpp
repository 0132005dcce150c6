#include "agent/sandbox.hpp"

#include <filesystem>
#include <vector>

namespace mezzo::agent {

namespace fs = std::filesystem;

namespace {

// Number of path components from `slaves` down to a run directory:
// slaves/<A>/frameworks/<F>/executors/<E>/runs/<C>.
constexpr size_t kRunDepth = 8;

std::vector<std::string> components(std::string_view path) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    std::string_view part = path.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (!part.empty() && part != ".") parts.emplace_back(part);
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return parts;
}

std::string join(const std::vector<std::string>& parts, size_t from = 0) {
  std::string out;
  for (size_t i = from; i < parts.size(); ++i) out += "/" + parts[i];
  return out;
}

std::string normalizedWorkDir(const std::string& workDir) {
  std::error_code ec;
  fs::path absolute = fs::absolute(workDir, ec);
  return join(components(ec ? workDir : absolute.string()));
}

}  // namespace

std::string runsDirectory(const std::string& workDir, const SandboxId& id) {
  return normalizedWorkDir(workDir) + "/slaves/" + id.agent + "/frameworks/" + id.framework + "/executors/" +
         id.executor + "/runs";
}

std::string sandboxDirectory(const std::string& workDir, const SandboxId& id) {
  return runsDirectory(workDir, id) + "/" + id.container;
}

Result<std::string> mapFilesPath(const std::string& workDir, const std::string& agentId, std::string_view requested) {
  if (requested.empty()) return Status::invalidArgument("Expecting 'path' to be present");
  if (requested.find('\0') != std::string_view::npos) return Status::permissionDenied("Invalid path");
  std::vector<std::string> parts = components(requested);
  for (const std::string& part : parts) {
    if (part == "..") return Status::permissionDenied("Path '" + std::string(requested) + "' may not contain '..'");
  }
  if (!parts.empty() && parts.front() == "frameworks") {
    if (agentId.empty()) return Status::notFound("The agent is not registered yet");
    return normalizedWorkDir(workDir) + "/slaves/" + agentId + join(parts);
  }
  std::string path = join(parts);
  std::string root = normalizedWorkDir(workDir) + "/slaves/";
  if (!requested.starts_with('/') || !path.starts_with(root)) {
    return Status::permissionDenied("Path '" + std::string(requested) + "' is not in a sandbox");
  }
  return path;
}

Result<std::string> confineToSandboxes(const std::string& workDir, const std::string& path) {
  std::error_code ec;
  fs::path canonical = fs::canonical(path, ec);
  if (ec) return Status::notFound("File '" + path + "' does not exist");
  fs::path root = fs::canonical(normalizedWorkDir(workDir), ec);
  if (ec) return Status::notFound("The work directory does not exist");
  std::vector<std::string> rootParts = components(root.string());
  std::vector<std::string> parts = components(canonical.string());
  bool inside = parts.size() >= rootParts.size() + kRunDepth;
  for (size_t i = 0; inside && i < rootParts.size(); ++i) inside = parts[i] == rootParts[i];
  if (inside) {
    const size_t base = rootParts.size();
    inside = parts[base] == "slaves" && parts[base + 2] == "frameworks" && parts[base + 4] == "executors" &&
             parts[base + 6] == "runs";
  }
  if (!inside) return Status::permissionDenied("Path '" + path + "' is not in a sandbox");
  return canonical.string();
}

Result<std::string> resolveFilesPath(const std::string& workDir, const std::string& agentId,
                                     std::string_view requested) {
  auto mapped = mapFilesPath(workDir, agentId, requested);
  if (!mapped) return mapped;
  return confineToSandboxes(workDir, *mapped);
}

}  // namespace mezzo::agent
