#include "agent/fetcher_uri.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <vector>

namespace mezzo::agent {

namespace {

std::string lowered(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

bool endsWithIgnoringCase(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && lowered(text.substr(text.size() - suffix.size())) == suffix;
}

// The scheme of "scheme://rest", lowered; empty when there is none.
std::string schemeOf(std::string_view uri) {
  size_t at = uri.find("://");
  if (at == std::string_view::npos || at == 0) return {};
  return lowered(uri.substr(0, at));
}

// The path of an http(s) URL: after the authority, without query or fragment.
std::string_view urlPath(std::string_view url) {
  std::string_view rest = url.substr(url.find("://") + 3);
  size_t slash = rest.find('/');
  if (slash == std::string_view::npos) return {};
  std::string_view path = rest.substr(slash);
  return path.substr(0, path.find_first_of("?#"));
}

Result<std::string> lastComponent(std::string_view path, std::string_view uri) {
  std::string_view name = path.substr(path.find_last_of('/') + 1);
  if (name.empty() || name == "." || name == "..") {
    return Status::invalidArgument("URI '" + std::string(uri) +
                                   "' does not name a file (its path has no last component)");
  }
  return std::string(name);
}

}  // namespace

Result<FetchSource> parseFetchSource(std::string_view uri) {
  if (uri.empty()) return Status::invalidArgument("Empty URI");
  if (uri.find('\0') != std::string_view::npos) return Status::invalidArgument("URI contains a NUL character");
  if (uri.front() == '/') return FetchSource{FetchSource::Kind::kLocalFile, std::string(uri)};
  const std::string scheme = schemeOf(uri);
  if (scheme.empty()) {
    return Status::invalidArgument("Relative path '" + std::string(uri) +
                                   "': only absolute paths and file://, http:// and https:// URIs can be fetched");
  }
  if (scheme == "http" || scheme == "https") {
    if (uri.size() == scheme.size() + 3 || uri[scheme.size() + 3] == '/') {
      return Status::invalidArgument("URI '" + std::string(uri) + "' has no host");
    }
    return FetchSource{FetchSource::Kind::kHttp, std::string(uri)};
  }
  if (scheme == "file") {
    std::string_view rest = uri.substr(7);
    if (rest.starts_with("localhost/")) rest.remove_prefix(9);
    if (!rest.starts_with('/')) {
      return Status::invalidArgument("File URI '" + std::string(uri) +
                                     "' must name an absolute path on this host (file:///path)");
    }
    return FetchSource{FetchSource::Kind::kLocalFile, std::string(rest)};
  }
  return Status::invalidArgument("Unsupported URI scheme '" + scheme + "' (supported: file, http, https)");
}

Result<std::string> fetchedFileName(const v1::CommandInfo::URI& uri) {
  if (uri.has_output_file()) {
    const std::string& output = uri.output_file();
    if (output.empty()) return Status::invalidArgument("URI output_file is empty");
    if (output.front() == '/') {
      return Status::invalidArgument("URI output_file '" + output + "' must be relative to the sandbox");
    }
    auto contained = containedEntryPath(output);
    if (!contained) return Status::invalidArgument("URI output_file '" + output + "': " + contained.error());
    if (contained->empty() || output.back() == '/') {
      return Status::invalidArgument("URI output_file '" + output + "' names a directory, not a file");
    }
    return *contained;
  }
  auto source = parseFetchSource(uri.value());
  if (!source) return source.status();
  if (source->kind == FetchSource::Kind::kHttp) return lastComponent(urlPath(uri.value()), uri.value());
  return lastComponent(source->location, uri.value());
}

ArchiveType archiveTypeOf(std::string_view fileName) {
  static constexpr std::array<std::string_view, 8> kArchives = {".tar",  ".tar.gz", ".tgz", ".tar.bz2",
                                                                ".tbz2", ".tar.xz", ".txz", ".zip"};
  for (std::string_view suffix : kArchives) {
    if (endsWithIgnoringCase(fileName, suffix) && fileName.size() > suffix.size()) return ArchiveType::kArchive;
  }
  if (endsWithIgnoringCase(fileName, ".gz") && fileName.size() > 3) return ArchiveType::kGzip;
  return ArchiveType::kNone;
}

std::string gunzippedName(std::string_view fileName) {
  if (endsWithIgnoringCase(fileName, ".gz")) fileName.remove_suffix(3);
  return std::string(fileName);
}

Result<std::string> containedEntryPath(std::string_view entry) {
  if (entry.starts_with('/')) return Status::invalidArgument("absolute path '" + std::string(entry) + "'");
  std::vector<std::string_view> kept;
  size_t start = 0;
  while (start <= entry.size()) {
    size_t slash = entry.find('/', start);
    std::string_view part =
        entry.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (part == "..") {
      if (kept.empty()) return Status::invalidArgument("path '" + std::string(entry) + "' leaves the sandbox");
      kept.pop_back();
    } else if (!part.empty() && part != ".") {
      kept.push_back(part);
    }
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  std::string out;
  for (std::string_view part : kept) {
    if (!out.empty()) out += '/';
    out += part;
  }
  return out;
}

Result<uint64_t> parseByteSize(std::string_view text) {
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end == text.data()) {
    return Status::invalidArgument("'" + std::string(text) + "' is not a byte size (e.g. 2GB, 512MB)");
  }
  const std::string unit = lowered(std::string_view(end, static_cast<size_t>(text.data() + text.size() - end)));
  static constexpr std::array<std::pair<std::string_view, int>, 5> kUnits = {
      {{"b", 0}, {"kb", 10}, {"mb", 20}, {"gb", 30}, {"tb", 40}}};
  for (const auto& [name, shift] : kUnits) {
    if (unit != name) continue;
    if (shift > 0 && value > (UINT64_MAX >> shift))
      return Status::invalidArgument("Byte size '" + std::string(text) + "' is too large");
    return value << shift;
  }
  return Status::invalidArgument("'" + std::string(text) + "' has no byte unit (B, KB, MB, GB, TB)");
}

}  // namespace mezzo::agent
