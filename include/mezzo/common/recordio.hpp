// RecordIO framing used by every v1 streaming response (mesos-reference.md §0.3):
// each record is `<decimal byte length>\n<bytes>`, nothing between records.
//
// RecordIoDecoder accepts arbitrary slices of a stream (records may span or
// share slices) and returns the complete records seen so far. A record whose
// declared size exceeds the limit, or a malformed size line, is an error and
// the decoder stays failed.
//
// Thread-safety: the decoder is a value owned by one reader.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "mezzo/common/status.hpp"

namespace mezzo {

std::string encodeRecord(std::string_view data);

class RecordIoDecoder {
 public:
  explicit RecordIoDecoder(size_t maxRecordBytes = 64 * 1024 * 1024) : maxRecordBytes_(maxRecordBytes) {}

  // Appends `data` and returns every record completed by it.
  Result<std::vector<std::string>> feed(std::string_view data);

  // True when no partial record is buffered.
  bool idle() const { return buffer_.empty(); }

 private:
  size_t maxRecordBytes_;
  std::string buffer_;
  Status failure_;
};

}  // namespace mezzo
