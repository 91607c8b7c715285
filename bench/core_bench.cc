// core_bench: the zero-copy index and rewriter against libprotobuf doing the same job on the same
// bytes (parse, or parse + edit + serialize). See RESULTS.md for the figures and the command.
#include <benchmark/benchmark.h>

#include <google/protobuf/arena.h>

#include <algorithm>
#include <string>

#include "bench/workload.h"
#include "core/otlp/edits.h"
#include "core/otlp/index.h"
#include "core/otlp/rewriter.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"

namespace {

using otlpgate::Bytes;
using otlpgate::Signal;
namespace otlp = otlpgate::otlp;
namespace common = opentelemetry::proto::common::v1;
using MetricsReq = opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceRequest;
using TraceReq = opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest;
using LogsReq = opentelemetry::proto::collector::logs::v1::ExportLogsServiceRequest;

constexpr std::size_t kRequestBytes = 1 << 20;

// The item attribute the "edit" benchmarks delete, per signal (present on every item).
std::string_view redacted_key(Signal s) {
  switch (s) {
    case Signal::metrics: return "http.response.status_code";
    case Signal::traces: return "client.address";
    case Signal::logs: return "thread.name";
  }
  return {};
}

const std::string& request(Signal s) {
  static const std::string m = otlpgate::bench::make_request(Signal::metrics, kRequestBytes);
  static const std::string t = otlpgate::bench::make_request(Signal::traces, kRequestBytes);
  static const std::string l = otlpgate::bench::make_request(Signal::logs, kRequestBytes);
  return s == Signal::metrics ? m : s == Signal::traces ? t : l;
}

Signal signal_arg(const benchmark::State& state) { return static_cast<Signal>(state.range(0)); }

void finish(benchmark::State& state, std::size_t bytes, uint64_t items) {
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * items));
  state.SetLabel(std::string(otlpgate::signal_name(signal_arg(state))));
}

// --- ours ---------------------------------------------------------------------------------------

void index_only(benchmark::State& state, otlp::IndexOptions options) {
  const Signal s = signal_arg(state);
  const Bytes bytes = Bytes::copy_of(request(s));
  otlp::Index ix;
  for (auto _ : state) {
    auto r = ix.build(s, bytes, options);
    if (r.error != otlp::IndexError::none) state.SkipWithError("index failed");
    benchmark::DoNotOptimize(ix.nodes().data());
  }
  finish(state, bytes.size(), ix.item_count());
}

void BM_Index(benchmark::State& state) { index_only(state, {}); }

// What a pipeline without processors indexes: attributes validated, not recorded.
void BM_IndexNoAttributes(benchmark::State& state) { index_only(state, {.attributes = false}); }

void BM_IndexPassthrough(benchmark::State& state) {
  const Signal s = signal_arg(state);
  const Bytes bytes = Bytes::copy_of(request(s));
  otlp::Index ix;
  otlp::Edits edits;
  otlp::Rewriter rw;
  for (auto _ : state) {
    ix.build(s, bytes);
    auto out = rw.apply(ix, edits);
    if (out.changed) state.SkipWithError("passthrough changed the request");
    benchmark::DoNotOptimize(out.bytes.data());
  }
  finish(state, bytes.size(), ix.item_count());
}

// The edit the issue asks for: drop every 10th item (data point, span, log record) and delete
// one attribute present on every item.
constexpr uint64_t kDropEvery = 10;

template <typename Entries>
void drop_every_tenth(const Entries& entries, otlp::Edits& edits) {
  uint64_t n = 0;
  for (const auto& e : entries)
    if (n++ % kDropEvery == 0) edits.drop(e.node);
}

void BM_IndexEdit(benchmark::State& state) {
  const Signal s = signal_arg(state);
  const Bytes bytes = Bytes::copy_of(request(s));
  const std::string_view key = redacted_key(s);
  otlp::Index ix;
  otlp::Edits edits;
  otlp::Rewriter rw;
  std::size_t out_size = 0;
  uint64_t out_items = 0;
  for (auto _ : state) {
    ix.build(s, bytes);
    edits.clear();
    for (const auto& a : ix.attributes())
      if (a.key == key) edits.drop_attribute(a);
    drop_every_tenth(ix.data_points(), edits);
    drop_every_tenth(ix.spans(), edits);
    drop_every_tenth(ix.log_records(), edits);
    auto out = rw.apply(ix, edits);
    out_size = out.bytes.size();
    out_items = out.items;
    benchmark::DoNotOptimize(out.bytes.data());
  }
  state.counters["out_bytes"] = static_cast<double>(out_size);
  state.counters["out_items"] = static_cast<double>(out_items);
  finish(state, bytes.size(), ix.item_count());
}

