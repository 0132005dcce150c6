#include "mezzo/common/json_proto.hpp"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>  // FieldOptions (deprecated flag)
#include <google/protobuf/reflection.h>

#include <boost/beast/core/detail/base64.hpp>
#include <charconv>
#include <cmath>
#include <limits>

namespace mezzo {

namespace pb = google::protobuf;
using FieldType = pb::FieldDescriptor::CppType;

std::string base64Encode(std::string_view bytes) {
  namespace b64 = boost::beast::detail::base64;
  std::string out(b64::encoded_size(bytes.size()), '\0');
  out.resize(b64::encode(out.data(), bytes.data(), bytes.size()));
  return out;
}

Result<std::string> base64Decode(std::string_view text) {
  namespace b64 = boost::beast::detail::base64;
  if (text.size() % 4 != 0) {
    return Status::invalidArgument("invalid base64 (length is not a multiple of 4)");
  }
  // Beast's decoder stops at the first '=', so strip the (at most two)
  // padding characters first and require everything before them to decode.
  size_t data = text.size();
  while (data > 0 && text.size() - data < 2 && text[data - 1] == '=') --data;
  std::string out(b64::decoded_size(text.size()), '\0');
  auto [written, read] = b64::decode(out.data(), text.data(), data);
  if (read != data) {
    return Status::invalidArgument("invalid base64");
  }
  out.resize(written);
  return out;
}

namespace {

nlohmann::json doubleToJson(double value) {
  if (std::isinf(value)) {
    return value > 0 ? "Infinity" : "-Infinity";
  }
  if (std::isnan(value)) {
    return "NaN";
  }
  return value;
}

nlohmann::json singularValue(const pb::Message& message, const pb::FieldDescriptor* field) {
  const pb::Reflection* reflection = message.GetReflection();
  switch (field->cpp_type()) {
    case FieldType::CPPTYPE_INT32: return reflection->GetInt32(message, field);
    case FieldType::CPPTYPE_INT64: return reflection->GetInt64(message, field);
    case FieldType::CPPTYPE_UINT32: return reflection->GetUInt32(message, field);
    case FieldType::CPPTYPE_UINT64: return reflection->GetUInt64(message, field);
    case FieldType::CPPTYPE_DOUBLE: return doubleToJson(reflection->GetDouble(message, field));
    case FieldType::CPPTYPE_FLOAT: return doubleToJson(reflection->GetFloat(message, field));
    case FieldType::CPPTYPE_BOOL: return reflection->GetBool(message, field);
    case FieldType::CPPTYPE_ENUM: return reflection->GetEnum(message, field)->name();
    case FieldType::CPPTYPE_STRING: {
      std::string value = reflection->GetString(message, field);
      if (field->type() == pb::FieldDescriptor::TYPE_BYTES) {
        return base64Encode(value);
      }
      return value;
    }
    case FieldType::CPPTYPE_MESSAGE: return messageToJson(reflection->GetMessage(message, field));
  }
  return nullptr;
}

nlohmann::json repeatedValue(const pb::Message& message, const pb::FieldDescriptor* field, int index) {
  const pb::Reflection* reflection = message.GetReflection();
  switch (field->cpp_type()) {
    case FieldType::CPPTYPE_INT32: return reflection->GetRepeatedInt32(message, field, index);
    case FieldType::CPPTYPE_INT64: return reflection->GetRepeatedInt64(message, field, index);
    case FieldType::CPPTYPE_UINT32: return reflection->GetRepeatedUInt32(message, field, index);
    case FieldType::CPPTYPE_UINT64: return reflection->GetRepeatedUInt64(message, field, index);
    case FieldType::CPPTYPE_DOUBLE: return doubleToJson(reflection->GetRepeatedDouble(message, field, index));
    case FieldType::CPPTYPE_FLOAT: return doubleToJson(reflection->GetRepeatedFloat(message, field, index));
    case FieldType::CPPTYPE_BOOL: return reflection->GetRepeatedBool(message, field, index);
    case FieldType::CPPTYPE_ENUM: return reflection->GetRepeatedEnum(message, field, index)->name();
    case FieldType::CPPTYPE_STRING: {
      std::string value = reflection->GetRepeatedString(message, field, index);
      if (field->type() == pb::FieldDescriptor::TYPE_BYTES) {
        return base64Encode(value);
      }
      return value;
    }
    case FieldType::CPPTYPE_MESSAGE: return messageToJson(reflection->GetRepeatedMessage(message, field, index));
  }
  return nullptr;
}

// Map entries are messages with fields `key` (1) and `value` (2).
nlohmann::json mapValue(const pb::Message& message, const pb::FieldDescriptor* field) {
  const pb::Reflection* reflection = message.GetReflection();
  nlohmann::json object = nlohmann::json::object();
  for (int i = 0; i < reflection->FieldSize(message, field); ++i) {
    const pb::Message& entry = reflection->GetRepeatedMessage(message, field, i);
    const pb::FieldDescriptor* keyField = entry.GetDescriptor()->FindFieldByNumber(1);
    const pb::FieldDescriptor* valueField = entry.GetDescriptor()->FindFieldByNumber(2);
    nlohmann::json key = singularValue(entry, keyField);
    std::string keyText = key.is_string() ? key.get<std::string>() : key.dump();
    object[keyText] = singularValue(entry, valueField);
  }
  return object;
}

// Nesting bound of decoded messages: protobuf's own parser stops at the same
// depth (CodedInputStream's default recursion limit), and the decoder and a
// message's destructor recurse once per level.
constexpr int kMaxMessageDepth = 100;

Status decodeObject(const nlohmann::json& json, pb::Message* message, int depth);

Status typeError(const pb::FieldDescriptor* field, std::string_view expected) {
  return Status::invalidArgument("Not expecting a JSON " + std::string(expected) + " for field '" +
                                 field->name() + "'");
}

template <typename Int>
Result<Int> jsonToInteger(const nlohmann::json& value, const pb::FieldDescriptor* field) {
  if (value.is_number_integer() || value.is_number_unsigned()) {
    if constexpr (std::is_signed_v<Int>) {
      if (value.is_number_unsigned() && value.get<uint64_t>() > uint64_t(std::numeric_limits<Int>::max())) {
        return Status::invalidArgument("Value out of range for field '" + field->name() + "'");
      }
      int64_t v = value.get<int64_t>();
      if (v < int64_t(std::numeric_limits<Int>::min()) || v > int64_t(std::numeric_limits<Int>::max())) {
        return Status::invalidArgument("Value out of range for field '" + field->name() + "'");
      }
      return static_cast<Int>(v);
    } else {
      // is_number_integer() is also true for unsigned values; only a signed
      // JSON integer can be negative (reading a large unsigned one as int64
      // would wrap).
      if (!value.is_number_unsigned() && value.get<int64_t>() < 0) {
        return Status::invalidArgument("Negative value for unsigned field '" + field->name() + "'");
      }
      uint64_t v = value.get<uint64_t>();
      if (v > uint64_t(std::numeric_limits<Int>::max())) {
        return Status::invalidArgument("Value out of range for field '" + field->name() + "'");
      }
      return static_cast<Int>(v);
    }
  }
  if (value.is_number_float()) {
    double d = value.get<double>();
    // The upper bound is 2^digits, exclusive: double(max) of a 64-bit type
    // rounds up to 2^63 or 2^64, and casting that back is undefined.
    if (std::floor(d) == d && d >= double(std::numeric_limits<Int>::min()) &&
        d < std::ldexp(1.0, std::numeric_limits<Int>::digits)) {
      return static_cast<Int>(d);
    }
    return Status::invalidArgument("Expecting an integer for field '" + field->name() + "'");
  }
  if (value.is_string()) {
    const std::string& text = value.get_ref<const std::string&>();
    Int parsed{};
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), parsed);
    if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
      return Status::invalidArgument("Failed to parse '" + text + "' as an integer for field '" + field->name() + "'");
    }
    return parsed;
  }
  return typeError(field, value.type_name());
}

