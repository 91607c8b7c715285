// DedupStage: hashing of series identity and value, and the sharded, time-bucketed window.
#include "filters/dedup.h"

#include <algorithm>
#include <bit>
#include <cstring>

#include <sys/mman.h>
#include <xxhash.h>

#include "core/otlp/fields.h"
#include "core/wire/copy.h"
#include "core/wire/cursor.h"
#include "core/wire/writer.h"
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

struct SortKey {
  uint64_t prefix;
  const Attribute* attr;
};

struct Scratch {
  std::string buf, kv;
  std::vector<char> form;  // a plain point's canonical form, when it is not its payload as it is
  std::vector<SortKey> sorted;  // sort_attrs(): its first nsorted entries, sorted_view()
  std::size_t nsorted = 0;
  std::span<const SortKey> sorted_view() const { return {sorted.data(), nsorted}; }
  std::vector<DedupStage::Key> resource_keys;
  std::vector<Pending> pending, sorted_pending;
  std::vector<uint32_t> order, fill;
};
thread_local Scratch t_s;

// In a plain point (DataPointEntry::plain) an attribute's field starts this many bytes before its
// key: the field's tag and length, the key's tag and length, one byte each.
constexpr std::ptrdiff_t kPlainKeyOffset = 4;

// How many keys ahead of its lookup a key's line is prefetched.
constexpr std::size_t kPrefetchDistance = 16;
// How many points ahead of its key a point's bytes are prefetched.
constexpr std::size_t kPointsAhead = 4;

// The first 8 bytes of a key as a big-endian number (zero-padded): comparing two of them orders
// keys as memcmp would, as far as those bytes go.
uint64_t key_prefix(std::string_view k) {
  uint64_t v = 0;
  if (k.size() >= 8)
    std::memcpy(&v, k.data(), 8);  // the usual case, one load
  else if (!k.empty())
    std::memcpy(&v, k.data(), k.size());
  if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap64(v);
  return v;
}

// (key, value) order: on key prefixes, the full comparison only when two prefixes are equal.
bool less(const SortKey& x, const SortKey& y) {
  if (x.prefix != y.prefix) return x.prefix < y.prefix;
  const int c = x.attr->key.compare(y.attr->key);
  return c != 0 ? c < 0 : x.attr->value < y.attr->value;
}

// Puts the attributes, minus ignored ones, in s.sorted in (key, value) order, so that the order
// they came in does not matter. A point has a few attributes, usually in the same order point
// after point: an insertion sort. True when that order is the order they came in.
bool sort_attrs(Scratch& s, std::span<const Attribute> attrs, const StringSet& ignore) {
  // Sized once for the most attributes seen, then written in place: no per-point push_back.
  if (s.sorted.size() < attrs.size()) s.sorted.resize(attrs.size());
  SortKey* out = s.sorted.data();
  std::size_t n = 0;
  if (ignore.empty()) {
    for (const Attribute& a : attrs) out[n++] = {key_prefix(a.key), &a};
  } else {
    for (const Attribute& a : attrs)
      if (ignore.find(a.key) == ignore.end()) out[n++] = {key_prefix(a.key), &a};
  }
  s.nsorted = n;
  bool kept = true;
  for (std::size_t i = 1; i < n; ++i) {
    if (!less(out[i], out[i - 1])) continue;
    kept = false;
    const SortKey x = out[i];
    std::size_t j = i;
    for (; j > 0 && less(x, out[j - 1]); --j) out[j] = out[j - 1];
    out[j] = x;
  }
  return kept;
}

// Appends the attributes, minus ignored ones, in (key, value) order as the KeyValue fields
// `field` that libprotobuf would write for them (key, then value; an absent value as an empty
// one).
void put_attr_block(Scratch& s, std::span<const Attribute> attrs, uint32_t field,
                    const StringSet& ignore) {
  sort_attrs(s, attrs, ignore);
  for (const SortKey& k : s.sorted_view()) {
    s.kv.clear();
    otlp::key_value_payload(s.kv, k.attr->key, k.attr->value);
    wire::append_bytes_field(s.buf, field, s.kv);
  }
}

