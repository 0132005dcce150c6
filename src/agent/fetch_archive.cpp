// Archive extraction and gunzip with libarchive: entry names are checked
// (fetcher_uri.hpp's containedEntryPath) and rewritten under the
// destination before anything is written.
#include <archive.h>
#include <archive_entry.h>

#include <filesystem>
#include <fstream>
#include <memory>

#include "agent/fetch_io.hpp"
#include "agent/fetcher_uri.hpp"

namespace mezzo::agent {

namespace fs = std::filesystem;

namespace {

constexpr size_t kReadBlock = 64 * 1024;

struct ReaderDeleter {
  void operator()(struct archive* reader) const { archive_read_free(reader); }
};
struct WriterDeleter {
  void operator()(struct archive* writer) const { archive_write_free(writer); }
};
using Reader = std::unique_ptr<struct archive, ReaderDeleter>;
using Writer = std::unique_ptr<struct archive, WriterDeleter>;

std::string archiveError(struct archive* handle) {
  const char* text = archive_error_string(handle);
  return text != nullptr ? text : "unknown libarchive error";
}

// Where `entry` goes under `root`, after checking its name, its kind and
// (for links) its target. Empty for the root directory itself.
Result<std::string> placeEntry(struct archive_entry* entry, const std::string& root) {
  const char* raw = archive_entry_pathname(entry);
  if (raw == nullptr) return Status::invalidArgument("an entry has no name");
  const std::string name = raw;
  auto contained = containedEntryPath(name);
  if (!contained) return Status::invalidArgument("entry '" + name + "' refused: " + contained.error());
  const mode_t type = archive_entry_filetype(entry);
  if (type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK) {
    return Status::invalidArgument("entry '" + name + "' refused: not a file, directory or symbolic link");
  }
  if (type == AE_IFLNK) {
    const char* target = archive_entry_symlink(entry);
    std::string parent = fs::path(*contained).parent_path().string();
    std::string resolved = target == nullptr ? std::string() : parent.empty() ? target : parent + "/" + target;
    if (target == nullptr || target[0] == '/' || !containedEntryPath(resolved)) {
      return Status::invalidArgument("entry '" + name + "' refused: symbolic link pointing outside the sandbox");
    }
  }
  if (const char* link = archive_entry_hardlink(entry)) {
    auto linkTarget = containedEntryPath(link);
    if (!linkTarget || linkTarget->empty()) {
      return Status::invalidArgument("entry '" + name + "' refused: hard link pointing outside the sandbox");
    }
    archive_entry_set_hardlink(entry, (root + "/" + *linkTarget).c_str());
  }
  // Never set-user/group-id bits from someone else's archive.
  archive_entry_set_perm(entry, archive_entry_perm(entry) & 0777);
  if (contained->empty()) return std::string();
  archive_entry_set_pathname(entry, (root + "/" + *contained).c_str());
  return *contained;
}

Status copyEntryData(struct archive* reader, struct archive* writer) {
  const void* block = nullptr;
  size_t size = 0;
  la_int64_t offset = 0;
  while (true) {
    int rc = archive_read_data_block(reader, &block, &size, &offset);
    if (rc == ARCHIVE_EOF) return Status::ok();
    if (rc < ARCHIVE_WARN) return Status::ioError(archiveError(reader));
    if (archive_write_data_block(writer, block, size, offset) < ARCHIVE_WARN) {
      return Status::ioError(archiveError(writer));
    }
  }
}

Result<Reader> openReader(const std::string& path, bool raw) {
  Reader reader(archive_read_new());
  if (!reader) return Status::internal("Cannot create an archive reader");
  archive_read_support_filter_all(reader.get());
  if (raw) {
    archive_read_support_format_raw(reader.get());
  } else {
    archive_read_support_format_tar(reader.get());
    archive_read_support_format_zip(reader.get());
  }
  if (archive_read_open_filename(reader.get(), path.c_str(), kReadBlock) != ARCHIVE_OK) {
    return Status::ioError(archiveError(reader.get()));
  }
  return reader;
}

}  // namespace

Status extractArchive(const std::string& archive, const std::string& destination, const std::atomic<bool>* cancelled) {
  std::error_code ec;
  const std::string root = fs::canonical(destination, ec).string();
  if (ec) return Status::ioError("Cannot resolve " + destination + ": " + ec.message());
  auto reader = openReader(archive, false);
  if (!reader) return reader.status();
  Writer writer(archive_write_disk_new());
  archive_write_disk_set_options(writer.get(), ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM |
                                                   ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NODOTDOT);
  struct archive_entry* entry = nullptr;
  while (true) {
    if (cancelled != nullptr && cancelled->load()) return Status::unavailable("cancelled");
    int rc = archive_read_next_header(reader->get(), &entry);
    if (rc == ARCHIVE_EOF) break;
    if (rc < ARCHIVE_WARN) return Status::ioError(archiveError(reader->get()));
    auto placed = placeEntry(entry, root);
    if (!placed) return placed.status();
    if (placed->empty()) continue;
    if (archive_write_header(writer.get(), entry) < ARCHIVE_WARN) {
      return Status::ioError("entry '" + *placed + "': " + archiveError(writer.get()));
    }
    if (archive_entry_filetype(entry) == AE_IFREG) {
      Status copied = copyEntryData(reader->get(), writer.get());
      if (!copied) return Status::ioError("entry '" + *placed + "': " + copied.message());
    }
    if (archive_write_finish_entry(writer.get()) < ARCHIVE_WARN) {
      return Status::ioError("entry '" + *placed + "': " + archiveError(writer.get()));
    }
  }
  if (archive_write_close(writer.get()) < ARCHIVE_WARN) return Status::ioError(archiveError(writer.get()));
  return Status::ok();
}

Status gunzipFile(const std::string& gz, const std::string& destination) {
  auto reader = openReader(gz, true);
  if (!reader) return reader.status();
  struct archive_entry* entry = nullptr;
  if (archive_read_next_header(reader->get(), &entry) != ARCHIVE_OK) {
    return Status::ioError(archiveError(reader->get()));
  }
  if (archive_filter_code(reader->get(), 0) != ARCHIVE_FILTER_GZIP) {
    return Status::invalidArgument("not gzip-compressed");
  }
  std::ofstream out(destination, std::ios::binary | std::ios::trunc);
  if (!out) return Status::ioError("Cannot create " + destination);
  std::string buffer(kReadBlock, '\0');
  Status status;
  while (status) {
    la_ssize_t n = archive_read_data(reader->get(), buffer.data(), buffer.size());
    if (n == 0) break;
    if (n < 0) {
      status = Status::ioError(archiveError(reader->get()));
    } else if (!out.write(buffer.data(), n)) {
      status = Status::ioError("Cannot write " + destination);
    }
  }
  out.close();
  if (status && !out) status = Status::ioError("Cannot write " + destination);
  if (!status) {
    std::error_code ignored;
    fs::remove(destination, ignored);
  }
  return status;
}

}  // namespace mezzo::agent