Result<double> jsonToDouble(const nlohmann::json& value, const pb::FieldDescriptor* field) {
  if (value.is_number()) {
    return value.get<double>();
  }
  if (value.is_string()) {
    const std::string& text = value.get_ref<const std::string&>();
    if (text == "Infinity" || text == "inf") {
      return std::numeric_limits<double>::infinity();
    }
    if (text == "-Infinity" || text == "-inf") {
      return -std::numeric_limits<double>::infinity();
    }
    try {
      size_t used = 0;
      double parsed = std::stod(text, &used);
      if (used == text.size()) {
        return parsed;
      }
    } catch (const std::exception&) {
    }
    return Status::invalidArgument("Failed to parse '" + text + "' as a number for field '" + field->name() + "'");
  }
  return typeError(field, value.type_name());
}

Result<bool> jsonToBool(const nlohmann::json& value, const pb::FieldDescriptor* field) {
  if (value.is_boolean()) {
    return value.get<bool>();
  }
  if (value.is_string()) {
    if (value == "true") return true;
    if (value == "false") return false;
  }
  return typeError(field, value.type_name());
}

Result<std::string> jsonToString(const nlohmann::json& value, const pb::FieldDescriptor* field) {
  if (!value.is_string()) {
    return typeError(field, value.type_name());
  }
  if (field->type() == pb::FieldDescriptor::TYPE_BYTES) {
    Result<std::string> decoded = base64Decode(value.get_ref<const std::string&>());
    if (!decoded) {
      return Status::invalidArgument("Failed to decode base64 for field '" + field->name() + "'");
    }
    return decoded;
  }
  return value.get<std::string>();
}

