#include "mezzo/client/event_stream.hpp"

#include <gtest/gtest.h>

#include "mezzo/common/json_proto.hpp"
#include "mezzo/v1/scheduler/scheduler.pb.h"

namespace mezzo::client {
namespace {

using Event = v1::scheduler::Event;

std::string record(std::string_view json) { return encodeRecord(json); }

TEST(EventStreamTest, DecodesJsonRecordsAcrossAndWithinSlices) {
  std::string stream =
      record(
          R"({"type":"SUBSCRIBED","subscribed":{"framework_id":{"value":"M-0000"},"heartbeat_interval_seconds":15.0}})") +
      record(R"({"type":"HEARTBEAT"})") +
      record(
          R"({"type":"UPDATE","update":{"status":{"task_id":{"value":"t1"},"state":"TASK_RUNNING","uuid":"AAECAwQFBgcICQoLDA0ODw==","agent_id":{"value":"M-S0"}}}})");
  EventStreamDecoder<Event> decoder(MediaType::kJson);
  std::vector<Event> events;
  // Byte-by-byte for the first half, then everything else in one slice.
  size_t half = stream.size() / 2;
  for (size_t i = 0; i < half; ++i) {
    auto out = decoder.feed(std::string_view(stream).substr(i, 1));
    ASSERT_TRUE(out.isOk()) << out.error();
    events.insert(events.end(), out->begin(), out->end());
  }
  auto rest = decoder.feed(std::string_view(stream).substr(half));
  ASSERT_TRUE(rest.isOk()) << rest.error();
  events.insert(events.end(), rest->begin(), rest->end());

  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].type(), Event::SUBSCRIBED);
  EXPECT_EQ(events[0].subscribed().framework_id().value(), "M-0000");
  EXPECT_DOUBLE_EQ(events[0].subscribed().heartbeat_interval_seconds(), 15.0);
  EXPECT_EQ(events[1].type(), Event::HEARTBEAT);
  EXPECT_EQ(events[2].update().status().state(), v1::TASK_RUNNING);
  EXPECT_EQ(events[2].update().status().uuid().size(), 16u);
}

TEST(EventStreamTest, DecodesProtobufRecords) {
  Event offers;
  offers.set_type(Event::OFFERS);
  v1::Offer* offer = offers.mutable_offers()->add_offers();
  offer->mutable_id()->set_value("M-O1");
  offer->mutable_framework_id()->set_value("M-0000");
  offer->mutable_agent_id()->set_value("M-S0");
  offer->set_hostname("agent1");
  Event rescind;
  rescind.set_type(Event::RESCIND);
  rescind.mutable_rescind()->mutable_offer_id()->set_value("M-O1");
  std::string stream = record(offers.SerializeAsString()) + record(rescind.SerializeAsString());

  EventStreamDecoder<Event> decoder(MediaType::kProtobuf);
  auto events = decoder.feed(stream);
  ASSERT_TRUE(events.isOk()) << events.error();
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ((*events)[0].offers().offers(0).hostname(), "agent1");
  EXPECT_EQ((*events)[1].rescind().offer_id().value(), "M-O1");
}

TEST(EventStreamTest, MalformedRecordFailsForGood) {
  EventStreamDecoder<Event> decoder(MediaType::kJson);
  EXPECT_FALSE(decoder.feed(record("{not json")).isOk());
  EXPECT_FALSE(decoder.feed(record(R"({"type":"HEARTBEAT"})")).isOk());

  EventStreamDecoder<Event> framing(MediaType::kJson);
  EXPECT_FALSE(framing.feed("12x\n{}").isOk());
}

TEST(EventStreamTest, MissingRequiredFieldIsAnError) {
  EventStreamDecoder<Event> decoder(MediaType::kJson);
  auto events = decoder.feed(record(R"({"type":"SUBSCRIBED","subscribed":{}})"));
  EXPECT_FALSE(events.isOk());
}

}  // namespace
}  // namespace mezzo::client
