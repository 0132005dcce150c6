#include "agent/fetcher.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <filesystem>
#include <fstream>

#include "agent/fetch_io.hpp"
#include "agent/fetcher_uri.hpp"

namespace mezzo::agent {

namespace fs = std::filesystem;

namespace {

constexpr auto kPendingRecheck = std::chrono::milliseconds(500);

// Appends a line to the sandbox's stderr, where Mesos's fetcher output goes too.
void sandboxLog(const std::string& sandbox, const std::string& line) {
  std::ofstream out(sandbox + "/stderr", std::ios::app);
  out << line << '\n';
}

// Refuses to write `target` if it is a symbolic link or its directory
// resolves (through links an earlier archive made) outside `sandbox`.
Status checkWritableInside(const std::string& sandbox, const std::string& target) {
  std::error_code ec;
  const fs::path root = fs::canonical(sandbox, ec);
  if (ec) return Status::ioError("Cannot resolve the sandbox " + sandbox + ": " + ec.message());
  const fs::path parent = fs::weakly_canonical(fs::path(target).parent_path(), ec);
  const std::string rootText = root.string() + "/";
  if (ec || (parent != root && !(parent.string() + "/").starts_with(rootText))) {
    return Status::invalidArgument("'" + target + "' resolves outside the sandbox");
  }
  if (fs::is_symlink(fs::symlink_status(target, ec))) {
    return Status::invalidArgument("'" + target + "' is a symbolic link");
  }
  return Status::ok();
}

}  // namespace

Fetcher::Fetcher(boost::asio::io_context& io, FetcherOptions options)
    : io_(io), options_(std::move(options)), cache_(options_.cacheSize) {}

Fetcher::~Fetcher() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    for (auto& [container, flag] : cancelFlags_) flag->store(true);
  }
  jobsChanged_.notify_all();
  cacheChanged_.notify_all();
  for (std::thread& worker : workers_) worker.join();
}

Status Fetcher::start() {
  initFetchIo();
  std::error_code ec;
  fs::remove_all(options_.cacheDir, ec);
  if (ec) return Status::ioError("Cannot empty --fetcher_cache_dir " + options_.cacheDir + ": " + ec.message());
  fs::create_directories(options_.cacheDir, ec);
  if (ec) return Status::ioError("Cannot create --fetcher_cache_dir " + options_.cacheDir + ": " + ec.message());
  for (size_t i = 0; i < std::max<size_t>(1, options_.threads); ++i) workers_.emplace_back([this] { work(); });
  return Status::ok();
}

void Fetcher::fetch(FetchRequest request, Done done) {
  auto flag = std::make_shared<std::atomic<bool>>(false);
  {
    std::lock_guard lock(mutex_);
    cancelFlags_[request.containerId] = flag;
    queue_.push_back(Job{std::move(request), std::move(done), std::move(flag)});
  }
  jobsChanged_.notify_one();
}

void Fetcher::cancel(const std::string& containerId) {
  {
    std::lock_guard lock(mutex_);
    auto it = cancelFlags_.find(containerId);
    if (it == cancelFlags_.end()) return;
    it->second->store(true);
  }
  cacheChanged_.notify_all();
}

FetcherMetrics Fetcher::metrics() const {
  std::lock_guard lock(mutex_);
  FetcherMetrics out = counts_;
  out.cacheTotalBytes = cache_.capacityBytes();
  out.cacheUsedBytes = cache_.usedBytes();
  return out;
}