// Returns the enum value, nullptr for an unknown name (dropped on optional
// fields), or an error for a wrong JSON type.
Result<const pb::EnumValueDescriptor*> jsonToEnum(const nlohmann::json& value, const pb::FieldDescriptor* field) {
  const pb::EnumDescriptor* type = field->enum_type();
  if (value.is_string()) {
    return type->FindValueByName(value.get<std::string>());
  }
  if (value.is_number_integer()) {
    return type->FindValueByNumber(value.get<int>());
  }
  return typeError(field, value.type_name());
}

// Sets (or appends, for repeated fields) one scalar/enum/string value.
// `depth` is the nesting level of `message` (1 for the top-level message).
Status setValue(pb::Message* message, const pb::FieldDescriptor* field, const nlohmann::json& value, int depth) {
  const pb::Reflection* reflection = message->GetReflection();
  const bool repeated = field->is_repeated();
#define MEZZO_SET(Kind, expr)                            \
  {                                                      \
    auto parsed = (expr);                                \
    if (!parsed) return parsed.status();                 \
    if (repeated)                                        \
      reflection->Add##Kind(message, field, *parsed);    \
    else                                                 \
      reflection->Set##Kind(message, field, *parsed);    \
    return Status::ok();                                 \
  }
  switch (field->cpp_type()) {
    case FieldType::CPPTYPE_INT32: MEZZO_SET(Int32, jsonToInteger<int32_t>(value, field));
    case FieldType::CPPTYPE_INT64: MEZZO_SET(Int64, jsonToInteger<int64_t>(value, field));
    case FieldType::CPPTYPE_UINT32: MEZZO_SET(UInt32, jsonToInteger<uint32_t>(value, field));
    case FieldType::CPPTYPE_UINT64: MEZZO_SET(UInt64, jsonToInteger<uint64_t>(value, field));
    case FieldType::CPPTYPE_DOUBLE: MEZZO_SET(Double, jsonToDouble(value, field));
    case FieldType::CPPTYPE_FLOAT: MEZZO_SET(Float, jsonToDouble(value, field));
    case FieldType::CPPTYPE_BOOL: MEZZO_SET(Bool, jsonToBool(value, field));
    case FieldType::CPPTYPE_STRING: MEZZO_SET(String, jsonToString(value, field));
    case FieldType::CPPTYPE_ENUM: {
      auto parsed = jsonToEnum(value, field);
      if (!parsed) return parsed.status();
      if (*parsed == nullptr) {
        if (field->is_required()) {
          return Status::invalidArgument("Unknown enum value " + value.dump() + " for required field '" +
                                         field->name() + "'");
        }
        return Status::ok();  // unknown names on optional/repeated enums are dropped
      }
      if (repeated)
        reflection->AddEnum(message, field, *parsed);
      else
        reflection->SetEnum(message, field, *parsed);
      return Status::ok();
    }
    case FieldType::CPPTYPE_MESSAGE: {
      if (!value.is_object()) {
        return typeError(field, value.type_name());
      }
      pb::Message* child =
          repeated ? reflection->AddMessage(message, field) : reflection->MutableMessage(message, field);
      return decodeObject(value, child, depth + 1);
    }
  }
#undef MEZZO_SET
  return Status::internal("unhandled field type");
}

