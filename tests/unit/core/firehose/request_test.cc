// The Firehose delivery body, the JSON response and common attributes.
#include "core/firehose/request.h"

#include <vector>

#include <gtest/gtest.h>

#include "core/firehose/common_attributes.h"
#include "tests/unit/core/firehose/firehose_test_util.h"

namespace otlpgate::firehose {
namespace {

using test::attr;

struct Seen {
  std::size_t index;
  std::string data;
  std::string error;
};

std::vector<Seen> parse(std::string body, DeliveryBody& meta, std::string* error = nullptr) {
  std::vector<Seen> seen;
  const std::string e =
      parse_delivery(body, meta, [&](std::size_t i, std::string_view d, std::string_view err) {
        seen.push_back({i, std::string(d), std::string(err)});
      });
  if (error)
    *error = e;
  else
    EXPECT_EQ(e, "");
  return seen;
}

TEST(ParseDelivery, RecordsInOrderKeysInAnyOrder) {
  DeliveryBody meta;
  const auto seen = parse(
      R"({"records":[{"data":"Zm9v"},{"data":""},{"data":"Zm9\/YmFy"},{"x":1}],"unknown":{"a":[1]},)"
      R"("timestamp":1736935500000,"requestId":"id-1"})",
      meta);
  EXPECT_EQ(meta.request_id, "id-1");
  EXPECT_EQ(meta.timestamp_ms, 1736935500000);
  EXPECT_EQ(meta.records, 4u);
  ASSERT_EQ(seen.size(), 4u);
  EXPECT_EQ(seen[0].data, "foo");
  EXPECT_EQ(seen[1].data, "");
  EXPECT_EQ(seen[1].error, "");
  EXPECT_EQ(seen[2].data,
            "fo\x7f"
            "bar");  // "\/" is an escaped '/'
  EXPECT_EQ(seen[3].error, "no data");
}

TEST(ParseDelivery, BadRecordsAreReportedOneByOne) {
  DeliveryBody meta;
  const auto seen =
      parse(R"({"requestId":"x","records":[{"data":"Zm9v!"},{"data":5},{"data":"Zg=="}]})", meta);
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].error, "data is not base64 (at character 4)");
  EXPECT_EQ(seen[1].error, "data is not a string");
  EXPECT_EQ(seen[2].data, "f");
}

TEST(ParseDelivery, ABodyThatIsNotADeliveryFails) {
  for (const char* body : {"", "not json", "[]", R"({"requestId":5})", R"({"records":{}})",
                           R"({"requestId":"a"} trailing)", R"({"records":[1]})"}) {
    DeliveryBody meta;
    std::string error;
    parse(body, meta, &error);
    EXPECT_FALSE(error.empty()) << body;
  }
}

TEST(ParseDelivery, TheFixtureBodies) {
  DeliveryBody meta;
  const auto seen = parse(test::fixture("deliveries/otel10_delivery.json"), meta);
  EXPECT_EQ(meta.request_id, "b1b65570-bfc3-5b9f-993f-2eefaddf2229");
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].data, test::fixture("otel10/single_request.bin"));
  EXPECT_EQ(seen[1].data, test::fixture("otel10/multi_request.bin"));
}

TEST(Response, ShapeEscapesAndLimits) {
  EXPECT_EQ(encode_response("id-1", 17, ""), R"({"requestId":"id-1","timestamp":17})");
  EXPECT_EQ(encode_response("a\"b", 1, "bad\nrecord"),
            R"({"requestId":"a\"b","timestamp":1,"errorMessage":"bad\nrecord"})");
  EXPECT_EQ(encode_response("\xff", 1, ""), R"({"requestId":"?","timestamp":1})");
  const std::string long_message = std::string(kMaxErrorMessage - 1, 'x') + "\xc3\xa9tail";
  const std::string r = encode_response("i", 1, long_message);
  EXPECT_NE(r.find(std::string(kMaxErrorMessage - 1, 'x') + "\"}"), std::string::npos);
}

TEST(CommonAttributes, ParsedInOrder) {
  Attributes a;
  EXPECT_EQ(parse_common_attributes(R"({"commonAttributes":{"env":"prod","team":"a\"b"}})", a), "");
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0], (std::pair<std::string, std::string>{"env", "prod"}));
  EXPECT_EQ(a[1].second, "a\"b");
  for (const char* bad :
       {"nope", R"({"commonAttributes":[1]})", R"({"commonAttributes":{"n":1}})"}) {
    Attributes b;
    EXPECT_NE(parse_common_attributes(bad, b), "") << bad;
  }
}

TEST(CommonAttributes, AddedToEveryResourceWithoutOverwriting) {
  test::MetricsRequest req;
  auto* with = req.add_resource_metrics();
  auto* kv = with->mutable_resource()->add_attributes();
  kv->set_key("env");
  kv->mutable_value()->set_string_value("staging");
  with->add_scope_metrics()->add_metrics()->mutable_gauge()->add_data_points()->set_as_int(1);
  req.add_resource_metrics()
      ->add_scope_metrics()
      ->add_metrics()
      ->mutable_gauge()
      ->add_data_points()
      ->set_as_int(2);
  const Attributes common = {{"env", "prod"}, {"team", "core"}};
  const Bytes out = otlp::add_missing_resource_attributes(
      Signal::metrics, Bytes::copy_of(req.SerializeAsString()), common);
  const auto got = test::parse<test::MetricsRequest>(std::string(out.view()));
  ASSERT_EQ(got.resource_metrics_size(), 2);
  EXPECT_EQ(attr(got.resource_metrics(0).resource().attributes(), "env"), "staging");
  EXPECT_EQ(attr(got.resource_metrics(0).resource().attributes(), "team"), "core");
  EXPECT_EQ(attr(got.resource_metrics(1).resource().attributes(), "env"), "prod");
  EXPECT_EQ(attr(got.resource_metrics(1).resource().attributes(), "team"), "core");

  const Bytes same = Bytes::copy_of(got.SerializeAsString());
  EXPECT_TRUE(otlp::add_missing_resource_attributes(Signal::metrics, same, common).same_storage(same));
}

}  // namespace
}  // namespace otlpgate::firehose
