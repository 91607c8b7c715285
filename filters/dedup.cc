// DedupStage: hashing of series identity and value, and the sharded, time-bucketed window.
#include "filters/dedup.h"

#include <algorithm>
#include <cstring>

#include <xxhash.h>

#include "core/otlp/fields.h"
#include "core/wire/cursor.h"
#include "filters/yaml_reader.h"

namespace otlpgate::filters {

namespace {

using otlp::Attribute;

void put_u64(std::string& b, uint64_t v) { b.append(reinterpret_cast<const char*>(&v), sizeof v); }
void put_str(std::string& b, std::string_view s) {
  const uint32_t n = static_cast<uint32_t>(s.size());
  b.append(reinterpret_cast<const char*>(&n), sizeof n);
  b.append(s);
}

struct Pending {
  DedupStage::Key key;
  uint32_t node;
  uint32_t shard;
};

struct Scratch {
  std::string buf;
  std::vector<const Attribute*> sorted;
  std::vector<DedupStage::Key> resource_keys;
  std::vector<Pending> pending, sorted_pending;
  std::vector<uint32_t> order, fill;
};
thread_local Scratch t_s;

// Appends the attributes in key order (so the order they came in does not matter), minus ignored.
void put_attrs(Scratch& s, std::span<const Attribute> attrs, const StringSet& ignore) {
  s.sorted.clear();
  for (const Attribute& a : attrs)
    if (ignore.empty() || ignore.find(a.key) == ignore.end()) s.sorted.push_back(&a);
  std::sort(s.sorted.begin(), s.sorted.end(), [](const Attribute* x, const Attribute* y) {
    return x->key != y->key ? x->key < y->key : x->value < y->value;
  });
  put_u64(s.buf, s.sorted.size());
  for (const Attribute* a : s.sorted) {
    put_str(s.buf, a->key);
    put_str(s.buf, a->value);
  }
}

DedupStage::Key hash_of(std::string_view b) {
  const XXH128_hash_t h = XXH3_128bits(b.data(), b.size());
  DedupStage::Key k{h.low64, h.high64};
  if (k.lo == 0 && k.hi == 0) k.lo = 1;  // {0,0} marks an empty slot
  return k;
}

uint32_t exemplar_field(otlp::MetricType t) {
  switch (t) {
    case otlp::MetricType::gauge:
    case otlp::MetricType::sum:
      return otlp::num(otlp::NumberDataPoint::exemplars);
    case otlp::MetricType::histogram:
      return otlp::num(otlp::HistogramDataPoint::exemplars);
    case otlp::MetricType::exponential_histogram:
      return otlp::num(otlp::ExponentialHistogramDataPoint::exemplars);
    default:
      return 0;
  }
}

uint64_t steady_ns() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

}  // namespace

std::unique_ptr<DedupStage> DedupStage::create(const config::Processor& p, std::string* err,
                                               Clock clock) {
  YamlReader r(p, err);
  YAML::Node root;
  if (!r.load(p, root)) return nullptr;
  if (!r.check_keys(root, "", {"mode", "window", "max_series", "ignore_attributes"}))
    return nullptr;
  auto st = std::unique_ptr<DedupStage>(new DedupStage());
  st->id_ = p.id;
  if (root["mode"]) {
    std::string m;
    if (!r.get_enum(root["mode"], "mode", {"exact", "replicas"}, m)) return nullptr;
    st->replicas_ = m == "replicas";
  }
  if (root["window"]) {
    std::chrono::nanoseconds w;
    if (!r.get_duration(root["window"], "window", w)) return nullptr;
    if (w.count() <= 0) return r.fail("window", "must be positive"), nullptr;
    st->window_ns_ = static_cast<uint64_t>(w.count());
  }
  if (root["max_series"]) {
    if (!r.get_uint(root["max_series"], "max_series", st->max_series_)) return nullptr;
    if (st->max_series_ == 0) return r.fail("max_series", "must be positive"), nullptr;
  }
  if (root["ignore_attributes"]) {
    std::vector<std::string> xs;
    if (!r.get_string_list(root["ignore_attributes"], "ignore_attributes", xs)) return nullptr;
    if (!st->replicas_) return r.fail("ignore_attributes", "only with mode: replicas"), nullptr;
    st->ignore_.insert(xs.begin(), xs.end());
  }
  if (st->replicas_ && st->ignore_.empty())
    return r.fail("ignore_attributes", "required with mode: replicas (e.g. [replica])"), nullptr;
  // kBuckets - 1 full buckets cover the window, so a key lives at least `window`.
  st->bucket_ns_ = std::max<uint64_t>(1, st->window_ns_ / (kBuckets - 1));
  st->bucket_cap_ =
      std::max<std::size_t>(8, static_cast<std::size_t>(st->max_series_ / (kShards * kBuckets)));
  std::size_t slots = 16;
  while (slots < st->bucket_cap_ * 2) slots *= 2;  // load factor at most 1/2
  st->table_mask_ = slots - 1;
  st->clock_ = clock ? std::move(clock) : Clock(steady_ns);
  st->shards_ = std::make_unique<Shard[]>(kShards);
  st->c_seen_ = st->counters_.add_seen();
  st->c_dups_ = st->counters_.add_dropped("duplicate");
  st->c_size_ = st->counters_.add("dedup_window_keys",
                                  "Data point keys the dedup window currently remembers.", {},
                                  CounterSet::Kind::gauge);
  st->c_evicted_ = st->counters_.add(
      "dedup_window_evictions",
      "Keys the dedup window forgot before their time because max_series was reached.",
      {{"reason", "max_series"}});
  return st;
}

void DedupStage::rotate(Shard& s, uint64_t now, int64_t& size_delta) {
  if (!s.started) {
    for (auto& t : s.tables) t.assign(table_mask_ + 1, Key{});
    s.started = true;
    s.cur_start = now;
    return;
  }
  // Another thread may have read the clock a moment later and rotated already: no time passed.
  if (now <= s.cur_start) return;
  // Advance one bucket per elapsed bucket period; after kBuckets everything has expired.
  for (std::size_t n = 0; n < kBuckets && now - s.cur_start >= bucket_ns_; ++n) {
    s.cur = (s.cur + 1) % kBuckets;
    std::fill(s.tables[s.cur].begin(), s.tables[s.cur].end(), Key{});
    size_delta -= static_cast<int64_t>(s.counts[s.cur]);
    s.counts[s.cur] = 0;
    s.cur_start += bucket_ns_;
  }
  if (now - s.cur_start >= bucket_ns_) s.cur_start = now;
}

bool DedupStage::seen_locked(Shard& s, const Key& k, uint64_t now, int64_t& size_delta,
                             uint64_t& evictions) {
  rotate(s, now, size_delta);
  for (std::size_t b = 0; b < kBuckets; ++b) {
    if (s.counts[b] == 0) continue;
    const std::vector<Key>& t = s.tables[b];
    for (std::size_t i = k.lo & table_mask_;; i = (i + 1) & table_mask_) {
      const Key& e = t[i];
      if (e.lo == k.lo && e.hi == k.hi) return true;
      if (e.lo == 0 && e.hi == 0) break;
    }
  }
  if (s.counts[s.cur] >= bucket_cap_) {
    // Full before its time is up: forget the oldest bucket now and start a new one.
    s.cur = (s.cur + 1) % kBuckets;
    evictions += s.counts[s.cur];
    size_delta -= static_cast<int64_t>(s.counts[s.cur]);
    std::fill(s.tables[s.cur].begin(), s.tables[s.cur].end(), Key{});
    s.counts[s.cur] = 0;
    s.cur_start = std::max(s.cur_start, now);
  }
  std::vector<Key>& t = s.tables[s.cur];
  std::size_t i = k.lo & table_mask_;
  while (t[i].lo != 0 || t[i].hi != 0) i = (i + 1) & table_mask_;
  t[i] = k;
  ++s.counts[s.cur];
  ++size_delta;
  return false;
}

void DedupStage::process(const otlp::Index& ix, otlp::Edits& edits) {
  std::vector<Remembered>& remembered = remembered_.local();
  remembered.clear();  // what an earlier request taught is kept for good once another comes
  if (ix.signal() != Signal::metrics) return;
  counters_.bump(c_seen_, ix.data_points().size());
  if (ix.data_points().empty()) return;
  Scratch& s = t_s;
  const StringSet& ignore = ignore_;  // empty in exact mode
  s.resource_keys.clear();
  for (const auto& r : ix.resources()) {
    s.buf.clear();
    put_attrs(s, ix.attributes(r.attrs), ignore);
    s.resource_keys.push_back(hash_of(s.buf));
  }
  const uint64_t now = clock_();
  const char* base = ix.data().data();
  const auto nodes = ix.nodes();
  const auto points = ix.data_points();
  uint64_t dups = 0, evictions = 0;
  int64_t size_delta = 0;
  s.pending.clear();
  for (const auto& m : ix.metrics()) {
    if (m.point_count == 0) continue;
    const auto& sc = ix.scopes()[m.scope];
    s.buf.clear();
    const Key& rk = s.resource_keys[sc.resource];
    put_u64(s.buf, rk.lo);
    put_u64(s.buf, rk.hi);
    put_str(s.buf, sc.name);
    put_str(s.buf, sc.version);
    put_str(s.buf, m.name);
    s.buf += static_cast<char>(m.type);
    const Key mk = hash_of(s.buf);
    const uint32_t attr_field = otlp::Index::attribute_field(otlp::NodeKind::data_point, m.type);
    const uint32_t ex_field = exemplar_field(m.type);
    for (uint32_t pi = m.first_point; pi < m.first_point + m.point_count; ++pi) {
      const auto& pt = points[pi];
      s.buf.clear();
      put_u64(s.buf, mk.lo);
      put_u64(s.buf, mk.hi);
      put_attrs(s, ix.attributes(pt.attrs), ignore);
      // The value: every other field of the point, as the bytes it came in.
      const otlp::Node& n = nodes[pt.node];
      wire::Cursor c(base, n.payload, n.end);
      while (c.next()) {
        if (c.field() == attr_field || (ex_field && c.field() == ex_field)) continue;
        s.buf.append(base + c.field_begin(), c.field_end() - c.field_begin());
      }
      if (c.error() != otlp::IndexError{}) continue;  // unreadable: never a duplicate
      const Key k = hash_of(s.buf);
      s.pending.push_back({k, pt.node, static_cast<uint32_t>(k.hi >> 58)});  // kShards == 64
    }
  }
  // One lock per shard per request rather than one per point: group the keys by shard, keeping
  // request order inside a shard so that the first of two equal points in a request is the one
  // kept.
  s.order.assign(kShards + 1, 0);
  for (const Pending& p : s.pending) ++s.order[p.shard + 1];
  for (std::size_t i = 1; i <= kShards; ++i) s.order[i] += s.order[i - 1];
  s.sorted_pending.resize(s.pending.size());
  s.fill.assign(s.order.begin(), s.order.end() - 1);
  for (const Pending& p : s.pending) s.sorted_pending[s.fill[p.shard]++] = p;
  for (std::size_t sh = 0; sh < kShards; ++sh) {
    if (s.order[sh] == s.order[sh + 1]) continue;
    Shard& shard = shards_[sh];
    std::lock_guard<std::mutex> lock(shard.mu);
    for (uint32_t i = s.order[sh]; i < s.order[sh + 1]; ++i) {
      const Pending& p = s.sorted_pending[i];
      if (seen_locked(shard, p.key, now, size_delta, evictions)) {
        edits.drop(p.node);
        ++dups;
      } else {
        remembered.push_back({p.key, static_cast<uint32_t>(sh)});
      }
    }
  }
  counters_.bump(c_dups_, dups);
  counters_.bump(c_evicted_, evictions);
  publish_size(size_delta);
}

void DedupStage::finish(bool accepted) {
  std::vector<Remembered>& remembered = remembered_.local();
  if (!accepted && !remembered.empty()) {
    int64_t size_delta = 0;
    for (std::size_t i = 0; i < remembered.size();) {
      Shard& shard = shards_[remembered[i].shard];
      std::lock_guard<std::mutex> lock(shard.mu);
      const uint32_t sh = remembered[i].shard;
      for (; i < remembered.size() && remembered[i].shard == sh; ++i)
        forget_locked(shard, remembered[i].key, size_delta);
    }
    publish_size(size_delta);
  }
  remembered.clear();
}

void DedupStage::forget_locked(Shard& s, const Key& k, int64_t& size_delta) {
  if (!s.started) return;
  for (std::size_t b = 0; b < kBuckets; ++b) {
    if (s.counts[b] == 0) continue;
    std::vector<Key>& t = s.tables[b];
    std::size_t i = k.lo & table_mask_;
    while (!(t[i].lo == k.lo && t[i].hi == k.hi)) {
      if (t[i].lo == 0 && t[i].hi == 0) break;
      i = (i + 1) & table_mask_;
    }
    if (t[i].lo == 0 && t[i].hi == 0) continue;
    // Backward-shift deletion: move later keys of the probe run into the hole unless their home
    // slot lies cyclically in (hole, j], so every key stays reachable from its home slot.
    for (std::size_t j = (i + 1) & table_mask_; t[j].lo != 0 || t[j].hi != 0;
         j = (j + 1) & table_mask_) {
      const std::size_t home = t[j].lo & table_mask_;
      const bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
      if (stays) continue;
      t[i] = t[j];
      i = j;
    }
    t[i] = Key{};
    --s.counts[b];
    --size_delta;
    return;  // a key lives in one bucket only
  }
}

void DedupStage::publish_size(int64_t size_delta) {
  const int64_t size = size_.fetch_add(size_delta, std::memory_order_relaxed) + size_delta;
  counters_.set(c_size_, std::max<int64_t>(0, size));
}

}  // namespace otlpgate::filters
