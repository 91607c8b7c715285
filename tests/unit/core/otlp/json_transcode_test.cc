// The OTLP JSON transcoder against libprotobuf: what libprotobuf prints as JSON (adjusted to the
// OTLP rules) must come back as the very message it printed; malformed documents are refused with
// a message naming the JSON path; the JSON responses parse as the protobuf messages they stand for.
#include "core/otlp/json_transcode.h"

#include <gtest/gtest.h>

#include <google/protobuf/text_format.h>
#include <google/protobuf/util/field_comparator.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>

#include <cmath>
#include <string>

#include "core/otlp/index.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "tests/support/otlp_json.h"
#include "tests/support/random_otlp.h"

namespace otlpgate::otlp {
namespace {

using google::protobuf::Message;
using testing::new_request;
using testing::OtlpJsonOptions;
using testing::to_otlp_json;

std::unique_ptr<Message> random_request(Signal s, uint64_t seed) {
  testing::RandomOptions o;
  o.unknown_fields = false;  // JSON has no place for them: libprotobuf's printer drops them
  auto m = new_request(s);
  switch (s) {
    case Signal::metrics:
      m->CopyFrom(testing::random_metrics(seed, o));
      break;
    case Signal::traces:
      m->CopyFrom(testing::random_traces(seed, o));
      break;
    case Signal::logs:
      m->CopyFrom(testing::random_logs(seed, o));
      break;
  }
  return m;
}

// Transcodes and parses the result with libprotobuf; a failure of either fails the test.
std::unique_ptr<Message> transcode(Signal s, const std::string& json,
                                   std::string* bytes = nullptr) {
  JsonTranscodeResult r = json_to_protobuf(s, json);
  EXPECT_TRUE(r) << r.error << "\nin: " << json.substr(0, 2000);
  auto m = new_request(s);
  EXPECT_TRUE(m->ParseFromString(r.bytes)) << "libprotobuf cannot parse the transcoder's output";
  if (bytes) *bytes = std::move(r.bytes);
  return m;
}

bool equal(const Message& a, const Message& b, std::string* diff) {
  google::protobuf::util::DefaultFieldComparator cmp;
  cmp.set_treat_nan_as_equal(true);
  google::protobuf::util::MessageDifferencer d;
  d.set_field_comparator(&cmp);
  d.ReportDifferencesToString(diff);
  return d.Compare(a, b);
}

// --- equivalence with libprotobuf's own JSON printing
// ---------------------------------------------

struct Style {
  const char* name;
  OtlpJsonOptions options;
};

const Style kStyles[] = {
    {"otlp", {}},
    {"enum names", {.enum_names = true}},
    {"snake_case keys", {.proto_field_names = true}},
    {"defaults printed", {.print_defaults = true}},
};

TEST(JsonTranscode, RandomRequestsOfEverySignalComeBackAsTheMessageLibprotobufPrinted) {
  int compared = 0;
  for (Signal s : kAllSignals) {
    for (uint64_t seed = 0; seed < 150; ++seed) {
      const auto original = random_request(s, seed);
      for (const Style& style : kStyles) {
        SCOPED_TRACE(std::string(signal_name(s)) + " seed " + std::to_string(seed) + ", " +
                     style.name);
        const std::string json = to_otlp_json(*original, style.options);
        std::string bytes;
        const auto back = transcode(s, json, &bytes);
        std::string diff;
        ASSERT_TRUE(equal(*original, *back, &diff)) << diff << "\njson: " << json.substr(0, 4000);
        ++compared;
      }
    }
  }
  EXPECT_EQ(compared, 3 * 150 * 4);
}

// libprotobuf prints fields in field-number order and leaves defaults out, so the transcoder,
// which writes in key order, gives byte for byte what serializing the message gives: a request
// sent as JSON and the same request sent as protobuf reach the chain (and dedup) as equal bytes.
TEST(JsonTranscode, OtlpJsonFromLibprotobufGivesTheSerializedBytesExactly) {
  for (Signal s : kAllSignals) {
    for (uint64_t seed = 0; seed < 100; ++seed) {
      const auto original = random_request(s, seed);
      std::string bytes;
      transcode(s, to_otlp_json(*original), &bytes);
      ASSERT_EQ(bytes, original->SerializeAsString()) << signal_name(s) << " seed " << seed;
    }
  }
}

TEST(JsonTranscode, LargeRequestsUseAOneOffParserAndStillMatch) {
  // Copies of one request's resources, side by side in one document past the retained parser's
  // 4 MiB: the expected bytes are the copies' bytes side by side (a repeated field concatenates).
  const testing::TraceRequest one =
      testing::random_traces(7, testing::RandomOptions{.unknown_fields = false});
  const std::string json = to_otlp_json(one);
  const std::string head = R"({"resourceSpans":[)";
  ASSERT_EQ(json.rfind(head, 0), 0u);
  const std::string resources = json.substr(head.size(), json.size() - head.size() - 2);
  std::string big = head + resources;
  std::string want = one.SerializeAsString();
  const std::string bytes_of_one = want;
  while (big.size() < (5u << 20)) {
    big += "," + resources;
    want += bytes_of_one;
  }
  big += "]}";
  std::string bytes;
  transcode(Signal::traces, big, &bytes);
  EXPECT_EQ(bytes, want);
}

// --- the OTLP forms libprotobuf does not print
// ----------------------------------------------------

TEST(JsonTranscode, AcceptsEveryOtlpFormOfEachValue) {
  const std::string json = R"({
    "resourceLogs": [{
      "resource": {
        "attributes": [{"key": "service.name", "value": {"stringValue": "svc"}}],
        "entityRefs": [{"type": "service", "idKeys": ["service.name"], "descriptionKeys": []}],
        "somethingNew": {"nested": [1, 2, {"x": null}]}
      },
      "scope_logs": [{
        "scope": {"name": "lib", "version": null},
        "logRecords": [{
          "timeUnixNano": "1700000000000000001",
          "observed_time_unix_nano": 1700000000000000002,
          "severityNumber": "SEVERITY_NUMBER_WARN2",
          "body": {"kvlistValue": {"values": [
            {"key": "i1", "value": {"intValue": "-42"}},
            {"key": "i2", "value": {"intValue": 9007199254740993}},
            {"key": "d1", "value": {"doubleValue": "NaN"}},
            {"key": "d2", "value": {"doubleValue": "-Infinity"}},
            {"key": "d3", "value": {"doubleValue": "2.5"}},
            {"key": "d4", "value": {"doubleValue": 7}},
            {"key": "b", "value": {"bytesValue": "-_8"}},
            {"key": "t", "value": {"boolValue": true}},
            {"key": "a", "value": {"arrayValue": {"values": [{}, {"stringValue": "x"}]}}},
            {"key": "empty"}
          ]}},
          "flags": 1,
          "traceId": "5B8EFFF798038103D269B633813FC60C",
          "spanId": "eee19b7ec3c1b174",
          "eventName": "login"
        }, {
          "traceId": "",
          "severityNumber": 17
        }]
      }]
    }]
  })";
  testing::LogsRequest want;
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(
      R"pb(
        resource_logs {
          resource {
            attributes {
              key: "service.name"
              value { string_value: "svc" }
            }
            entity_refs { type: "service" id_keys: "service.name" }
          }
          scope_logs {
            scope { name: "lib" }
            log_records {
              time_unix_nano: 1700000000000000001
              observed_time_unix_nano: 1700000000000000002
              severity_number: SEVERITY_NUMBER_WARN2
              body {
                kvlist_value {
                  values {
                    key: "i1"
                    value { int_value: -42 }
                  }
                  values {
                    key: "i2"
                    value { int_value: 9007199254740993 }
                  }
                  values {
                    key: "d1"
                    value { double_value: nan }
                  }
                  values {
                    key: "d2"
                    value { double_value: -inf }
                  }
                  values {
                    key: "d3"
                    value { double_value: 2.5 }
                  }
                  values {
                    key: "d4"
                    value { double_value: 7 }
                  }
                  values {
                    key: "b"
                    value { bytes_value: "\373\377" }
                  }
                  values {
                    key: "t"
                    value { bool_value: true }
                  }
                  values {
                    key: "a"
                    value {
                      array_value {
                        values {}
                        values { string_value: "x" }
                      }
                    }
                  }
                  values { key: "empty" }
                }
              }
              flags: 1
              trace_id: "\x5b\x8e\xff\xf7\x98\x03\x81\x03\xd2\x69\xb6\x33\x81\x3f\xc6\x0c"
              span_id: "\xee\xe1\x9b\x7e\xc3\xc1\xb1\x74"
              event_name: "login"
            }
            log_records { severity_number: SEVERITY_NUMBER_ERROR }
          }
        })pb",
      &want));
  const auto got = transcode(Signal::logs, json);
  std::string diff;
  EXPECT_TRUE(equal(want, *got, &diff)) << diff;
}

