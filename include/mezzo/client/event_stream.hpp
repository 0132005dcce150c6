// EventStreamDecoder<Event>: turns the body of a v1 SUBSCRIBE response (a
// RecordIO stream of JSON or protobuf messages, mesos-reference.md §0.3) into
// Event messages. Feed it the body in arbitrary slices, as they arrive.
//
// A malformed record (bad framing or a message that does not parse) is an
// error; the decoder stays failed and the stream should be dropped.
//
// Thread-safety: a value owned by the one reader of a stream.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "mezzo/common/codec.hpp"
#include "mezzo/common/recordio.hpp"
#include "mezzo/common/status.hpp"

namespace mezzo::client {

template <typename Event>
class EventStreamDecoder {
 public:
  explicit EventStreamDecoder(MediaType type, size_t maxRecordBytes = 64 * 1024 * 1024)
      : type_(type), records_(maxRecordBytes) {}

  MediaType mediaType() const { return type_; }

  // Every event completed by `data`, in stream order.
  Result<std::vector<Event>> feed(std::string_view data) {
    if (!failure_.isOk()) return failure_;
    auto records = records_.feed(data);
    if (!records) return fail(records.status());
    std::vector<Event> events;
    events.reserve(records->size());
    for (const std::string& record : *records) {
      Event event;
      Status decoded = decodeMessage(type_, record, &event);
      if (!decoded) return fail(Status::invalidArgument("Malformed event: " + decoded.message()));
      events.push_back(std::move(event));
    }
    return events;
  }

 private:
  Status fail(Status status) {
    failure_ = std::move(status);
    return failure_;
  }

  MediaType type_;
  RecordIoDecoder records_;
  Status failure_;
};

}  // namespace mezzo::client
