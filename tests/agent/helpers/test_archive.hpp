// Archives for fetcher tests, written in memory with libarchive: tarballs
// (gzip or bzip2), zips and plain gzip files with chosen entries, including
// hostile ones (names with `..`, absolute names, escaping symbolic links).
//
// Thread-safety: stateless functions.
#pragma once

#include <string>
#include <vector>

namespace mezzo::testhelpers {

struct ArchiveEntry {
  std::string name;
  std::string content;         // regular file body
  std::string symlinkTo = {};  // when set, the entry is a symbolic link to it
};

enum class ArchiveFormat { kTarGz, kTarBz2, kZip, kGzipOnly };

// The bytes of an archive holding `entries` (kGzipOnly: the first entry's
// content, gzip-compressed). Empty if libarchive refused something.
std::string makeArchive(ArchiveFormat format, const std::vector<ArchiveEntry>& entries);

}  // namespace mezzo::testhelpers