TEST(JsonTranscode, AcceptsEveryMetricTypeWithExemplarsAndMetadata) {
  const std::string json = R"({"resourceMetrics": [{"scopeMetrics": [{"metrics": [
    {"name": "g", "metadata": [{"key": "m", "value": {"stringValue": "v"}}],
     "gauge": {"dataPoints": [{"asInt": "-3", "timeUnixNano": "5", "flags": 1,
       "exemplars": [{"asDouble": 1.5, "traceId": "0102030405060708090a0b0c0d0e0f10",
                      "spanId": "0102030405060708", "filteredAttributes": [{"key": "k"}]}]}]}},
    {"name": "s", "sum": {"aggregationTemporality": "AGGREGATION_TEMPORALITY_CUMULATIVE",
     "isMonotonic": true, "dataPoints": [{"asDouble": 0.25}]}},
    {"name": "h", "histogram": {"aggregationTemporality": 1, "dataPoints": [{"count": 6, "sum": 0,
     "bucketCounts": ["1", 2, "3"], "explicitBounds": [1, 2.5], "min": -1, "max": "Infinity"}]}},
    {"name": "e", "exponentialHistogram": {"dataPoints": [{"scale": -3, "zeroCount": "2",
     "zeroThreshold": 1e-9, "positive": {"offset": -2, "bucketCounts": ["18446744073709551615", 0]},
     "negative": {}}]}},
    {"name": "q", "summary": {"dataPoints": [{"count": "2", "sum": 3,
     "quantileValues": [{"quantile": 0.5, "value": 1}, {}]}]}}
  ]}]}]})";
  testing::MetricsRequest want;
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(
      R"pb(
        resource_metrics {
          scope_metrics {
            metrics {
              name: "g"
              metadata {
                key: "m"
                value { string_value: "v" }
              }
              gauge {
                data_points {
                  as_int: -3
                  time_unix_nano: 5
                  flags: 1
                  exemplars {
                    as_double: 1.5
                    trace_id: "\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10"
                    span_id: "\x01\x02\x03\x04\x05\x06\x07\x08"
                    filtered_attributes { key: "k" }
                  }
                }
              }
            }
            metrics {
              name: "s"
              sum {
                aggregation_temporality: AGGREGATION_TEMPORALITY_CUMULATIVE
                is_monotonic: true
                data_points { as_double: 0.25 }
              }
            }
            metrics {
              name: "h"
              histogram {
                aggregation_temporality: AGGREGATION_TEMPORALITY_DELTA
                data_points {
                  count: 6
                  sum: 0
                  bucket_counts: [ 1, 2, 3 ]
                  explicit_bounds: [ 1, 2.5 ]
                  min: -1
                  max: inf
                }
              }
            }
            metrics {
              name: "e"
              exponential_histogram {
                data_points {
                  scale: -3
                  zero_count: 2
                  zero_threshold: 1e-9
                  positive {
                    offset: -2
                    bucket_counts: [ 18446744073709551615, 0 ]
                  }
                  negative {}
                }
              }
            }
            metrics {
              name: "q"
              summary {
                data_points {
                  count: 2
                  sum: 3
                  quantile_values { quantile: 0.5 value: 1 }
                  quantile_values {}
                }
              }
            }
          }
        })pb",
      &want));
  const auto got = transcode(Signal::metrics, json);
  std::string diff;
  EXPECT_TRUE(equal(want, *got, &diff)) << diff;
  // Presence that proto3 keeps: the optional sum of 0 and the empty negative buckets.
  const auto& m = static_cast<const testing::MetricsRequest&>(*got);
  EXPECT_TRUE(
      m.resource_metrics(0).scope_metrics(0).metrics(2).histogram().data_points(0).has_sum());
  EXPECT_TRUE(m.resource_metrics(0)
                  .scope_metrics(0)
                  .metrics(3)
                  .exponential_histogram()
                  .data_points(0)
                  .has_negative());
}