// The canonical form of a data point, which its key hashes: its fields as they came in, minus
// its exemplars, with its attributes (as put_attr_block writes them) as one block before the
// first other field numbered above theirs, where libprotobuf writes them. Written to s.buf;
// false when the point is unreadable.
bool canonical_form(Scratch& s, const char* base, const otlp::Node& n, uint32_t attr_field,
                    uint32_t ex_field, std::span<const Attribute> attrs, const StringSet& ignore) {
  s.buf.clear();
  wire::Cursor c(base, n.payload, n.end);
  uint32_t run = n.payload;
  bool placed = false;
  while (c.next()) {
    const uint32_t f = c.field();
    if (f == attr_field || (ex_field != 0 && f == ex_field)) {
      s.buf.append(base + run, c.field_begin() - run);
      run = c.field_end();
    } else if (!placed && f > attr_field) {
      s.buf.append(base + run, c.field_begin() - run);
      run = c.field_begin();
      put_attr_block(s, attrs, attr_field, ignore);
      placed = true;
    }
  }
  if (c.error() != otlp::IndexError{}) return false;
  s.buf.append(base + run, n.end - run);
  if (!placed) put_attr_block(s, attrs, attr_field, ignore);
  return true;
}

DedupStage::Key hash_of(std::string_view b) {
  const XXH128_hash_t h = XXH3_128bits(b.data(), b.size());
  return {h.low64, h.high64};
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
  // kGenerations - 1 full generations cover the window, so a key lives at least `window`.
  st->generation_ns_ = std::max<uint64_t>(1, st->window_ns_ / (kGenerations - 1));
  st->generation_cap_ = std::max<std::size_t>(
      8, static_cast<std::size_t>(st->max_series_ / (kShards * kGenerations)));
  // Slots for 3/2 of the keys a shard may hold (load factor at most 2/3): about 32 bytes a key.
  std::size_t lines = 16;
  while (lines * kSlots * 2 < st->generation_cap_ * kGenerations * 3) lines *= 2;
  st->line_mask_ = lines - 1;
  st->sweep_lines_ = std::max<std::size_t>(1, lines >> 15);
  st->clock_ = clock ? std::move(clock) : Clock(steady_ns);
  st->shards_ = std::make_unique<Shard[]>(kShards);
  // Zero bytes are free lines: no tag of a zero generation is live (Shard::gen starts past it).
  const std::size_t bytes = kShards * lines * sizeof(Line);
  void* m = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED)
    return r.fail("max_series", "cannot map " + std::to_string(bytes) + " bytes for the window"),
           nullptr;
  madvise(m, bytes, MADV_HUGEPAGE);  // advice only: 4 KB pages work too
  st->tables_ = std::unique_ptr<Line[], Unmap>(static_cast<Line*>(m), Unmap{bytes});
  for (std::size_t i = 0; i < kShards; ++i) st->shards_[i].table = st->tables_.get() + i * lines;
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

void DedupStage::Unmap::operator()(Line* p) const {
  if (p) munmap(p, bytes);
}

void DedupStage::rotate(Shard& s, uint64_t now, int64_t& size_delta) {
  if (!s.started) {
    s.started = true;
    s.cur_start = now;
    return;
  }
  // Another thread may have read the clock a moment later and rotated already: no time passed.
  if (now <= s.cur_start) return;
  // One generation per elapsed period; after kGenerations everything has expired.
  for (std::size_t n = 0; n < kGenerations && now - s.cur_start >= generation_ns_; ++n) {
    advance(s, size_delta);
    s.cur_start += generation_ns_;
  }
  if (now - s.cur_start >= generation_ns_) s.cur_start = now;
}

void DedupStage::advance(Shard& s, int64_t& size_delta) {
  ++s.gen;
  std::size_t& count = s.counts[s.gen % kGenerations];  // the oldest generation's, until now
  size_delta -= static_cast<int64_t>(count);
  count = 0;
  // A dead tag would read as live again once the 16-bit counter wraps round to it: rewrite the
  // dead tags of a few lines per generation, so that every line's are fresh within 2^15
  // generations.
  const uint16_t dead = s.gen - kGenerations;
  for (std::size_t n = 0; n < sweep_lines_; ++n) {
    Line& l = s.table[s.sweep];
    for (uint16_t& g : l.gens)
      if (!live(s, g)) g = dead;
    if (!live(s, l.overflow)) l.overflow = dead;
    s.sweep = (s.sweep + 1) & line_mask_;
  }
}

