#include "mezzo/common/resources.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <random>
#include <sstream>

#include "mezzo/common/json_proto.hpp"

namespace mezzo {
namespace {

Resources parseOk(std::string_view text, std::string_view defaultRole = "*") {
  Result<Resources> parsed = Resources::parse(text, defaultRole);
  EXPECT_TRUE(parsed.isOk()) << text << ": " << parsed.error();
  return parsed.isOk() ? *parsed : Resources();
}

std::string parseError(std::string_view text, std::string_view defaultRole = "*") {
  Result<Resources> parsed = Resources::parse(text, defaultRole);
  EXPECT_FALSE(parsed.isOk()) << text << " parsed as " << (parsed.isOk() ? parsed->toString() : "");
  if (parsed.isOk()) return {};
  EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
  return parsed.error();
}

ResourceProtos protosFromJson(std::string_view text) {
  ResourceProtos protos;
  for (const nlohmann::json& item : nlohmann::json::parse(text)) {
    Status status = jsonToMessage(item, protos.Add());
    EXPECT_TRUE(status.isOk()) << status.message();
  }
  return protos;
}

Resources fromJsonOk(std::string_view text) {
  Result<Resources> resources = Resources::fromProto(protosFromJson(text));
  EXPECT_TRUE(resources.isOk()) << text << ": " << resources.error();
  return resources.isOk() ? *resources : Resources();
}

std::string fromJsonError(std::string_view text) {
  Result<Resources> resources = Resources::fromProto(protosFromJson(text));
  EXPECT_FALSE(resources.isOk()) << text;
  return resources.isOk() ? std::string() : resources.error();
}

// --------------------------------------------------------------------- parse

TEST(ResourcesParse, AllValueKinds) {
  Resources r = parseOk("cpus:4;mem:8192;disk:10000;ports:[31000-32000];cpus(ops):2;disks:{sda,sdb}");
  ASSERT_EQ(r.entries().size(), 6u);
  EXPECT_EQ(r.cpus(), 6);
  EXPECT_EQ(r.mem(), 8192);
  EXPECT_EQ(r.disk(), 10000);
  const ResourceEntry& ports = r.entries()[3];
  EXPECT_EQ(ports.type, v1::Value::RANGES);
  EXPECT_EQ(ports.ranges, (std::vector<Interval>{{31000, 32000}}));
  const ResourceEntry& reserved = r.entries()[4];
  EXPECT_EQ(reserved.reservationRole(), "ops");
  ASSERT_EQ(reserved.reservations.size(), 1u);
  EXPECT_EQ(reserved.reservations[0].type, Reservation::Type::kStatic);
  EXPECT_EQ(r.entries()[5].items, (std::set<std::string>{"sda", "sdb"}));
  EXPECT_EQ(r.entries()[0].reservationRole(), "*");
}

TEST(ResourcesParse, WhitespaceAndEmptyTokens) {
  Resources r = parseOk("  cpus : 4 ;; mem:8192 ;ports : [ 1-2 , 5 - 6 ] ; cpus ( ops ) : 1; disks: { sda , sdb } ;");
  EXPECT_EQ(r, parseOk("cpus:4;mem:8192;ports:[1-2,5-6];cpus(ops):1;disks:{sda,sdb}"));
  EXPECT_TRUE(parseOk("").empty());
  EXPECT_TRUE(parseOk("  ; ").empty());
}

TEST(ResourcesParse, SameMetadataMerges) {
  Resources r = parseOk("cpus:1;cpus:2.5;ports:[1-5];ports:[3-10];cpus(*):1");
  ASSERT_EQ(r.entries().size(), 2u);
  EXPECT_EQ(r.entries()[0].scalarMillis, 4500);
  EXPECT_EQ(r.entries()[1].ranges, (std::vector<Interval>{{1, 10}}));
}

TEST(ResourcesParse, DefaultRole) {
  Resources r = parseOk("cpus:1;mem(*):2;disk(ops):3", "eng");
  EXPECT_EQ(r.reservedFor("eng"), parseOk("cpus(eng):1"));
  EXPECT_EQ(r.unreserved(), parseOk("mem:2"));
  EXPECT_EQ(r.reservedFor("ops"), parseOk("disk(ops):3"));
  EXPECT_NE(parseError("cpus:1", "eng/").find("Invalid default role"), std::string::npos);
}

TEST(ResourcesParse, ScalarsAreFixedPointWithThreeDecimals) {
  EXPECT_EQ(parseOk("cpus:1.23456").entries()[0].scalarMillis, 1235);
  EXPECT_EQ(parseOk("cpus:0.1").entries()[0].scalarMillis, 100);
  EXPECT_TRUE(parseOk("cpus:0.0004").empty());  // rounds to zero, dropped
  EXPECT_TRUE(parseOk("cpus:0;ports:[];disks:{}").empty());
}

TEST(ResourcesParse, Errors) {
  struct Case {
    std::string text;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"cpus:abc", "Bad number 'abc'"},
      {"cpus:1x", "Bad number"},
      {"cpus:-1", "must not be negative"},
      {"cpus:nan", "finite"},
      {"cpus:inf", "finite"},
      {"cpus:1e300", "too large"},
      {"ports:[5-1]", "begin > end"},
      {"ports:[1-2", "Malformed ranges"},
      {"ports:1-2]", "Malformed ranges"},
      {"ports:[1-2-3]", "Malformed range"},
      {"ports:[7]", "expected begin-end"},
      {"ports:[a-2]", "Bad range bound 'a'"},
      {"ports:[1-2,]", "Malformed range"},
      {"ports:[1-x]", "Bad range bound 'x'"},
      {"ports:[-1-2]", "Malformed range"},
      {"disks:{a,,b}", "Empty item"},
      {"disks:{a", "Malformed set"},
      {"cpus", "expected name:value"},
      {"cpus:", "missing value"},
      {":4", "bad resource name"},
      {"cp us:4", "bad resource name"},
      {"cpus(eng:1", "missing ')'"},
      {"cpus(eng)x:1", "expected ':'"},
      {"cpus(eng)(allocated: eng):1", "expected ':'"},
      {"cpus():1", "Role name must not be empty"},
      {"cpus(eng/):1", "cannot start or end with '/'"},
      {"cpus(.):1", "'.'"},
      {"cpus(-eng):1", "cannot start with '-'"},
      {"cpus:1;cpus:[1-2]", "different types"},
      {"[{\"name\":\"cpus\"}]", "Missing required fields"},
      {"[1]", "Expecting a JSON object"},
      {"[{\"name\":\"cpus\",\"type\":\"SCALAR\"", "expected a JSON array"},
  };
  for (const Case& c : cases) {
    std::string error = parseError(c.text);
    EXPECT_NE(error.find(c.expected), std::string::npos) << c.text << " -> " << error;
  }
  // The offending token is named.
  EXPECT_NE(parseError("mem:1;cpus:abc").find("'cpus:abc'"), std::string::npos);
}

TEST(ResourcesParse, JsonArray) {
  Resources r = parseOk(R"([
    {"name":"cpus","type":"SCALAR","scalar":{"value":2}},
    {"name":"ports","type":"RANGES","ranges":{"range":[{"begin":31000,"end":31005}]}},
    {"name":"disks","type":"SET","set":{"item":["sda","sdb"]}},
    {"name":"mem","type":"SCALAR","scalar":{"value":512},"role":"ops"},
    {"name":"disk","type":"SCALAR","scalar":{"value":100},"role":"*"}
  ])",
                        "eng");
  EXPECT_EQ(r, parseOk("cpus(eng):2;ports(eng):[31000-31005];disks(eng):{sda,sdb};mem(ops):512;disk:100"));
  EXPECT_TRUE(parseOk(" [ ] ").empty());
  EXPECT_NE(parseError(R"([{"name":"cpus","type":"SCALAR","scalar":{"value":-1}}])").find("negative"),
            std::string::npos);
}

