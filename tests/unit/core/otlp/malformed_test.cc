// Malformed requests: each one yields its documented IndexError, never a crash or a read outside
// the buffer (the ASan build checks the latter).
#include <gtest/gtest.h>

#include <random>

#include "core/otlp/edits.h"
#include "core/otlp/index.h"
#include "core/otlp/rewriter.h"
#include "tests/support/random_otlp.h"
#include "tests/unit/core/otlp/index_modes.h"

namespace otlpgate::otlp {
namespace {

using namespace std::string_literals;

// Builds over an exact-size heap copy so ASan sees any read past the end. Every input is also
// indexed without attributes, which must give the same verdict.
IndexResult index_of(Signal s, std::string_view bytes, Index& ix) {
  test::expect_same_without_attributes(s, bytes);
  return ix.build(s, Bytes::copy_of(bytes));
}

struct Case {
  const char* name;
  Signal signal;
  std::string bytes;
  IndexError error;
};

TEST(MalformedCorpus, EachInputGivesItsDocumentedError) {
  const std::string too_long_varint = "\x28"s + std::string(10, '\xff') + "\x01"s;
  const std::vector<Case> cases = {
      {"tag then nothing", Signal::metrics, "\x0a"s, IndexError::truncated},
      {"length varint cut", Signal::metrics, "\x0a\x80"s, IndexError::truncated},
      {"length past end", Signal::metrics, "\x0a\x05" "ab"s, IndexError::length_past_end},
      {"inner length past its parent", Signal::traces, "\x0a\x02\x0a\x05" "abcde"s, IndexError::length_past_end},
      {"eleven-byte varint", Signal::logs, too_long_varint, IndexError::bad_varint},
      {"resource list as varint", Signal::metrics, "\x08\x01"s, IndexError::wrong_wire_type},
      {"start group", Signal::traces, "\x0b"s, IndexError::bad_wire_type},
      {"wire type 7", Signal::logs, "\x0f\x00"s, IndexError::bad_wire_type},
      {"field number zero", Signal::metrics, "\x02\x00"s, IndexError::bad_field_number},
      {"reserved field number", Signal::metrics, "\xc2\xb8\x09\x00"s /* 19000 << 3 | 2 */, IndexError::bad_field_number},
      {"fixed64 cut", Signal::metrics, "\x29\x01\x02\x03"s, IndexError::truncated},
      {"fixed32 cut", Signal::metrics, "\x2d\x01"s, IndexError::truncated},
  };
  Index ix;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const IndexResult r = index_of(c.signal, c.bytes, ix);
    EXPECT_EQ(r.error, c.error) << describe(r);
    EXPECT_LE(r.offset, c.bytes.size());
    EXPECT_TRUE(ix.nodes().empty());
    EXPECT_EQ(ix.item_count(), 0u);
  }
}

TEST(MalformedCorpus, EmptyRequestIsValid) {
  Index ix;
  EXPECT_TRUE(index_of(Signal::metrics, "", ix));
  EXPECT_EQ(ix.item_count(), 0u);
}

TEST(MalformedCorpus, KnownFieldWithWrongWireTypeDeepInside) {
  testing::TraceRequest req;
  auto* span = req.add_resource_spans()->add_scope_spans()->add_spans();
  span->GetReflection()->MutableUnknownFields(span)->AddVarint(5, 1);  // Span.name as a varint
  Index ix;
  const IndexResult r = index_of(Signal::traces, req.SerializeAsString(), ix);
  EXPECT_EQ(r.error, IndexError::wrong_wire_type);

  testing::LogsRequest logs;
  auto* kv = logs.add_resource_logs()->add_scope_logs()->add_log_records()->add_attributes();
  kv->set_key("k");
  kv->mutable_value()->GetReflection()->MutableUnknownFields(kv->mutable_value())->AddFixed32(4, 7);
  EXPECT_EQ(index_of(Signal::logs, logs.SerializeAsString(), ix).error, IndexError::wrong_wire_type);
}

// A span attribute whose value nests `depth` arrays (or kvlists) deep.
std::string nested(int depth, bool kvlist) {
  testing::TraceRequest req;
  auto* kv = req.add_resource_spans()->add_scope_spans()->add_spans()->add_attributes();
  kv->set_key("deep");
  auto* v = kv->mutable_value();
  for (int i = 0; i < depth; ++i) {
    if (kvlist) {
      auto* e = v->mutable_kvlist_value()->add_values();
      e->set_key("k");
      v = e->mutable_value();
    } else {
      v = v->mutable_array_value()->add_values();
    }
  }
  v->set_int_value(1);
  return req.SerializeAsString();
}

TEST(MalformedCorpus, NestingOverTheLimitIsTooDeep) {
  Index ix;
  for (bool kvlist : {false, true}) {
    SCOPED_TRACE(kvlist ? "kvlist" : "array");
    EXPECT_TRUE(index_of(Signal::traces, nested(kMaxNesting - 2, kvlist), ix));
    EXPECT_EQ(index_of(Signal::traces, nested(kMaxNesting + 2, kvlist), ix).error, IndexError::too_deep);
    EXPECT_EQ(index_of(Signal::traces, nested(500, kvlist), ix).error, IndexError::too_deep);
  }
}

// Every prefix of a valid request: either libprotobuf also accepts it (cut between top-level
// fields) or the index reports a truncation.
template <typename Req>
void check_truncations(Signal signal, const Req& req) {
  const std::string full = req.SerializeAsString();
  Index ix;
  for (size_t n = 0; n < full.size(); ++n) {
    const std::string_view prefix(full.data(), n);
    const IndexResult r = index_of(signal, prefix, ix);
    Req parsed;
    const bool lib_ok = parsed.ParseFromString(std::string(prefix));
    EXPECT_EQ(static_cast<bool>(r), lib_ok) << "prefix " << n << ": " << describe(r);
    if (!r) {
      EXPECT_TRUE(r.error == IndexError::truncated || r.error == IndexError::length_past_end)
          << "prefix " << n << ": " << describe(r);
      EXPECT_LE(r.offset, n);
    }
  }
}

TEST(MalformedTruncation, EveryPrefixOfRandomRequests) {
  for (uint64_t seed = 0; seed < 20; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    check_truncations(Signal::metrics, testing::random_metrics(seed));
    check_truncations(Signal::traces, testing::random_traces(seed));
    check_truncations(Signal::logs, testing::random_logs(seed));
  }
}

// Random byte corruption: no crash; whatever indexes can be rewritten and re-indexed.
TEST(MalformedCorruption, RandomByteFlipsNeverCrash) {
  Index ix, again;
  Rewriter rw;
  Edits ed;
  std::mt19937_64 rng(42);
  for (uint64_t seed = 0; seed < 60; ++seed) {
    const Signal signal = static_cast<Signal>(seed % 3);
    std::string bytes = signal == Signal::metrics  ? testing::random_metrics(seed).SerializeAsString()
                        : signal == Signal::traces ? testing::random_traces(seed).SerializeAsString()
                                                   : testing::random_logs(seed).SerializeAsString();
    if (bytes.empty()) continue;
    for (int round = 0; round < 50; ++round) {
      std::string b = bytes;
      for (int k = 1 + static_cast<int>(rng() % 4); k > 0; --k) b[rng() % b.size()] = static_cast<char>(rng());
      const IndexResult r = index_of(signal, b, ix);
      if (!r) {
        EXPECT_LE(r.offset, b.size());
        continue;
      }
      ed.clear();
      for (const Attribute& a : ix.attributes())
        if (rng() % 3 == 0) ed.drop_attribute(a);
      if (ix.nodes().size() > 1) ed.drop(1 + static_cast<uint32_t>(rng() % (ix.nodes().size() - 1)));
      const RewriteResult out = rw.apply(ix, ed);
      EXPECT_TRUE(again.build(signal, out.bytes)) << "seed " << seed << " round " << round;
    }
  }
}

}  // namespace
}  // namespace otlpgate::otlp