uint16_t* DedupStage::find_locked(Shard& s, const Key& k) const {
  const uint64_t bits = passed_bits(k);
  // Bounded by the table's size: every line may carry a live overflow mark.
  std::size_t i = k.lo & line_mask_;
  for (std::size_t n = 0; n <= line_mask_; ++n, i = (i + 1) & line_mask_) {
    Line& l = s.table[i];
    for (std::size_t j = 0; j < kSlots; ++j)
      if (l.keys[j].lo == k.lo && l.keys[j].hi == k.hi && live(s, l.gens[j])) return &l.gens[j];
    if (!live(s, l.overflow) || (l.passed & bits) != bits) break;
  }
  return nullptr;
}

// Inlined in the loop of process(), its one caller on the hot path.
[[gnu::always_inline]] inline bool DedupStage::seen_locked(Shard& s, const Key& k, uint64_t now,
                                                           int64_t& size_delta,
                                                           uint64_t& evictions) {
  // One probe for both answers: the slot holding `k` (it stops where find_locked() does), and a
  // free slot in the home line for it if it is not there. (find_locked() then the insertion loop,
  // each reading the home line, was 4-5 % slower in BM_DedupWindow.)
  const uint64_t bits = passed_bits(k);
  Line* const home = s.table + (k.lo & line_mask_);
  int free_slot = -1;
  for (std::size_t j = 0; j < kSlots; ++j) {
    if (!live(s, home->gens[j])) {
      if (free_slot < 0) free_slot = static_cast<int>(j);
    } else if (home->keys[j].lo == k.lo && home->keys[j].hi == k.hi) {
      return true;
    }
  }
  if (live(s, home->overflow) && (home->passed & bits) == bits && find_locked(s, k)) return true;
  if (s.counts[s.gen % kGenerations] >= generation_cap_) {
    // Full before its time is up: forget the oldest generation now and start a new one.
    evictions += s.counts[(s.gen + 1) % kGenerations];
    advance(s, size_delta);
    s.cur_start = std::max(s.cur_start, now);
    free_slot = -1;  // a slot of the forgotten generation may have come free before that one
  }
  auto take = [&](Line& l, std::size_t j) {
    l.keys[j] = k;
    l.gens[j] = s.gen;
    ++s.counts[s.gen % kGenerations];
    ++size_delta;
  };
  if (free_slot >= 0) {  // the usual case: room in the home line, nothing passed on the way
    take(*home, static_cast<std::size_t>(free_slot));
    return false;
  }
  // The first free slot from the home line on, marking each full line passed: there is one, as
  // the live keys (at most kGenerations * generation_cap_ - 1) are fewer than the slots.
  for (std::size_t i = k.lo & line_mask_;; i = (i + 1) & line_mask_) {
    Line& l = s.table[i];
    for (std::size_t j = 0; j < kSlots; ++j) {
      if (live(s, l.gens[j])) continue;
      take(l, j);
      return false;
    }
    if (!live(s, l.overflow)) l.passed = 0;  // whoever went past before has expired
    l.passed |= passed_bits(k);
    l.overflow = s.gen;
  }
}