// --------------------------------------------------------------------- print

TEST(ResourcesPrint, RoundTrips) {
  for (std::string text :
       {"cpus:4;mem:8192;ports:[31000-32000]", "cpus(ops):2;disks:{sda,sdb}", "cpus:0.5;mem:0.001;disk:1.25",
        "ports:[1-4,10-12,18446744073709551615-18446744073709551615]", "cpus(eng/ml):1;cpus:2", ""}) {
    Resources r = parseOk(text);
    EXPECT_EQ(r.toString(), text);
    EXPECT_EQ(parseOk(r.toString()), r);
  }
}

TEST(ResourcesPrint, Normalises) {
  EXPECT_EQ(parseOk("ports:[3-4,1-2,10-12]").toString(), "ports:[1-4,10-12]");
  EXPECT_EQ(parseOk("mem:1.500;cpus(*):2.000").toString(), "mem:1.5;cpus:2");
  EXPECT_EQ(parseOk("disks:{b,a,b}").toString(), "disks:{a,b}");
  std::ostringstream stream;
  stream << parseOk("cpus:1");
  EXPECT_EQ(stream.str(), "cpus:1");
}

TEST(ResourcesPrint, AnnotatesWhatTheTextFormatCannotSay) {
  Resources r = fromJsonOk(R"([
    {"name":"cpus","type":"SCALAR","scalar":{"value":1},"revocable":{},"allocation_info":{"role":"eng"}},
    {"name":"mem","type":"SCALAR","scalar":{"value":2},
     "reservations":[{"type":"STATIC","role":"eng"},{"type":"DYNAMIC","role":"eng/ml","principal":"alice"}]}
  ])");
  EXPECT_EQ(r.toString(), "cpus(allocated: eng){REV}:1;mem(reservations: [(STATIC,eng),(DYNAMIC,eng/ml,alice)]):2");
  EXPECT_FALSE(Resources::parse(r.toString()).isOk());
}