void Fetcher::work() {
  while (true) {
    Job job;
    {
      std::unique_lock lock(mutex_);
      jobsChanged_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    Status status;
    try {
      status = job.cancelled->load() ? Status::unavailable("cancelled") : runJob(job);
    } catch (const std::exception& e) {  // e.g. bad_alloc: fail the job, not the agent
      status = Status::internal(std::string("Fetcher error: ") + e.what());
    }
    {
      std::lock_guard lock(mutex_);
      auto it = cancelFlags_.find(job.request.containerId);
      if (it != cancelFlags_.end() && it->second == job.cancelled) cancelFlags_.erase(it);
      if (!job.cancelled->load()) ++(status ? counts_.fetchesSucceeded : counts_.fetchesFailed);
    }
    boost::asio::post(io_, [done = std::move(job.done), status] { done(status); });
  }
}

Status Fetcher::runJob(const Job& job) {
  for (const v1::CommandInfo::URI& uri : job.request.uris) {
    Status status = fetchUri(uri, job);
    if (!status) {
      const std::string message = "Failed to fetch URI '" + uri.value() + "': " + status.message();
      spdlog::warn("Container {}: {}", job.request.containerId, message);
      sandboxLog(job.request.sandbox, message);
      return Status(status.code(), message);
    }
  }
  return Status::ok();
}

Status Fetcher::fetchUri(const v1::CommandInfo::URI& uri, const Job& job) {
  auto name = fetchedFileName(uri);
  if (!name) return name.status();
  const std::string& sandbox = job.request.sandbox;
  const std::string target = sandbox + "/" + *name;
  if (Status inside = checkWritableInside(sandbox, target); !inside) return inside;
  std::error_code ec;
  fs::create_directories(fs::path(target).parent_path(), ec);
  if (ec) return Status::ioError("Cannot create the directory of " + target + ": " + ec.message());
  auto how = obtain(uri, target, job);
  if (!how) return how.status();
  std::string done = *how;
  if (uri.executable()) {
    fs::permissions(target, fs::perms(0755), fs::perm_options::replace, ec);
    if (ec) return Status::ioError("Cannot make " + target + " executable: " + ec.message());
    done += ", made executable";
  } else if (uri.extract()) {
    Status unpacked;
    switch (archiveTypeOf(*name)) {
      case ArchiveType::kArchive:
        unpacked = extractArchive(target, sandbox, job.cancelled.get());
        done += ", extracted into the sandbox";
        break;
      case ArchiveType::kGzip: {
        const std::string gunzipped = sandbox + "/" + gunzippedName(*name);
        unpacked = checkWritableInside(sandbox, gunzipped);
        if (unpacked) unpacked = gunzipFile(target, gunzipped);
        done += ", decompressed to " + gunzippedName(*name);
        break;
      }
      case ArchiveType::kNone:
        break;
    }
    if (!unpacked) return Status(unpacked.code(), "Failed to extract " + *name + ": " + unpacked.message());
  }
  const std::string line = "Fetched '" + uri.value() + "' to " + *name + " (" + done + ")";
  spdlog::info("Container {}: {}", job.request.containerId, line);
  sandboxLog(sandbox, line);
  return Status::ok();
}

Result<std::string> Fetcher::obtain(const v1::CommandInfo::URI& uri, const std::string& target, const Job& job) {
  if (uri.cache()) return obtainCached(uri, target, job);
  Status status = transfer(uri.value(), target, job);
  if (!status) return status;
  return std::string("fetched directly");
}

Status Fetcher::transfer(const std::string& uri, const std::string& target, const Job& job) const {
  auto source = parseFetchSource(uri);
  if (!source) return source.status();
  if (source->kind == FetchSource::Kind::kLocalFile) return copyLocalFile(source->location, target);
  return downloadUrl(source->location, target, DownloadOptions{options_.stallTimeout, job.cancelled.get()});
}

Result<std::string> Fetcher::obtainCached(const v1::CommandInfo::URI& uri, const std::string& target, const Job& job) {
  const std::string key = FetcherCache::key(job.request.user, uri.value());
  const std::string baseName = fs::path(target).filename().string();
  std::unique_lock lock(mutex_);
  while (true) {
    if (job.cancelled->load()) return Status::unavailable("cancelled");
    FetcherCache::Lookup found = cache_.lookup(key, baseName);
    if (found.outcome == FetcherCache::Outcome::kPending) {
      cacheChanged_.wait_for(lock, kPendingRecheck);
      continue;
    }
    lock.unlock();
    const std::string cached = options_.cacheDir + "/" + found.file;
    if (found.outcome == FetcherCache::Outcome::kHit) {
      Status copied = copyLocalFile(cached, target);
      lock.lock();
      cache_.release(key);
      if (!copied) return Status(copied.code(), "Cannot copy from the cache: " + copied.message());
      return std::string("from the cache");
    }
    Status status = transfer(uri.value(), target, job);
    if (!status) {
      lock.lock();
      cache_.abandon(key);
      lock.unlock();
      cacheChanged_.notify_all();
      return status;
    }
    if (!offerToCache(key, found.file, target)) return std::string("downloaded, not cached");
    return std::string("downloaded into the cache");
  }
}

bool Fetcher::offerToCache(const std::string& key, const std::string& file, const std::string& downloaded) {
  std::error_code ec;
  const uint64_t size = fs::file_size(downloaded, ec);
  FetcherCache::Admission admission;
  {
    std::lock_guard lock(mutex_);
    admission = ec ? FetcherCache::Admission{} : cache_.admit(key, size);
    if (ec || !admission.admitted) cache_.abandon(key);
  }
  for (const std::string& evicted : admission.evicted) {
    spdlog::info("Fetcher cache: evicting {}", evicted);
    fs::remove(options_.cacheDir + "/" + evicted, ec);
  }
  if (!admission.admitted) {
    spdlog::info("Fetcher cache: not caching {} ({} bytes; the cache holds {})", file, size, options_.cacheSize);
    cacheChanged_.notify_all();
    return false;
  }
  const std::string path = options_.cacheDir + "/" + file;
  Status stored = copyLocalFile(downloaded, path + ".tmp");
  if (stored) {
    fs::rename(path + ".tmp", path, ec);
    if (ec) stored = Status::ioError(ec.message());
  }
  {
    std::lock_guard lock(mutex_);
    if (stored) {
      cache_.commit(key);
    } else {
      cache_.abandon(key);
    }
  }
  if (!stored) spdlog::warn("Fetcher cache: cannot store {}: {}", file, stored.message());
  cacheChanged_.notify_all();
  return stored.isOk();
}

}  // namespace mezzo::agent