TEST(JsonTranscode, AcceptsSpansWithEventsLinksAndStatus) {
  const std::string json = R"({"resourceSpans": [{"scopeSpans": [{"spans": [{
    "traceId": "0af7651916cd43dd8448eb211c80319c", "spanId": "b7ad6b7169203331",
    "parentSpanId": "00f067aa0ba902b7", "traceState": "k=v", "flags": 769, "name": "GET /",
    "kind": "SPAN_KIND_SERVER", "startTimeUnixNano": "1", "endTimeUnixNano": "2",
    "events": [{"timeUnixNano": "3", "name": "exception", "droppedAttributesCount": 1}],
    "links": [{"traceId": "0AF7651916CD43DD8448EB211C80319C", "spanId": "B7AD6B7169203331", "flags": 256}],
    "status": {"code": 2, "message": "boom"}, "droppedLinksCount": 4
  }, {"name": "empty status", "status": {}}]}]}]})";
  testing::TraceRequest want;
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(
      R"pb(
        resource_spans {
          scope_spans {
            spans {
              trace_id: "\x0a\xf7\x65\x19\x16\xcd\x43\xdd\x84\x48\xeb\x21\x1c\x80\x31\x9c"
              span_id: "\xb7\xad\x6b\x71\x69\x20\x33\x31"
              parent_span_id: "\x00\xf0\x67\xaa\x0b\xa9\x02\xb7"
              trace_state: "k=v"
              flags: 769
              name: "GET /"
              kind: SPAN_KIND_SERVER
              start_time_unix_nano: 1
              end_time_unix_nano: 2
              events { time_unix_nano: 3 name: "exception" dropped_attributes_count: 1 }
              links {
                trace_id: "\x0a\xf7\x65\x19\x16\xcd\x43\xdd\x84\x48\xeb\x21\x1c\x80\x31\x9c"
                span_id: "\xb7\xad\x6b\x71\x69\x20\x33\x31"
                flags: 256
              }
              status { code: STATUS_CODE_ERROR message: "boom" }
              dropped_links_count: 4
            }
            spans {
              name: "empty status"
              status {}
            }
          }
        })pb",
      &want));
  const auto got = transcode(Signal::traces, json);
  std::string diff;
  EXPECT_TRUE(equal(want, *got, &diff)) << diff;
}