// --------------------------------------------------------------------- arithmetic

TEST(ResourcesArithmetic, FixedPoint) {
  Resources sum = parseOk("cpus:0.1") + parseOk("cpus:0.2");
  EXPECT_EQ(sum, parseOk("cpus:0.3"));
  EXPECT_EQ(sum.cpus(), 0.3);
  Resources r = parseOk("cpus:1");
  for (int i = 0; i < 10; ++i) r -= parseOk("cpus:0.1");
  EXPECT_TRUE(r.empty());
}

TEST(ResourcesArithmetic, AddAndSubtractScalars) {
  Resources r = parseOk("cpus:4;mem:1024");
  r += parseOk("cpus:2;disk:10");
  EXPECT_EQ(r.toString(), "cpus:6;mem:1024;disk:10");
  r -= parseOk("cpus:1;mem:2048;gpus:1");  // mem goes to zero and is dropped; gpus ignored
  EXPECT_EQ(r.toString(), "cpus:5;disk:10");
  EXPECT_EQ(r - r, Resources());
}

TEST(ResourcesArithmetic, RangesMergeAndSplit) {
  EXPECT_EQ((parseOk("ports:[1-2]") + parseOk("ports:[3-4]")).toString(), "ports:[1-4]");
  EXPECT_EQ((parseOk("ports:[1-5]") + parseOk("ports:[3-8,20-30]")).toString(), "ports:[1-8,20-30]");
  EXPECT_EQ((parseOk("ports:[1-10]") - parseOk("ports:[4-6]")).toString(), "ports:[1-3,7-10]");
  EXPECT_EQ((parseOk("ports:[1-10]") - parseOk("ports:[1-1,10-10]")).toString(), "ports:[2-9]");
  EXPECT_EQ((parseOk("ports:[1-10,20-30]") - parseOk("ports:[5-25]")).toString(), "ports:[1-4,26-30]");
  EXPECT_EQ((parseOk("ports:[1-10]") - parseOk("ports:[0-100]")), Resources());
  EXPECT_EQ((parseOk("ports:[5-10]") - parseOk("ports:[1-2,11-20]")).toString(), "ports:[5-10]");
  const std::string max = std::to_string(std::numeric_limits<uint64_t>::max());
  Resources top = parseOk("ports:[0-" + max + "]");
  EXPECT_EQ((top - parseOk("ports:[0-0," + max + "-" + max + "]")).entries()[0].ranges,
            (std::vector<Interval>{{1, std::numeric_limits<uint64_t>::max() - 1}}));
  EXPECT_EQ(parseOk("ports:[10-" + max + "]") + parseOk("ports:[0-9]"), top);
}