void DedupStage::process(const otlp::Index& ix, otlp::Edits& edits) {
  std::vector<Remembered>& remembered = remembered_.local();
  remembered.clear();  // what an earlier request taught is kept for good once another comes
  if (ix.signal() != Signal::metrics) return;
  counters_.bump(c_seen_, edits.items_left());
  if (edits.items_left() == 0) return;
  Scratch& s = t_s;
  const StringSet& ignore = ignore_;  // empty in exact mode
  s.resource_keys.clear();
  const uint32_t resource_field = otlp::Index::attribute_field(otlp::NodeKind::resource);
  for (const auto& r : ix.resources()) {
    s.buf.clear();
    put_attr_block(s, edits.attributes(r), resource_field, ignore);
    s.resource_keys.push_back(hash_of(s.buf));
  }
  const uint64_t now = clock_();
  const char* base = ix.data().data();
  const auto nodes = ix.nodes();
  const auto points = ix.data_points();
  const Attribute* const index_attrs = ix.attributes().data();
  uint64_t dups = 0, evictions = 0;
  int64_t size_delta = 0;
  s.pending.clear();
  for (const auto& m : ix.metrics()) {
    if (m.point_count == 0 || edits.dropped(m.node)) continue;
    const auto& sc = ix.scopes()[m.scope];
    s.buf.clear();
    const Key& rk = s.resource_keys[sc.resource];
    put_u64(s.buf, rk.lo);
    put_u64(s.buf, rk.hi);
    put_str(s.buf, sc.name);
    put_str(s.buf, sc.version);
    put_str(s.buf, edits.metric_name(m));
    s.buf += static_cast<char>(m.type);
    const Key mk = hash_of(s.buf);
    const uint32_t attr_field = otlp::Index::attribute_field(otlp::NodeKind::data_point, m.type);
    const uint32_t ex_field = otlp::Index::exemplar_field(m.type);
    for (uint32_t pi = m.first_point; pi < m.first_point + m.point_count; ++pi) {
      const auto& pt = points[pi];
      // The request's bytes have left the cache since the index read them: fetch the bytes of a
      // point a few on while this one is hashed.
      if (pi + kPointsAhead < points.size()) {
        const otlp::Node& ahead = nodes[points[pi + kPointsAhead].node];
        for (uint32_t o = ahead.payload; o < ahead.end; o += 64) __builtin_prefetch(base + o);
      }
      if (edits.dropped(pt.node)) continue;  // an earlier stage's: neither sent nor remembered
      const auto attrs = edits.attributes(pt);
      const otlp::Node& n = nodes[pt.node];
      const bool unchanged = attrs.size() == pt.attrs.count &&
                             (attrs.empty() || attrs.data() == index_attrs + pt.attrs.first);
      Key k;
      if (pt.plain && unchanged && ignore.empty()) {
        // Its attributes' fields are one run of KeyValues written as put_attr_block writes them:
        // the canonical form is the payload with that run in order.
        std::string_view form(base + n.payload, n.end - n.payload);
        if (!sort_attrs(s, attrs, ignore)) {
          // The same bytes, the run's fields permuted.
          if (s.form.size() < form.size()) s.form.resize(form.size());
          char* out = s.form.data();
          auto put = [&out](const char* from, const char* to) {
            out = wire::copy_run(out, from, static_cast<std::size_t>(to - from));
          };
          put(form.data(), attrs.front().key.data() - kPlainKeyOffset);
          for (const SortKey& sk : s.sorted_view())
            put(sk.attr->key.data() - kPlainKeyOffset,
                sk.attr->value.data() + sk.attr->value.size());
          put(attrs.back().value.data() + attrs.back().value.size(), form.data() + form.size());
          form = std::string_view(s.form.data(), form.size());
        }
        k = hash_of(form);
      } else {
        if (!canonical_form(s, base, n, attr_field, ex_field, attrs, ignore)) continue;  // never a duplicate
        k = hash_of(s.buf);
      }
      // The series: the point's attributes are in its form, the rest of its identity in mk.
      k.lo ^= mk.lo;
      k.hi ^= mk.hi;
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
    rotate(shard, now, size_delta);  // once: `now` is one instant for the whole request
    for (uint32_t i = s.order[sh]; i < s.order[sh + 1]; ++i) {
      // A lookup is one read of a line of a table bigger than the caches: start reading the line
      // of a key a few places on, so that the reads overlap.
      if (i + kPrefetchDistance < s.sorted_pending.size()) {
        const Pending& ahead = s.sorted_pending[i + kPrefetchDistance];
        // And the line after it: a third of home lines are full, and a new key goes on there.
        const Line* table = shards_[ahead.shard].table;
        __builtin_prefetch(table + (ahead.key.lo & line_mask_));
        __builtin_prefetch(table + ((ahead.key.lo + 1) & line_mask_));
      }
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
  uint16_t* gen = find_locked(s, k);
  if (!gen) return;
  // A free slot. Overflow marks on the way stay until they expire: at worst a lookup reads a line
  // more than it needs.
  --s.counts[*gen % kGenerations];
  *gen = s.gen - kGenerations;
  --size_delta;
}

void DedupStage::publish_size(int64_t size_delta) {
  const int64_t size = size_.fetch_add(size_delta, std::memory_order_relaxed) + size_delta;
  counters_.set(c_size_, std::max<int64_t>(0, size));
}

}  // namespace otlpgate::filters
