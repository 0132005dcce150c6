// Media types of the v1 APIs and the encode/decode of messages in them.
//
// Requests are `application/json` (Mesos JSON mapping) or
// `application/x-protobuf`; parameters such as `; charset=utf-8` are
// accepted, responses always name the bare type. `Accept` negotiation:
// missing, empty or `*/*` means JSON, JSON is preferred when both are
// acceptable, and nothing acceptable yields std::nullopt (HTTP 406).
//
// Thread-safety: stateless functions.
#pragma once

#include <google/protobuf/message.h>

#include <optional>
#include <string>
#include <string_view>

#include "mezzo/common/status.hpp"

namespace mezzo {

enum class MediaType { kJson, kProtobuf };

inline constexpr std::string_view kJsonMediaType = "application/json";
inline constexpr std::string_view kProtobufMediaType = "application/x-protobuf";

std::string_view mediaTypeName(MediaType type);

// The media type of a Content-Type header value, or nullopt if unsupported.
std::optional<MediaType> parseContentType(std::string_view header);

// The response media type for an Accept header value (possibly a list).
std::optional<MediaType> negotiateAccept(std::string_view header);

Status decodeMessage(MediaType type, std::string_view body, google::protobuf::Message* message);
std::string encodeMessage(MediaType type, const google::protobuf::Message& message);

}  // namespace mezzo