TEST(ResourcesArithmetic, Sets) {
  EXPECT_EQ((parseOk("disks:{a,b}") + parseOk("disks:{b,c}")).toString(), "disks:{a,b,c}");
  EXPECT_EQ((parseOk("disks:{a,b,c}") - parseOk("disks:{b,z}")).toString(), "disks:{a,c}");
  EXPECT_TRUE((parseOk("disks:{a}") - parseOk("disks:{a}")).empty());
  EXPECT_TRUE(parseOk("disks:{a,b}").contains(parseOk("disks:{b}")));
  EXPECT_FALSE(parseOk("disks:{a,b}").contains(parseOk("disks:{b,c}")));
}

TEST(ResourcesArithmetic, MetadataIsRespected) {
  Resources reserved = parseOk("cpus(ops):2");
  Resources unreserved = parseOk("cpus:2");
  EXPECT_FALSE(reserved.contains(parseOk("cpus:1")));
  EXPECT_FALSE(unreserved.contains(parseOk("cpus(ops):1")));
  EXPECT_EQ(reserved - unreserved, reserved);
  EXPECT_NE(reserved, unreserved);
  Resources both = reserved + unreserved;
  EXPECT_EQ(both.entries().size(), 2u);
  EXPECT_EQ(both.cpus(), 4);
  EXPECT_EQ(both - reserved, unreserved);
  Resources allocated = unreserved.withAllocationRole("eng");
  EXPECT_FALSE(unreserved.contains(allocated));
  EXPECT_EQ(unreserved - allocated, unreserved);
  EXPECT_NE(parseOk("cpus:1;mem:2"), parseOk("cpus:1;mem:2;disk:3"));
  EXPECT_NE(parseOk("cpus:1;mem:2"), parseOk("cpus:1;mem:3"));
}

TEST(ResourcesArithmetic, EqualityIgnoresOrder) {
  EXPECT_EQ(parseOk("cpus:1;mem:2;ports:[1-2];cpus(ops):1"), parseOk("cpus(ops):1;ports:[1-2];mem:2;cpus:1"));
}

TEST(ResourcesArithmetic, Contains) {
  Resources r = parseOk("cpus:4;mem:1024;ports:[31000-32000];disks:{a,b}");
  EXPECT_TRUE(r.contains(Resources()));
  EXPECT_TRUE(r.contains(r));
  EXPECT_TRUE(r.contains(parseOk("cpus:4;ports:[31000-31000,31500-32000];disks:{b}")));
  EXPECT_FALSE(r.contains(parseOk("cpus:4.001")));
  EXPECT_FALSE(r.contains(parseOk("ports:[30999-31000]")));
  EXPECT_FALSE(r.contains(parseOk("gpus:1")));
  EXPECT_FALSE(parseOk("ports:[1-2,4-5]").contains(parseOk("ports:[2-4]")));
}

TEST(ResourcesArithmetic, AddEntryNormalisesRanges) {
  ResourceEntry entry;
  entry.name = "ports";
  entry.type = v1::Value::RANGES;
  entry.ranges = {{10, 12}, {1, 5}, {6, 7}};
  Resources r;
  r.addEntry(entry);
  EXPECT_EQ(r.toString(), "ports:[1-7,10-12]");
  entry.ranges.clear();
  r.addEntry(entry);  // empty: ignored
  EXPECT_EQ(r.entries().size(), 1u);
}

// --------------------------------------------------------------------- roles

TEST(ResourcesRoles, Filters) {
  Resources r = parseOk("cpus(eng):1;cpus(eng/ml):2;cpus(ops):4;cpus:8;mem:16");
  EXPECT_EQ(r.allocatableTo("eng/ml").cpus(), 11);
  EXPECT_EQ(r.allocatableTo("eng/ml/deep").cpus(), 11);
  EXPECT_EQ(r.allocatableTo("eng").cpus(), 9);
  EXPECT_EQ(r.allocatableTo("engineering").cpus(), 8);
  EXPECT_EQ(r.allocatableTo("ops"), parseOk("cpus(ops):4;cpus:8;mem:16"));
  EXPECT_EQ(r.reservedFor("eng"), parseOk("cpus(eng):1"));
  EXPECT_EQ(r.reserved().cpus(), 7);
  EXPECT_EQ(r.unreserved(), parseOk("cpus:8;mem:16"));
  EXPECT_EQ(r.reserved() + r.unreserved(), r);
}

