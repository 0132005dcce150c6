// Conversion between protobuf messages and JSON in the Mesos mapping
// (mesos-reference.md §0.4), which differs from proto3's canonical JSON:
// snake_case field names, enums by name, 64-bit integers as numbers, bytes as
// padded base64, unset optional fields with a declared default are written
// (unless deprecated), unknown keys and nulls are ignored, numeric and boolean
// strings are accepted, and missing required fields are an error.
//
// Thread-safety: stateless functions; safe from any thread.
#pragma once

#include <google/protobuf/message.h>

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "mezzo/common/status.hpp"

namespace mezzo {

nlohmann::json messageToJson(const google::protobuf::Message& message);

// Compact single-line JSON text (what RecordIO streams carry).
std::string messageToJsonString(const google::protobuf::Message& message);

// Fills `message` (cleared first) from a JSON object. On error the message
// may be partially filled; callers discard it. Messages nested more than 100
// deep (protobuf's own parser limit) are rejected.
Status jsonToMessage(const nlohmann::json& json, google::protobuf::Message* message);

Status parseJsonMessage(std::string_view text, google::protobuf::Message* message);

std::string base64Encode(std::string_view bytes);
Result<std::string> base64Decode(std::string_view text);

}  // namespace mezzo
