#include "mezzo/common/recordio.hpp"

#include <charconv>

namespace mezzo {

std::string encodeRecord(std::string_view data) {
  std::string out = std::to_string(data.size());
  out.reserve(out.size() + 1 + data.size());
  out.push_back('\n');
  out.append(data);
  return out;
}

Result<std::vector<std::string>> RecordIoDecoder::feed(std::string_view data) {
  if (!failure_.isOk()) {
    return failure_;
  }
  buffer_.append(data);
  std::vector<std::string> records;
  size_t position = 0;
  while (position < buffer_.size()) {
    size_t newline = buffer_.find('\n', position);
    if (newline == std::string::npos) {
      if (buffer_.size() - position > 20) {
        failure_ = Status::invalidArgument("RecordIO size line is too long");
        return failure_;
      }
      break;
    }
    std::string_view sizeText(buffer_.data() + position, newline - position);
    uint64_t size = 0;
    auto [end, ec] = std::from_chars(sizeText.data(), sizeText.data() + sizeText.size(), size);
    if (sizeText.empty() || ec != std::errc() || end != sizeText.data() + sizeText.size()) {
      failure_ = Status::invalidArgument("Malformed RecordIO size line '" + std::string(sizeText) + "'");
      return failure_;
    }
    if (size > maxRecordBytes_) {
      failure_ = Status::invalidArgument("RecordIO record of " + std::to_string(size) + " bytes exceeds the limit");
      return failure_;
    }
    if (buffer_.size() - (newline + 1) < size) {
      break;
    }
    records.emplace_back(buffer_.substr(newline + 1, size));
    position = newline + 1 + size;
  }
  buffer_.erase(0, position);
  return records;
}

}  // namespace mezzo