TEST(ResourcesRoles, AllocationRoles) {
  Resources r = parseOk("cpus:2;mem:10");
  Resources eng = r.withAllocationRole("eng");
  Resources ops = parseOk("cpus:1").withAllocationRole("ops");
  Resources all = eng + ops;
  EXPECT_EQ(all.allocatedTo("eng"), eng);
  EXPECT_EQ(all.allocatedTo("ops"), ops);
  EXPECT_TRUE(all.allocatedTo("dev").empty());
  EXPECT_EQ(all.allocatedTo(""), Resources());
  EXPECT_EQ(r.allocatedTo(""), r);
  // Dropping the allocation merges what was split by role.
  EXPECT_EQ(all.withoutAllocation(), parseOk("cpus:3;mem:10"));
  EXPECT_EQ(all.withoutAllocation().entries().size(), 2u);
  EXPECT_EQ(all.withAllocationRole("x").entries().size(), 2u);
  EXPECT_EQ(all.cpus(), 3);
  EXPECT_EQ(all.scalarQuantities(), (std::map<std::string, double>{{"cpus", 3}, {"mem", 10}}));
}

TEST(ResourcesRoles, RevocableFilters) {
  Resources r = fromJsonOk(R"([
    {"name":"cpus","type":"SCALAR","scalar":{"value":1},"revocable":{}},
    {"name":"cpus","type":"SCALAR","scalar":{"value":2}}
  ])");
  EXPECT_EQ(r.entries().size(), 2u);
  EXPECT_EQ(r.cpus(), 3);
  EXPECT_EQ(r.revocable().cpus(), 1);
  EXPECT_EQ(r.nonRevocable(), parseOk("cpus:2"));
}

TEST(ResourcesRoles, IsRoleOrDescendant) {
  EXPECT_TRUE(isRoleOrDescendant("eng", "eng"));
  EXPECT_TRUE(isRoleOrDescendant("eng/ml", "eng"));
  EXPECT_TRUE(isRoleOrDescendant("eng/ml/x", "eng"));
  EXPECT_FALSE(isRoleOrDescendant("eng", "eng/ml"));
  EXPECT_FALSE(isRoleOrDescendant("engineering", "eng"));
  EXPECT_FALSE(isRoleOrDescendant("eng", "*"));
  EXPECT_TRUE(isRoleOrDescendant("*", "*"));
}

// --------------------------------------------------------------------- protobuf

TEST(ResourcesProto, ToProtoUsesPostRefinementFormat) {
  Resources r = parseOk("cpus(eng):1.5;ports:[1-2,5-6];disks:{b,a}").withAllocationRole("eng");
  ResourceProtos protos = r.toProto();
  ASSERT_EQ(protos.size(), 3);
  const v1::Resource& cpus = protos[0];
  EXPECT_EQ(cpus.name(), "cpus");
  EXPECT_EQ(cpus.type(), v1::Value::SCALAR);
  EXPECT_EQ(cpus.scalar().value(), 1.5);
  EXPECT_FALSE(cpus.has_reservation());
  ASSERT_EQ(cpus.reservations_size(), 1);
  EXPECT_EQ(cpus.reservations(0).type(), v1::Resource::ReservationInfo::STATIC);
  EXPECT_EQ(cpus.reservations(0).role(), "eng");
  EXPECT_FALSE(cpus.reservations(0).has_principal());
  EXPECT_EQ(cpus.allocation_info().role(), "eng");
  EXPECT_FALSE(cpus.has_revocable());
  EXPECT_EQ(protos[1].ranges().range_size(), 2);
  EXPECT_EQ(protos[1].ranges().range(1).begin(), 5u);
  EXPECT_EQ(protos[2].set().item(0), "a");
  EXPECT_EQ(protos[2].reservations_size(), 0);

  nlohmann::json json = messageToJson(protos[0]);
  EXPECT_FALSE(json.contains("role"));
  EXPECT_EQ(json["reservations"][0]["type"], "STATIC");

  ResourceProtos appended;
  r.toProto(&appended);
  r.toProto(&appended);
  EXPECT_EQ(appended.size(), 6);
}