// --- libprotobuf baseline (arena allocation, its fastest mode) ------------------------------------

template <typename Req>
void parse_into(google::protobuf::Arena& arena, const std::string& in, Req*& out) {
  out = google::protobuf::Arena::CreateMessage<Req>(&arena);
  out->ParseFromString(in);
}

void erase_key(google::protobuf::RepeatedPtrField<common::KeyValue>* attrs, std::string_view key) {
  for (int i = attrs->size() - 1; i >= 0; --i)
    if (attrs->Get(i).key() == key) attrs->DeleteSubrange(i, 1);
}

// Same edit as BM_IndexEdit on the objects: every 10th item (in document order) removed, the key
// erased from the others.
template <typename Items>
void edit_items(Items* items, std::string_view key, uint64_t& n) {
  int w = 0;
  for (int i = 0; i < items->size(); ++i) {
    if (n++ % kDropEvery == 0) continue;
    if (w != i) items->SwapElements(w, i);
    erase_key(items->Mutable(w)->mutable_attributes(), key);
    ++w;
  }
  items->DeleteSubrange(w, items->size() - w);
}

void edit_request(MetricsReq* r, std::string_view key) {
  uint64_t n = 0;
  for (auto& rm : *r->mutable_resource_metrics())
    for (auto& sm : *rm.mutable_scope_metrics())
      for (auto& m : *sm.mutable_metrics()) {
        if (m.has_sum()) edit_items(m.mutable_sum()->mutable_data_points(), key, n);
        if (m.has_histogram()) edit_items(m.mutable_histogram()->mutable_data_points(), key, n);
        if (m.has_gauge()) edit_items(m.mutable_gauge()->mutable_data_points(), key, n);
      }
}

void edit_request(TraceReq* r, std::string_view key) {
  uint64_t n = 0;
  for (auto& rs : *r->mutable_resource_spans())
    for (auto& ss : *rs.mutable_scope_spans()) edit_items(ss.mutable_spans(), key, n);
}

void edit_request(LogsReq* r, std::string_view key) {
  uint64_t n = 0;
  for (auto& rl : *r->mutable_resource_logs())
    for (auto& sl : *rl.mutable_scope_logs()) edit_items(sl.mutable_log_records(), key, n);
}

template <typename Req>
void run_protobuf(benchmark::State& state, bool edit) {
  const Signal s = signal_arg(state);
  const std::string& in = request(s);
  const std::string_view key = redacted_key(s);
  std::string out;
  for (auto _ : state) {
    google::protobuf::Arena arena;
    Req* msg = nullptr;
    parse_into(arena, in, msg);
    if (edit) {
      edit_request(msg, key);
      out.clear();
      msg->SerializeToString(&out);
      benchmark::DoNotOptimize(out.data());
    }
    benchmark::DoNotOptimize(msg);
  }
  otlp::Index ix;
  ix.build(s, Bytes::copy_of(in));
  finish(state, in.size(), ix.item_count());
}

void BM_ProtobufParse(benchmark::State& state) {
  switch (signal_arg(state)) {
    case Signal::metrics: return run_protobuf<MetricsReq>(state, false);
    case Signal::traces: return run_protobuf<TraceReq>(state, false);
    case Signal::logs: return run_protobuf<LogsReq>(state, false);
  }
}

void BM_ProtobufEdit(benchmark::State& state) {
  switch (signal_arg(state)) {
    case Signal::metrics: return run_protobuf<MetricsReq>(state, true);
    case Signal::traces: return run_protobuf<TraceReq>(state, true);
    case Signal::logs: return run_protobuf<LogsReq>(state, true);
  }
}

// Arg: 0 metrics, 1 traces, 2 logs.
BENCHMARK(BM_Index)->DenseRange(0, 2);
BENCHMARK(BM_IndexNoAttributes)->DenseRange(0, 2);
BENCHMARK(BM_ProtobufParse)->DenseRange(0, 2);
BENCHMARK(BM_IndexPassthrough)->DenseRange(0, 2);
BENCHMARK(BM_IndexEdit)->DenseRange(0, 2);
BENCHMARK(BM_ProtobufEdit)->DenseRange(0, 2);

}  // namespace

BENCHMARK_MAIN();
