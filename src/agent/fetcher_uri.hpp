// The pure rules of the fetcher (CommandInfo.URI): which scheme a URI uses
// and where its bytes come from, what the fetched file is called in the
// sandbox, whether it is an archive and of which kind, where an archive
// entry may land (never outside the sandbox), and the byte sizes of the
// --fetcher_cache_size flag. No I/O here; fetcher.cpp does the work.
//
// Thread-safety: stateless functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "mezzo/common/status.hpp"
#include "mezzo/v1/mesos.pb.h"

namespace mezzo::agent {

// Where a URI's bytes come from.
struct FetchSource {
  enum class Kind { kLocalFile, kHttp };
  Kind kind = Kind::kLocalFile;
  std::string location;  // absolute path (kLocalFile) or the URL as given (kHttp)
};

// `file:///p`, `file://localhost/p` and `/p` are local files; `http://` and
// `https://` (any case) are downloaded. Relative paths, other hosts in file
// URIs and every other scheme are refused with a reason.
Result<FetchSource> parseFetchSource(std::string_view uri);

// The sandbox-relative path a URI is fetched to: `output_file` when set
// (relative, inside the sandbox, not naming a directory), else the last
// component of the URI's path (without query or fragment).
Result<std::string> fetchedFileName(const v1::CommandInfo::URI& uri);

enum class ArchiveType {
  kNone,     // not extracted
  kArchive,  // .tar, .tar.gz, .tgz, .tar.bz2, .tbz2, .tar.xz, .txz, .zip: unpacked into the sandbox
  kGzip,     // plain .gz: decompressed beside itself, without the suffix
};

// Decided by the file name's suffix (case-insensitive), as Mesos does.
ArchiveType archiveTypeOf(std::string_view fileName);

// What a fetched `.gz` file decompresses to: the name without the suffix.
std::string gunzippedName(std::string_view fileName);

// Where an archive entry named `entry` may be written, relative to the
// extraction directory: the lexically normalised path ("a/./b/../c" ->
// "a/c"). Absolute names and names whose `..` climb above the directory
// are refused. An empty result ("./") means the directory itself.
Result<std::string> containedEntryPath(std::string_view entry);

// Mesos byte sizes: an integer with a unit B, KB, MB, GB or TB (powers of
// 1024), e.g. "2GB", "512MB", "0B".
Result<uint64_t> parseByteSize(std::string_view text);

}  // namespace mezzo::agent