TEST(ResourcesProto, RoundTrip) {
  Resources r = fromJsonOk(R"([
    {"name":"cpus","type":"SCALAR","scalar":{"value":0.25},"revocable":{},"allocation_info":{"role":"eng/ml"}},
    {"name":"mem","type":"SCALAR","scalar":{"value":64},
     "reservations":[{"type":"STATIC","role":"eng"},{"type":"DYNAMIC","role":"eng/ml","principal":"alice"}]},
    {"name":"ports","type":"RANGES","ranges":{"range":[{"begin":5,"end":9},{"begin":1,"end":4}]}},
    {"name":"disks","type":"SET","set":{"item":["x"]}}
  ])");
  ASSERT_EQ(r.entries().size(), 4u);
  EXPECT_TRUE(r.entries()[0].revocable);
  EXPECT_EQ(r.entries()[0].allocationRole, "eng/ml");
  EXPECT_EQ(r.entries()[1].reservationRole(), "eng/ml");
  EXPECT_EQ(r.entries()[1].reservations[1].principal, "alice");
  EXPECT_EQ(r.entries()[2].ranges, (std::vector<Interval>{{1, 9}}));
  Result<Resources> back = Resources::fromProto(r.toProto());
  ASSERT_TRUE(back.isOk()) << back.error();
  EXPECT_EQ(*back, r);
  EXPECT_EQ(back->toString(), r.toString());
  EXPECT_TRUE(back->toProto()[0].has_revocable());
}

TEST(ResourcesProto, PreRefinementFormat) {
  Resources legacy = fromJsonOk(R"([
    {"name":"cpus","type":"SCALAR","scalar":{"value":1},"role":"eng"},
    {"name":"mem","type":"SCALAR","scalar":{"value":2},"role":"eng","reservation":{"principal":"alice"}},
    {"name":"disk","type":"SCALAR","scalar":{"value":3},"role":"*"}
  ])");
  Resources refined = fromJsonOk(R"([
    {"name":"cpus","type":"SCALAR","scalar":{"value":1},"reservations":[{"type":"STATIC","role":"eng"}]},
    {"name":"mem","type":"SCALAR","scalar":{"value":2},
     "reservations":[{"type":"DYNAMIC","role":"eng","principal":"alice"}]},
    {"name":"disk","type":"SCALAR","scalar":{"value":3}}
  ])");
  EXPECT_EQ(legacy, refined);
  EXPECT_EQ(legacy.entries()[1].reservations[0].type, Reservation::Type::kDynamic);
  EXPECT_EQ(legacy.entries()[1].reservations[0].principal, "alice");
  // UNKNOWN reservation type reads as STATIC.
  EXPECT_EQ(fromJsonOk(R"([{"name":"cpus","type":"SCALAR","scalar":{"value":1},"reservations":[{"role":"eng"}]}])"),
            parseOk("cpus(eng):1"));
  // Round trip of the legacy form comes back post-refinement.
  ResourceProtos protos = legacy.toProto();
  EXPECT_FALSE(messageToJson(protos[1]).contains("role"));
  EXPECT_EQ(protos[1].reservations(0).principal(), "alice");
  EXPECT_EQ(protos[1].reservations(0).type(), v1::Resource::ReservationInfo::DYNAMIC);
}

TEST(ResourcesProto, DropsEmptyValuesAndMerges) {
  Resources r = fromJsonOk(R"([
    {"name":"cpus","type":"SCALAR","scalar":{"value":0}},
    {"name":"ports","type":"RANGES","ranges":{}},
    {"name":"disks","type":"SET","set":{}},
    {"name":"mem","type":"SCALAR","scalar":{"value":1}},
    {"name":"mem","type":"SCALAR","scalar":{"value":2}}
  ])");
  EXPECT_EQ(r, parseOk("mem:3"));
}