Status setMapField(pb::Message* message, const pb::FieldDescriptor* field, const nlohmann::json& value, int depth) {
  if (!value.is_object()) {
    return typeError(field, value.type_name());
  }
  const pb::Reflection* reflection = message->GetReflection();
  for (const auto& [key, item] : value.items()) {
    if (item.is_null()) {
      continue;
    }
    pb::Message* entry = reflection->AddMessage(message, field);
    const pb::FieldDescriptor* keyField = entry->GetDescriptor()->FindFieldByNumber(1);
    const pb::FieldDescriptor* valueField = entry->GetDescriptor()->FindFieldByNumber(2);
    Status status = setValue(entry, keyField, nlohmann::json(key), depth + 1);
    if (status.isOk()) {
      status = setValue(entry, valueField, item, depth + 1);
    }
    if (!status.isOk()) {
      return status;
    }
  }
  return Status::ok();
}

Status decodeObject(const nlohmann::json& json, pb::Message* message, int depth) {
  if (!json.is_object()) {
    return Status::invalidArgument("Expecting a JSON object for message '" + message->GetDescriptor()->name() + "'");
  }
  if (depth > kMaxMessageDepth) {
    return Status::invalidArgument("Message nesting exceeds the limit of " + std::to_string(kMaxMessageDepth) +
                                   " levels");
  }
  message->Clear();  // as the header promises; nested messages start empty anyway
  const pb::Descriptor* descriptor = message->GetDescriptor();
  for (const auto& [key, value] : json.items()) {
    const pb::FieldDescriptor* field = descriptor->FindFieldByName(key);
    if (field == nullptr || value.is_null()) {
      continue;  // unknown keys and nulls are ignored, as Mesos does
    }
    Status status;
    if (field->is_map()) {
      status = setMapField(message, field, value, depth);
    } else if (field->is_repeated()) {
      if (!value.is_array()) {
        return typeError(field, value.type_name());
      }
      for (const auto& item : value) {
        if (item.is_null()) {
          continue;
        }
        status = setValue(message, field, item, depth);
        if (!status.isOk()) {
          break;
        }
      }
    } else {
      status = setValue(message, field, value, depth);
    }
    if (!status.isOk()) {
      return status;
    }
  }
  return Status::ok();
}

}  // namespace

nlohmann::json messageToJson(const pb::Message& message) {
  nlohmann::json object = nlohmann::json::object();
  const pb::Descriptor* descriptor = message.GetDescriptor();
  const pb::Reflection* reflection = message.GetReflection();
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const pb::FieldDescriptor* field = descriptor->field(i);
    if (field->is_map()) {
      if (reflection->FieldSize(message, field) > 0) {
        object[field->name()] = mapValue(message, field);
      }
    } else if (field->is_repeated()) {
      int size = reflection->FieldSize(message, field);
      if (size > 0) {
        nlohmann::json array = nlohmann::json::array();
        for (int j = 0; j < size; ++j) {
          array.push_back(repeatedValue(message, field, j));
        }
        object[field->name()] = std::move(array);
      }
    } else if (reflection->HasField(message, field) ||
               (field->has_default_value() && !field->options().deprecated() &&
                field->cpp_type() != FieldType::CPPTYPE_MESSAGE)) {
      object[field->name()] = singularValue(message, field);
    }
  }
  return object;
}

std::string messageToJsonString(const pb::Message& message) {
  // Replace invalid UTF-8 instead of throwing: messages carry user text.
  return messageToJson(message).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Status jsonToMessage(const nlohmann::json& json, pb::Message* message) { return decodeObject(json, message, 1); }

Status parseJsonMessage(std::string_view text, pb::Message* message) {
  message->Clear();
  nlohmann::json json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) {
    return Status::invalidArgument("Failed to parse body into JSON: invalid JSON");
  }
  Status status = jsonToMessage(json, message);
  if (!status.isOk()) {
    return Status::invalidArgument("Failed to convert JSON into " + message->GetDescriptor()->name() +
                                   " protobuf: " + status.message());
  }
  if (!message->IsInitialized()) {
    return Status::invalidArgument("Failed to convert JSON into " + message->GetDescriptor()->name() +
                                   " protobuf: Missing required fields: " + message->InitializationErrorString());
  }
  return Status::ok();
}

}  // namespace mezzo
