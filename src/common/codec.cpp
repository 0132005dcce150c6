#include "mezzo/common/codec.hpp"

#include <algorithm>
#include <cctype>

#include "mezzo/common/json_proto.hpp"
#include "mezzo/common/strings.hpp"

namespace mezzo {

namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

// The bare type of one media range (before any ';' parameter), lowercased.
std::string bareType(std::string_view range) {
  size_t semicolon = range.find(';');
  return lower(trim(range.substr(0, semicolon)));
}

// True if the media range carries q=0 (explicitly not acceptable).
bool rejected(std::string_view range) {
  std::string text = lower(range);
  size_t q = text.find("q=");
  if (q == std::string::npos) return false;
  std::string_view value = trim(std::string_view(text).substr(q + 2));
  return value.starts_with("0") && value.find_first_not_of("0.", 0) == std::string_view::npos;
}

}  // namespace

std::string_view mediaTypeName(MediaType type) {
  return type == MediaType::kJson ? kJsonMediaType : kProtobufMediaType;
}

std::optional<MediaType> parseContentType(std::string_view header) {
  std::string type = bareType(header);
  if (type == kJsonMediaType) return MediaType::kJson;
  if (type == kProtobufMediaType) return MediaType::kProtobuf;
  return std::nullopt;
}

std::optional<MediaType> negotiateAccept(std::string_view header) {
  if (trim(header).empty()) {
    return MediaType::kJson;
  }
  bool json = false;
  bool protobuf = false;
  size_t start = 0;
  while (start <= header.size()) {
    size_t comma = header.find(',', start);
    std::string_view range =
        header.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    if (!rejected(range)) {
      std::string type = bareType(range);
      if (type == "*/*" || type == "application/*" || type == kJsonMediaType) json = true;
      if (type == "*/*" || type == "application/*" || type == kProtobufMediaType) protobuf = true;
    }
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  if (json) return MediaType::kJson;
  if (protobuf) return MediaType::kProtobuf;
  return std::nullopt;
}

Status decodeMessage(MediaType type, std::string_view body, google::protobuf::Message* message) {
  if (type == MediaType::kJson) {
    return parseJsonMessage(body, message);
  }
  message->Clear();
  if (!message->ParsePartialFromArray(body.data(), static_cast<int>(body.size()))) {
    return Status::invalidArgument("Failed to parse body into " + message->GetDescriptor()->name() + " protobuf");
  }
  if (!message->IsInitialized()) {
    return Status::invalidArgument("Failed to parse body into " + message->GetDescriptor()->name() +
                                   " protobuf: Missing required fields: " + message->InitializationErrorString());
  }
  return Status::ok();
}

std::string encodeMessage(MediaType type, const google::protobuf::Message& message) {
  if (type == MediaType::kJson) {
    return messageToJsonString(message);
  }
  return message.SerializeAsString();
}

}  // namespace mezzo