TEST(JsonTranscode, AnEmptyObjectIsAnEmptyRequest) {
  for (Signal s : kAllSignals) {
    JsonTranscodeResult r = json_to_protobuf(s, " {} ");
    ASSERT_TRUE(r) << r.error;
    EXPECT_EQ(r.bytes, "");
  }
}

// --- refusals ------------------------------------------------------------------------------------

struct Malformed {
  Signal signal;
  std::string json;
  std::string error;
};

// Spans 0-2 valid, span 3 carrying `field`, in the second scope of the first resource.
std::string fourth_span_with(const std::string& field) {
  const std::string ok =
      R"({"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331"})";
  return R"({"resourceSpans":[{"scopeSpans":[{"spans":[]},{"spans":[)" + ok + "," + ok + "," + ok +
         ",{" + field + "}]}]}]}";
}

std::string log_body(const std::string& any_value) {
  return R"({"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":)" + any_value + "}]}]}]}";
}

std::string data_point(const std::string& metric) {
  return R"({"resourceMetrics":[{"scopeMetrics":[{"metrics":[)" + metric + "]}]}]}";
}

TEST(JsonTranscode, RefusesMalformedDocumentsNamingTheJsonPath) {
  const std::string span3 = "resourceSpans[0].scopeSpans[1].spans[3].";
  const std::string body = "resourceLogs[0].scopeLogs[0].logRecords[0].body.";
  const Malformed cases[] = {
      {Signal::traces, fourth_span_with(R"("traceId":"0af7651916cd43dd8448eb211c8031")"),
       span3 + "traceId: expected 32 hex characters, got 30"},
      {Signal::traces, fourth_span_with(R"("spanId":"b7ad6b716920333g")"),
       span3 + "spanId: expected 16 hex characters, got a non-hex character at offset 15"},
      {Signal::traces, fourth_span_with(R"("parentSpanId":42)"),
       span3 + "parentSpanId: expected a hex string, got a number"},
      {Signal::traces, fourth_span_with(R"("kind":"SPAN_KIND_BOGUS")"),
       span3 +
           R"(kind: unknown enum value "SPAN_KIND_BOGUS"; expected an integer or a name like SPAN_KIND_CONSUMER)"},
      {Signal::traces, fourth_span_with(R"("kind":2147483648)"),
       span3 + "kind: value out of range for a 32-bit integer"},
      {Signal::traces, fourth_span_with(R"("startTimeUnixNano":-1)"),
       span3 + "startTimeUnixNano: expected a non-negative integer"},
      {Signal::traces, fourth_span_with(R"("endTimeUnixNano":"12ns")"),
       span3 + "endTimeUnixNano: expected a non-negative integer as a decimal string"},
      {Signal::traces, fourth_span_with(R"("droppedAttributesCount":4294967296)"),
       span3 + "droppedAttributesCount: value out of range for a 32-bit unsigned integer"},
      {Signal::traces, fourth_span_with(R"("events":{})"),
       span3 + "events: expected an array, got an object"},
      {Signal::traces, fourth_span_with(R"("links":[{},{"flags":true}])"),
       span3 + "links[1].flags: expected a non-negative integer (a number or a decimal string), "
               "got a boolean"},
      {Signal::traces, fourth_span_with(R"("status":{"code":1.5})"),
       span3 + "status.code: expected an integer, got a fraction"},
      {Signal::traces, fourth_span_with(R"("attributes":[{"key":"k","value":{"stringValue":1}}])"),
       span3 + "attributes[0].value.stringValue: expected a string, got a number"},
      {Signal::logs, log_body(R"({"intValue":"12a"})"),
       body + "intValue: expected an integer as a decimal string"},
      {Signal::logs, log_body(R"({"intValue":9223372036854775808})"),
       body + "intValue: value out of range for a 64-bit integer"},
      {Signal::logs, log_body(R"({"doubleValue":"fast"})"),
       body + R"(doubleValue: expected a number, "NaN", "Infinity" or "-Infinity")"},
      {Signal::logs, log_body(R"({"boolValue":"true"})"),
       body + "boolValue: expected true or false, got a string"},
      {Signal::logs, log_body(R"({"bytesValue":"a!=="})"),
       body + "bytesValue: invalid base64: unexpected character at offset 1"},
      {Signal::logs, log_body(R"({"bytesValue":"abcde"})"),
       body + "bytesValue: invalid base64: wrong length"},
      {Signal::logs, log_body(R"({"arrayValue":{"values":[{},[]]}})"),
       body + "arrayValue.values[1]: expected an object, got an array"},
      {Signal::logs, log_body(R"({"kvlistValue":{"values":[null]}})"),
       body + "kvlistValue.values[0]: expected an object, got null"},
      {Signal::metrics, data_point(R"({"histogram":{"dataPoints":[{"bucketCounts":[1,2,-3]}]}})"),
       "resourceMetrics[0].scopeMetrics[0].metrics[0].histogram.dataPoints[0].bucketCounts[2]: "
       "expected a non-negative integer"},
      {Signal::metrics, data_point(R"({"exponentialHistogram":{"dataPoints":[{"scale":"x"}]}})"),
       "resourceMetrics[0].scopeMetrics[0].metrics[0].exponentialHistogram.dataPoints[0].scale: "
       "expected an integer as a decimal string"},
      {Signal::metrics, data_point(R"({"sum":{"dataPoints":[{"asDouble":[]}]}})"),
       "resourceMetrics[0].scopeMetrics[0].metrics[0].sum.dataPoints[0].asDouble: expected a "
       "number, got an array"},
      {Signal::metrics, R"({"resource_metrics":{}})",
       "resource_metrics: expected an array, got an object"},
      {Signal::metrics, "[]", "request: expected an object, got an array"},
      {Signal::logs, "", "invalid JSON: the body is empty"},
      {Signal::logs, "\xff{}", "invalid JSON: not valid UTF-8"},
  };
  for (const Malformed& c : cases) {
    JsonTranscodeResult r = json_to_protobuf(c.signal, c.json);
    EXPECT_FALSE(r) << c.json;
    EXPECT_EQ(r.error, c.error) << c.json;
  }
}

