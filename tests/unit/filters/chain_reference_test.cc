// The filter → redact → dedup → relabel chain against the slow reference on libprotobuf objects
// (tests/support/chain_reference.h), over seeded random metric requests and random configs.
#include "tests/support/chain_reference.h"

#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

namespace otlpgate::testing {
namespace {

MetricsRequest chain_output(const MetricsRequest& in, const ChainConfig& c) {
  std::string err;
  auto chain = build_chain(c, &err);
  EXPECT_FALSE(chain.empty()) << err;
  ChainScratch scratch;
  const ChainOutput out =
      run_chain(chain, Signal::metrics, Bytes::adopt(in.SerializeAsString()), scratch);
  EXPECT_TRUE(out.ok);
  MetricsRequest got;
  EXPECT_TRUE(got.ParseFromString(std::string(out.bytes.view())));
  return got;
}

TEST(FilterChainReferenceTest, RandomRequestsMatchTheLibprotobufReference) {
  for (uint32_t seed = 1; seed <= 500; ++seed) {
    std::mt19937 rng(seed);
    const ChainConfig c = random_chain_config(rng);
    const MetricsRequest in = random_chain_request(rng);
    MetricsRequest want = in;
    apply_reference_chain(c, want);
    const MetricsRequest got = chain_output(in, c);
    std::string diff;
    google::protobuf::util::MessageDifferencer d;
    d.ReportDifferencesToString(&diff);
    ASSERT_TRUE(d.Compare(want, got)) << "seed " << seed << "\nfilter:\n"
                                      << filter_yaml(c) << "redact:\n"
                                      << redact_yaml(c) << "relabel:\n"
                                      << relabel_yaml(c) << diff;
  }
}

}  // namespace
}  // namespace otlpgate::testing
