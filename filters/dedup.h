// DedupStage: drops metric data points already forwarded (exact duplicates or HA replicas).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/config/config.h"
#include "filters/counted_stage.h"
#include "filters/per_thread.h"
#include "filters/string_matcher.h"

namespace otlpgate::filters {

// Config:
//
//   dedup:
//     mode: exact              # or replicas
//     window: 10m              # a point seen again within this long is dropped
//     max_series: 1000000      # memory bound: keys remembered at most (~32 bytes each)
//     ignore_attributes: [replica, collector.id]   # replicas mode: left out of the key
//
// The key of a data point is a 128-bit XXH3 hash over its series identity (resource attributes,
// scope name and version, metric name and type, data point attributes; attribute order does not
// matter) and its start time, time and value (every field of the point except its attributes and
// exemplars, as the bytes they came in: a serializer that orders a point's fields differently
// makes another key, so at worst a duplicate passes). A point written as libprotobuf writes it is
// hashed where it lies, without a copy. In `replicas` mode the listed attribute keys are left out
// at every level, so the same point reported by two replicas is forwarded once, first come. Only
// metrics are touched.
//
// The window is a ring of 4 generations (time buckets) per shard (64 shards, a mutex each): a key
// lives at least `window` and at most 4/3 of it. When a shard's current generation is full
// (max_series reached), its oldest generation is forgotten early and counted as an eviction: memory
// stays bounded and a point is never dropped by mistake; at worst a duplicate gets through.
// A shard's keys share one table of cache lines, each key tagged with the generation it came in:
// a lookup reads one line (rarely more), and a key whose generation is over reads as a free slot,
// so a generation expires without a pass over the table.
//
// A point is remembered when process() first sees it (so a copy arriving at the same moment from
// another replica is caught), and forgotten again by finish(false) when the runtime could not
// queue the request: the sender's retry must not be taken for a duplicate of a point that was
// never forwarded.
class DedupStage final : public CountedStage {
 public:
  using Clock = std::function<uint64_t()>;  // nanoseconds, monotonic

  // `clock` replaces the steady clock (tests).
  static std::unique_ptr<DedupStage> create(const config::Processor& p, std::string* err,
                                            Clock clock = {});

  void process(const otlp::Index& request, otlp::Edits& edits) override;
  void finish(bool accepted) override;
  std::string_view name() const override { return id_; }

  struct Key {
    uint64_t lo = 0, hi = 0;
  };

 private:
  static constexpr std::size_t kShards = 64;
  static constexpr std::size_t kGenerations = 4;
  static constexpr std::size_t kSlots = 3;  // keys per line

  // One cache line of a shard's table. A slot is taken while its generation is live, that is
  // within the last kGenerations of the shard's (16-bit, wrapping) generation counter.
  struct alignas(64) Line {
    Key keys[kSlots];
    uint16_t gens[kSlots] = {};
    // The latest generation in which a key went on past this line because it was full, and a
    // Bloom filter of the keys that did since that mark was last dead: a lookup goes on to the
    // next line only for a key that may be one of them, so a new key's lookup reads one line.
    uint16_t overflow = 0;
    uint64_t passed = 0;
  };
  static_assert(sizeof(Line) == 64);

  struct alignas(64) Shard {  // aligned so that two shards' locks never share a cache line
    std::mutex mu;
    Line* table = nullptr;  // its part of tables_: open addressing by line, linear probing
    std::size_t counts[kGenerations] = {};  // live keys, by generation % kGenerations
    uint16_t gen = kGenerations;            // the current generation: a zeroed tag is not live
    std::size_t sweep = 0;                  // the next line whose dead tags advance() rewrites
    uint64_t cur_start = 0;
    bool started = false;
  };

  // A key this thread's last process() added, for finish(false) to take back.
  struct Remembered {
    Key key;
    uint32_t shard;
  };

  // Whether a slot or overflow mark tagged `gen` still belongs to the window.
  static bool live(const Shard& s, uint16_t gen) {
    return static_cast<uint16_t>(s.gen - gen) < kGenerations;
  }
  // The two bits of the key in Line::passed: hash bits that neither the shard (the top 6 of hi)
  // nor the home line (the low ones of lo) depends on.
  static uint64_t passed_bits(const Key& k) {
    return (1ull << (k.hi & 63)) | (1ull << ((k.hi >> 6) & 63));
  }

  // True when `k` was seen within the window; otherwise remembers it. Caller holds s.mu and has
  // rotated the shard to `now`.
  bool seen_locked(Shard& s, const Key& k, uint64_t now, int64_t& size_delta, uint64_t& evictions);
  // Takes `k` back out of the window, if it is there. Caller holds s.mu.
  void forget_locked(Shard& s, const Key& k, int64_t& size_delta);
  // The generation tag of the live slot holding `k`, or nullptr. Caller holds s.mu.
  uint16_t* find_locked(Shard& s, const Key& k) const;
  void rotate(Shard& s, uint64_t now, int64_t& size_delta);
  // Starts the next generation: the oldest one's keys leave the window.
  void advance(Shard& s, int64_t& size_delta);
  void publish_size(int64_t size_delta);

  std::string id_;
  bool replicas_ = false;
  StringSet ignore_;
  uint64_t window_ns_ = 600ull * 1000000000ull;
  uint64_t generation_ns_ = 0;
  uint64_t max_series_ = 1000000;
  std::size_t generation_cap_ = 0;  // keys per generation per shard
  std::size_t line_mask_ = 0;       // lines per shard table - 1
  std::size_t sweep_lines_ = 1;     // lines whose dead tags each advance() rewrites
  Clock clock_;
  std::unique_ptr<Shard[]> shards_;
  // Every shard's table in one mapping of zero pages, backed by memory as keys come in; huge pages
  // where the kernel grants them, as lookups land on random lines of it.
  struct Unmap {
    std::size_t bytes;
    void operator()(Line* p) const;
  };
  std::unique_ptr<Line[], Unmap> tables_{nullptr, Unmap{0}};
  PerThread<std::vector<Remembered>> remembered_;  // in shard order
  std::atomic<int64_t> size_{0};
  std::size_t c_seen_ = 0, c_dups_ = 0, c_size_ = 0, c_evicted_ = 0;
};

}  // namespace otlpgate::filters