TEST(ResourcesProto, ValidationErrors) {
  struct Case {
    std::string json;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {R"({"name":"","type":"SCALAR","scalar":{"value":1}})", "name must not be empty"},
      {R"({"name":"cpus","type":"SCALAR"})", "matching value field"},
      {R"({"name":"cpus","type":"RANGES","scalar":{"value":1}})", "matching value field"},
      {R"({"name":"cpus","type":"SCALAR","scalar":{"value":1},"set":{}})", "matching value field"},
      {R"({"name":"cpus","type":"SET","set":{},"ranges":{}})", "matching value field"},
      {R"({"name":"cpus","type":"TEXT"})", "unsupported type TEXT"},
      {R"({"name":"cpus","type":"SCALAR","scalar":{"value":-0.5}})", "negative"},
      {R"({"name":"cpus","type":"SCALAR","scalar":{"value":"Infinity"}})", "finite"},
      {R"({"name":"cpus","type":"SCALAR","scalar":{"value":"NaN"}})", "finite"},
      {R"({"name":"ports","type":"RANGES","ranges":{"range":[{"begin":5,"end":4}]}})", "begin > end"},
      {R"({"name":"cpus","type":"SCALAR","scalar":{"value":1},"role":"eng",
           "reservations":[{"type":"STATIC","role":"eng"}]})",
       "mixes"},
      {R"({"name":"cpus","type":"SCALAR","scalar":{"value":1},"reservation":{"principal":"a"},
           "reservations":[{"type":"DYNAMIC","role":"eng"}]})",
       "mixes"},
      {R"({"name":"cpus","type":"SCALAR","scalar":{"value":1},"reservation":{"principal":"a"}})", "no role"},
      {R"({"name":"cpus","type":"SCALAR","scalar":{"value":1},"reservations":[{"type":"STATIC"}]})",
       "needs a role"},
      {R"({"name":"cpus","type":"SCALAR","scalar":{"value":1},"reservations":[{"role":"*"}]})", "needs a role"},
      {R"({"name":"cpus","type":"SCALAR","scalar":{"value":1},"role":"/bad"})", "Invalid role"},
      {R"({"name":"cpus","type":"SCALAR","scalar":{"value":1},"reservations":[{"role":"a b"}]})",
       "Invalid reservation role"},
      {R"({"name":"cpus","type":"SCALAR","scalar":{"value":1},
           "reservations":[{"role":"eng"},{"role":"ops"}]})",
       "does not refine"},
      {R"({"name":"cpus","type":"SCALAR","scalar":{"value":1},
           "reservations":[{"role":"eng"},{"role":"eng"}]})",
       "does not refine"},
      {R"({"name":"cpus","type":"SCALAR","scalar":{"value":1},"allocation_info":{"role":"."}})",
       "Invalid allocation role"},
  };
  for (const Case& c : cases) {
    std::string error = fromJsonError("[" + c.json + "]");
    EXPECT_NE(error.find(c.expected), std::string::npos) << c.json << " -> " << error;
  }
}

// --------------------------------------------------------------------- state JSON

TEST(ResourcesStateJson, FlattenedLegacyForm) {
  Resources r = parseOk("cpus:1.5;mem:256;ports:[31000-31005,31010-31020];disks:{b,a};cpus(eng):1;foo:2") +
                fromJsonOk(R"([{"name":"cpus","type":"SCALAR","scalar":{"value":2},"revocable":{}},
                               {"name":"ports","type":"RANGES","ranges":{"range":[{"begin":31006,"end":31006}]},
                                "role":"eng"}])");
  nlohmann::json json = r.toStateJson();
  EXPECT_EQ(json["cpus"], 2.5);
  EXPECT_EQ(json["mem"], 256.0);
  EXPECT_EQ(json["gpus"], 0);
  EXPECT_EQ(json["disk"], 0);
  EXPECT_EQ(json["foo"], 2.0);
  EXPECT_EQ(json["ports"], "[31000-31006,31010-31020]");  // merged across metadata
  EXPECT_EQ(json["disks"], "{a,b}");
  EXPECT_EQ(json["cpus_revocable"], 2.0);
  EXPECT_EQ(json.size(), 8u);

  EXPECT_EQ(Resources().toStateJson(), (nlohmann::json{{"cpus", 0}, {"gpus", 0}, {"mem", 0}, {"disk", 0}}));
}

// --------------------------------------------------------------------- properties

// Builds random Resources pairs whose ranges and sets are disjoint for equal
// metadata (so that (a + b) - b == a must hold exactly): each "slot" owns its
// own port window and item prefix and splits it between a, b and neither.
class RandomResources {
 public:
  explicit RandomResources(uint32_t seed) : rng_(seed) {}