TEST(JsonTranscode, RefusesWhatIsNotJson) {
  for (const char* json : {R"({"resourceLogs":[)", R"({} {})", R"({"resourceLogs":[],})",
                           R"({"resourceLogs" [] })", R"({"x":tru})", R"({"x":"\q"})", "{'a':1}"}) {
    JsonTranscodeResult r = json_to_protobuf(Signal::logs, json);
    EXPECT_FALSE(r) << json;
    EXPECT_EQ(r.error.rfind("invalid JSON: ", 0), 0u) << json << " → " << r.error;
  }
}

// --- nesting -------------------------------------------------------------------------------------

// A log body of `levels` nested kvlists, innermost holding a string.
std::string nested_kvlists(int levels) {
  std::string s = R"({"stringValue":"deep"})";
  for (int i = 0; i < levels; ++i)
    s = R"({"kvlistValue":{"values":[{"key":"k","value":)" + s + "}]}}";
  return s;
}

TEST(JsonTranscode, AdmitsEveryNestingTheIndexAccepts) {
  // Exemplar filtered attributes are the deepest place an AnyValue sits in a request.
  const std::string json = data_point(
      R"({"gauge":{"dataPoints":[{"exemplars":[{"filteredAttributes":[{"key":"k","value":)" +
      nested_kvlists(kMaxNesting) + "}]}]}]}}");
  JsonTranscodeResult r = json_to_protobuf(Signal::metrics, json);
  ASSERT_TRUE(r) << r.error;
  Index ix;
  EXPECT_TRUE(ix.build(Signal::metrics, Bytes::adopt(std::move(r.bytes))));
}

