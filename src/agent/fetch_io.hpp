// The fetcher's blocking I/O: downloading over HTTP(S) with libcurl,
// copying local files, unpacking archives and gunzipping with libarchive.
// Each call writes its output completely or returns an error (partial
// output files are removed); `cancelled`, when set by another thread, makes
// a running call stop early with an error.
//
// Thread-safety: the functions may run on several threads at once (each
// call uses its own curl/libarchive handles); call initFetchIo() once first.
#pragma once

#include <atomic>
#include <string>

#include "mezzo/common/clock.hpp"
#include "mezzo/common/status.hpp"

namespace mezzo::agent {

// Global libcurl set-up; idempotent and safe to call from any thread.
void initFetchIo();

struct DownloadOptions {
  // A transfer making no progress (under one byte per second) for this
  // long is aborted, as with Mesos's --fetcher_stall_timeout. Whole seconds.
  Duration stallTimeout = std::chrono::minutes(1);
  const std::atomic<bool>* cancelled = nullptr;
};

// GET `url` into `destination`, following redirects (to http/https only).
// An HTTP status of 400 or more is an error naming the status.
Status downloadUrl(const std::string& url, const std::string& destination, const DownloadOptions& options);

// Copies the regular file `from` to `destination` (replaced if present).
Status copyLocalFile(const std::string& from, const std::string& destination);

// Unpacks the archive `archive` (tar with any compression, or zip) into the
// directory `destination`. Entries that are absolute or climb out of it with
// `..`, links pointing outside it, and devices are refused: nothing more is
// written and the error names the entry. Owners are not restored.
Status extractArchive(const std::string& archive, const std::string& destination, const std::atomic<bool>* cancelled);

// Decompresses the gzip file `gz` into `destination`.
Status gunzipFile(const std::string& gz, const std::string& destination);

}  // namespace mezzo::agent
