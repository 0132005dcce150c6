#include "mezzo/common/recordio.hpp"

#include <gtest/gtest.h>

namespace mezzo {
namespace {

using Records = std::vector<std::string>;

Records feedOk(RecordIoDecoder& decoder, std::string_view data) {
  Result<Records> records = decoder.feed(data);
  EXPECT_TRUE(records.isOk()) << records.error();
  return records.isOk() ? *records : Records();
}

TEST(RecordIo, EncodesSizeLineAndData) {
  EXPECT_EQ(encodeRecord(R"({"type":"HEARTBEAT"})"), "20\n{\"type\":\"HEARTBEAT\"}");
  EXPECT_EQ(encodeRecord("a\nb"), "3\na\nb");
  // Sizes are byte counts, not characters.
  EXPECT_EQ(encodeRecord("\xc3\xa9"), "2\n\xc3\xa9");
}

TEST(RecordIo, DecodesOneRecord) {
  RecordIoDecoder decoder;
  EXPECT_TRUE(decoder.idle());
  EXPECT_EQ(feedOk(decoder, encodeRecord("hello")), Records{"hello"});
  EXPECT_TRUE(decoder.idle());
  EXPECT_EQ(feedOk(decoder, ""), Records{});
}

TEST(RecordIo, RecordsSplitAcrossFeeds) {
  std::string stream = encodeRecord(R"({"type":"SUBSCRIBED"})") + encodeRecord("second\nrecord");
  RecordIoDecoder decoder;
  Records all;
  for (char byte : stream) {
    Records records = feedOk(decoder, std::string_view(&byte, 1));
    all.insert(all.end(), records.begin(), records.end());
  }
  EXPECT_EQ(all, (Records{R"({"type":"SUBSCRIBED"})", "second\nrecord"}));
  EXPECT_TRUE(decoder.idle());
}

TEST(RecordIo, SplitInsideTheSizeLine) {
  RecordIoDecoder decoder;
  EXPECT_TRUE(feedOk(decoder, "1").empty());
  EXPECT_FALSE(decoder.idle());
  EXPECT_TRUE(feedOk(decoder, "2\nhello ").empty());
  EXPECT_EQ(feedOk(decoder, "world!3\nabc"), (Records{"hello world!", "abc"}));
  EXPECT_TRUE(decoder.idle());
}

TEST(RecordIo, SeveralRecordsPerFeedAndATrailingPartial) {
  RecordIoDecoder decoder;
  std::string data = encodeRecord("a") + encodeRecord("bb") + encodeRecord("ccc") + "4\ndd";
  EXPECT_EQ(feedOk(decoder, data), (Records{"a", "bb", "ccc"}));
  EXPECT_FALSE(decoder.idle());
  EXPECT_EQ(feedOk(decoder, "dd"), Records{"dddd"});
  EXPECT_TRUE(decoder.idle());
}

TEST(RecordIo, BinaryPayload) {
  std::string payload("\0\n\x01\xff\n", 5);
  RecordIoDecoder decoder;
  EXPECT_EQ(feedOk(decoder, encodeRecord(payload) + encodeRecord(payload)), (Records{payload, payload}));
}

TEST(RecordIo, MalformedSizeLines) {
  for (std::string bad : {"abc\n", "-5\n", " 5\n", "5 \n", "5\r\nhello", "\nx", "0x10\n", "1a\n"}) {
    RecordIoDecoder decoder;
    Result<Records> records = decoder.feed(bad);
    ASSERT_FALSE(records.isOk()) << bad;
    EXPECT_EQ(records.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(records.error().find("Malformed RecordIO size"), std::string::npos) << records.error();
  }
}

TEST(RecordIo, SizeLineTooLong) {
  RecordIoDecoder decoder;
  // 20 digits could still be a valid uint64 waiting for its newline.
  EXPECT_TRUE(decoder.feed("12345678901234567890").isOk());
  Result<Records> records = decoder.feed("1");
  ASSERT_FALSE(records.isOk());
  EXPECT_NE(records.error().find("too long"), std::string::npos);
  // A size beyond uint64 is malformed even when the line is complete.
  RecordIoDecoder other;
  EXPECT_FALSE(other.feed("99999999999999999999\n").isOk());
}

TEST(RecordIo, OversizedRecordFailsAndStaysFailed) {
  RecordIoDecoder decoder(10);
  EXPECT_EQ(feedOk(decoder, encodeRecord("0123456789")), Records{"0123456789"});
  Result<Records> records = decoder.feed("11\n");
  ASSERT_FALSE(records.isOk());
  EXPECT_NE(records.error().find("exceeds the limit"), std::string::npos);
  // Sticky: later data, however valid, reports the same failure.
  Result<Records> later = decoder.feed(encodeRecord("ok"));
  ASSERT_FALSE(later.isOk());
  EXPECT_EQ(later.error(), records.error());
}

}  // namespace
}  // namespace mezzo