TEST(JsonTranscode, RefusesDeepNestingBeforeWalkingIt) {
  JsonTranscodeResult r = json_to_protobuf(Signal::logs, log_body(nested_kvlists(kMaxJsonDepth)));
  EXPECT_EQ(r.error,
            "invalid JSON: nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
  // A bomb under an unknown key: a million brackets, refused by the parser without recursion.
  const std::string bomb =
      R"({"unknown":)" + std::string(1'000'000, '[') + std::string(1'000'000, ']') + "}";
  r = json_to_protobuf(Signal::traces, bomb);
  EXPECT_EQ(r.error,
            "invalid JSON: nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
}

// --- responses -----------------------------------------------------------------------------------

template <typename M>
M parse_json(const std::string& json) {
  M m;
  const auto st = google::protobuf::util::JsonStringToMessage(json, &m);
  EXPECT_TRUE(st.ok()) << st.ToString() << "\n" << json;
  return m;
}

TEST(JsonResponses, ExportResponsesParseAsTheirProtobufMessages) {
  EXPECT_EQ(export_response_json(Signal::traces, 0, ""), "{}");
  const auto t = parse_json<opentelemetry::proto::collector::trace::v1::ExportTraceServiceResponse>(
      export_response_json(Signal::traces, 3, "3 spans had \"bad\" ids\n"));
  EXPECT_EQ(t.partial_success().rejected_spans(), 3);
  EXPECT_EQ(t.partial_success().error_message(), "3 spans had \"bad\" ids\n");
  const auto m =
      parse_json<opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceResponse>(
          export_response_json(Signal::metrics, 9007199254740993ull, ""));
  EXPECT_EQ(m.partial_success().rejected_data_points(), 9007199254740993);
  const auto l = parse_json<opentelemetry::proto::collector::logs::v1::ExportLogsServiceResponse>(
      export_response_json(Signal::logs, 0, "warning only"));
  EXPECT_TRUE(l.has_partial_success());
  EXPECT_EQ(l.partial_success().rejected_log_records(), 0);
  EXPECT_EQ(l.partial_success().error_message(), "warning only");
}

TEST(JsonResponses, StatusParsesAsGoogleRpcStatusWithRetryInfo) {
  const std::string json = rpc_status_json(8, "queue full\t\x01 é", std::chrono::seconds(7));
  const auto st = parse_json<google::rpc::Status>(json);
  EXPECT_EQ(st.code(), 8);
  EXPECT_EQ(st.message(), "queue full\t\x01 é");
  ASSERT_EQ(st.details_size(), 1);
  google::rpc::RetryInfo retry;
  ASSERT_TRUE(st.details(0).UnpackTo(&retry));
  EXPECT_EQ(retry.retry_delay().seconds(), 7);

  EXPECT_EQ(rpc_status_json(3, "bad", std::chrono::seconds(0)),
            R"({"code":3,"message":"bad","details":[]})");
  // Not UTF-8 (e.g. a header echoed back): replaced, so the body stays valid JSON.
  EXPECT_EQ(parse_json<google::rpc::Status>(rpc_status_json(3, "type \xff\xfe", {})).message(),
            "type ??");
}

}  // namespace
}  // namespace otlpgate::otlp
