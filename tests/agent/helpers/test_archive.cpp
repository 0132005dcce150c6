#include "test_archive.hpp"

#include <archive.h>
#include <archive_entry.h>

namespace mezzo::testhelpers {

namespace {

void setFormat(struct archive* writer, ArchiveFormat format) {
  switch (format) {
    case ArchiveFormat::kTarGz:
      archive_write_set_format_pax_restricted(writer);
      archive_write_add_filter_gzip(writer);
      return;
    case ArchiveFormat::kTarBz2:
      archive_write_set_format_pax_restricted(writer);
      archive_write_add_filter_bzip2(writer);
      return;
    case ArchiveFormat::kZip:
      archive_write_set_format_zip(writer);
      return;
    case ArchiveFormat::kGzipOnly:
      archive_write_set_format_raw(writer);
      archive_write_add_filter_gzip(writer);
      return;
  }
}

bool writeEntry(struct archive* writer, const ArchiveEntry& item) {
  struct archive_entry* entry = archive_entry_new();
  archive_entry_set_pathname(entry, item.name.c_str());
  if (item.symlinkTo.empty()) {
    archive_entry_set_filetype(entry, AE_IFREG);
    archive_entry_set_perm(entry, 0644);
    archive_entry_set_size(entry, static_cast<la_int64_t>(item.content.size()));
  } else {
    archive_entry_set_filetype(entry, AE_IFLNK);
    archive_entry_set_perm(entry, 0777);
    archive_entry_set_symlink(entry, item.symlinkTo.c_str());
  }
  bool ok = archive_write_header(writer, entry) == ARCHIVE_OK;
  if (ok && !item.content.empty()) {
    ok = archive_write_data(writer, item.content.data(), item.content.size()) ==
         static_cast<la_ssize_t>(item.content.size());
  }
  archive_entry_free(entry);
  return ok;
}

}  // namespace

std::string makeArchive(ArchiveFormat format, const std::vector<ArchiveEntry>& entries) {
  struct archive* writer = archive_write_new();
  setFormat(writer, format);
  std::string bytes(4 << 20, '\0');
  size_t used = 0;
  bool ok = archive_write_open_memory(writer, bytes.data(), bytes.size(), &used) == ARCHIVE_OK;
  for (const ArchiveEntry& item : entries) ok = ok && writeEntry(writer, item);
  ok = archive_write_close(writer) == ARCHIVE_OK && ok;
  archive_write_free(writer);
  if (!ok) return {};
  bytes.resize(used);
  return bytes;
}

}  // namespace mezzo::testhelpers