  std::pair<Resources, Resources> pair() {
    Resources a;
    Resources b;
    int slots = pick(0, 6);
    for (int slot = 0; slot < slots; ++slot) {
      ResourceEntry meta = metadata();
      ResourceEntry left = meta;
      ResourceEntry right = meta;
      if (meta.type == v1::Value::SCALAR) {
        left.scalarMillis = pick(0, 3) == 0 ? 0 : pick(1, 100000);
        right.scalarMillis = pick(0, 3) == 0 ? 0 : pick(1, 100000);
      } else {
        for (int unit = 0; unit < 40; ++unit) {
          int owner = pick(0, 2);
          uint64_t port = static_cast<uint64_t>(slot) * 100 + static_cast<uint64_t>(unit);
          std::string item = "s" + std::to_string(slot) + "-" + std::to_string(unit);
          ResourceEntry& target = owner == 0 ? left : right;
          if (owner == 2) continue;
          if (meta.type == v1::Value::RANGES) {
            target.ranges.push_back({port, port});
          } else {
            target.items.insert(item);
          }
        }
      }
      a.addEntry(left);
      b.addEntry(right);
    }
    return {a, b};
  }

 private:
  int pick(int low, int high) { return std::uniform_int_distribution<int>(low, high)(rng_); }

  ResourceEntry metadata() {
    ResourceEntry entry;
    switch (pick(0, 4)) {
      case 0: entry.name = "cpus"; break;
      case 1: entry.name = "mem"; break;
      case 2: entry.name = "gpus"; break;
      case 3: entry.name = "ports"; entry.type = v1::Value::RANGES; break;
      default: entry.name = "disks"; entry.type = v1::Value::SET; break;
    }
    switch (pick(0, 3)) {
      case 0: break;
      case 1: entry.reservations = {{Reservation::Type::kStatic, "eng", ""}}; break;
      case 2: entry.reservations = {{Reservation::Type::kDynamic, "ops", "alice"}}; break;
      default:
        entry.reservations = {{Reservation::Type::kStatic, "eng", ""}, {Reservation::Type::kDynamic, "eng/ml", "bob"}};
        break;
    }
    if (pick(0, 3) == 0) entry.allocationRole = "eng";
    entry.revocable = pick(0, 5) == 0;
    return entry;
  }

  std::mt19937 rng_;
};

TEST(ResourcesProperty, ArithmeticLaws) {
  RandomResources random(20240601);
  for (int i = 0; i < 3000; ++i) {
    auto [a, b] = random.pair();
    auto [c, d] = random.pair();  // overlaps a and b freely
    SCOPED_TRACE("a=" + a.toString() + " b=" + b.toString() + " c=" + c.toString());

    Resources sum = a + b;
    ASSERT_EQ(sum - b, a);
    ASSERT_EQ(sum - a, b);
    ASSERT_EQ(sum, b + a);
    ASSERT_TRUE(sum.contains(a));
    ASSERT_TRUE(sum.contains(b));
    ASSERT_TRUE(a.contains(a - c));
    ASSERT_EQ((sum + c) - c + c, sum + c);
    ASSERT_EQ((a + b) + c, a + (b + c));
    ASSERT_TRUE(Resources().contains(Resources()));

    // contains agrees with subtraction, for arbitrary (overlapping) values.
    ASSERT_EQ(a.contains(c), (c - a).empty());
    ASSERT_EQ(sum.contains(c), (c - sum).empty());
    if (a.contains(c)) {
      ASSERT_EQ((a - c) + c, a);
    }

    // Scalar totals add up.
    for (const auto& [name, total] : sum.scalarQuantities()) {
      ASSERT_NEAR(total, a.scalar(name) + b.scalar(name), 1e-9);
    }

    // Wire and text round trips.
    Result<Resources> back = Resources::fromProto(sum.toProto());
    ASSERT_TRUE(back.isOk()) << back.error();
    ASSERT_EQ(*back, sum);
    Resources printable = sum.filter([](const ResourceEntry& e) {
      return e.allocationRole.empty() && !e.revocable &&
             (e.reservations.empty() ||
              (e.reservations.size() == 1 && e.reservations[0].type == Reservation::Type::kStatic));
    });
    Result<Resources> reparsed = Resources::parse(printable.toString());
    ASSERT_TRUE(reparsed.isOk()) << reparsed.error();
    ASSERT_EQ(*reparsed, printable);
  }
}

}  // namespace
}  // namespace mezzo
