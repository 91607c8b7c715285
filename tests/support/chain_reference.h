// The filter → redact → dedup → relabel chain in a small configuration space, built both as the
// real stages (from YAML) and as a slow reference on libprotobuf objects: for the property test,
// the benchmark baseline and the fuzz target.
#pragma once

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "core/bytes.h"
#include "core/config/config.h"
#include "core/otlp/edits.h"
#include "core/otlp/index.h"
#include "core/otlp/rewriter.h"
#include "core/pipeline/stage.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb.h"

namespace otlpgate::testing {

using MetricsRequest = opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceRequest;

// One configuration of the four stages, in a shape both the stages' YAML and the reference
// understand.
struct ChainConfig {
  // filter: drop the data points of metric `excluded_name` that carry the attribute `bad_kv`
  // (one exclude block with both conditions: all must hold).
  std::string excluded_name;
  std::pair<std::string, std::string> bad_kv;
  std::string deleted_key;     // redact: delete_keys, at resource, scope and point level
  uint64_t max_series = 4096;  // dedup: exact mode, 10 m window
  // relabel, one metric_relabel_configs rule:
  //   0  {source_labels: [src], target_label: target}            (copy src to target)
  //   1  {source_labels: [src], regex: 'a.*', action: drop}
  //   2  {regex: src, action: labeldrop}
  //   3  {source_labels: [__name__], regex: '(.*)_total', target_label: __name__,
  //       replacement: '${1}_count'}                               (rename)
  //   4  {source_labels: [src], regex: '<prefix>.*', target_label: target,
  //       replacement: <replacement>}                            (seed 004's shape)
  int rule = 0;
  std::string src, target, prefix, replacement;
};

// The YAML block of each stage for `c`.
std::string filter_yaml(const ChainConfig& c);
std::string redact_yaml(const ChainConfig& c);
std::string dedup_yaml(const ChainConfig& c);
std::string relabel_yaml(const ChainConfig& c);

// The config block of processor `id` ("type/name" or "type") whose body is `yaml`.
config::Processor processor_config(const std::string& id, const std::string& yaml);
// Stages built by filters::make_stage from (id, YAML) pairs, in order; empty and *err set when one
// does not build.
std::vector<std::unique_ptr<Stage>> build_stages(
    const std::vector<std::pair<std::string, std::string>>& blocks, std::string* err);
// The four stages of `c`, in chain order.
std::vector<std::unique_ptr<Stage>> build_chain(const ChainConfig& c, std::string* err);

// What running a chain reuses from one request to the next, like the runtime's per-thread scratch.
struct ChainScratch {
  otlp::Index index;
  otlp::Edits edits;
  otlp::Rewriter rewriter;
};
struct ChainOutput {
  bool ok = false;  // false: the input did not index
  Bytes bytes;      // the input buffer itself when no stage changed anything
  uint64_t items = 0;
};
// Indexes `in` and runs `chain` on it as the runtime does (run_stages: one index, one rewrite).
ChainOutput run_chain(const std::vector<std::unique_ptr<Stage>>& chain, Signal signal,
                      const Bytes& in, ChainScratch& scratch);

// Applies `c` to `req` the slow way, with a fresh dedup window (the first of equal points is
// kept). Covers every metric type.
void apply_reference_chain(const ChainConfig& c, MetricsRequest& req);

// The vocabulary random configs and requests share, so that rules hit.
inline constexpr const char* kChainNames[] = {"http_requests_total", "aws_applicationelb_count",
                                              "cpu", "mem_debug"};
inline constexpr const char* kChainKeys[] = {"job", "instance", "user.email", "env", "code"};
inline constexpr const char* kChainValues[] = {"api", "web", "a@b.co", "dev", "prod"};

// A random configuration over that vocabulary.
ChainConfig random_chain_config(std::mt19937& rng);
// A random metrics request over that vocabulary: 1-3 resources, gauges, sums and histograms,
// attribute sets that repeat so dedup and the rules have something to do.
MetricsRequest random_chain_request(std::mt19937& rng);

}  // namespace otlpgate::testing
