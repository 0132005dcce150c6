// HTTP(S) downloads (libcurl easy handles, one per call) and local copies.
#include <curl/curl.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <mutex>

#include "agent/fetch_io.hpp"

namespace mezzo::agent {

namespace fs = std::filesystem;

namespace {

struct CurlDeleter {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
};
struct FileCloser {
  void operator()(std::FILE* file) const { std::fclose(file); }
};

size_t writeToFile(char* data, size_t size, size_t count, void* file) {
  return std::fwrite(data, size, count, static_cast<std::FILE*>(file)) * size;
}

int checkCancelled(void* flag, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  const auto* cancelled = static_cast<const std::atomic<bool>*>(flag);
  return cancelled != nullptr && cancelled->load() ? 1 : 0;
}

}  // namespace

void initFetchIo() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

Status downloadUrl(const std::string& url, const std::string& destination, const DownloadOptions& options) {
  initFetchIo();
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (!curl) return Status::internal("Cannot create a curl handle");
  std::unique_ptr<std::FILE, FileCloser> file(std::fopen(destination.c_str(), "wb"));
  if (!file) return Status::ioError("Cannot create " + destination + ": " + std::strerror(errno));
  const long stallSeconds = std::max<long>(
      1, static_cast<long>(std::chrono::duration_cast<std::chrono::seconds>(options.stallTimeout).count()));
  char error[CURL_ERROR_SIZE] = {};
  CURL* handle = curl.get();
  curl_easy_setopt(handle, CURLOPT_URL, url.c_str());
  curl_easy_setopt(handle, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);  // several threads download at once
  curl_easy_setopt(handle, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(handle, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(handle, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(handle, CURLOPT_MAXREDIRS, 20L);
  curl_easy_setopt(handle, CURLOPT_FAILONERROR, 1L);
  curl_easy_setopt(handle, CURLOPT_CONNECTTIMEOUT, stallSeconds);
  curl_easy_setopt(handle, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(handle, CURLOPT_LOW_SPEED_TIME, stallSeconds);
  curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, writeToFile);
  curl_easy_setopt(handle, CURLOPT_WRITEDATA, file.get());
  curl_easy_setopt(handle, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(handle, CURLOPT_XFERINFOFUNCTION, checkCancelled);
  curl_easy_setopt(handle, CURLOPT_XFERINFODATA, const_cast<std::atomic<bool>*>(options.cancelled));
  CURLcode code = curl_easy_perform(handle);
  const bool flushed = std::fflush(file.get()) == 0;
  file.reset();
  Status status;
  if (code == CURLE_HTTP_RETURNED_ERROR) {
    long httpCode = 0;
    curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &httpCode);
    status = Status::unavailable("HTTP " + std::to_string(httpCode));
  } else if (code == CURLE_ABORTED_BY_CALLBACK) {
    status = Status::unavailable("cancelled");
  } else if (code == CURLE_OPERATION_TIMEDOUT) {
    status =
        Status::unavailable("stalled for " + std::to_string(stallSeconds) + "s (--fetcher_stall_timeout): " + error);
  } else if (code != CURLE_OK) {
    status = Status::unavailable(error[0] != '\0' ? std::string(error) : std::string(curl_easy_strerror(code)));
  } else if (!flushed) {
    status = Status::ioError("Cannot write " + destination);
  }
  if (!status) {
    std::error_code ignored;
    fs::remove(destination, ignored);
  }
  return status;
}

Status copyLocalFile(const std::string& from, const std::string& destination) {
  std::error_code ec;
  if (!fs::is_regular_file(from, ec)) {
    return Status::notFound(fs::exists(from, ec) ? "'" + from + "' is not a regular file"
                                                 : "'" + from + "' does not exist");
  }
  fs::copy_file(from, destination, fs::copy_options::overwrite_existing, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(destination, ignored);
    return Status::ioError("Cannot copy '" + from + "': " + ec.message());
  }
  return Status::ok();
}

}  // namespace mezzo::agent
