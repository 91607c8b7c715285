// DiskQueue: segment files of checksummed records, an ack log, group commit, and replay.
#include "core/queue/disk_queue.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <vector>

#include <xxhash.h>

#include "core/telemetry/metrics.h"

namespace otlpgate::queue {
namespace {

constexpr uint32_t kRecordMagic = 0x5147544f;  // "OTGQ" little-endian
constexpr uint32_t kAckMagic = 0x4b434141;     // "AACK"
constexpr std::size_t kHeaderSize = 24;
constexpr std::size_t kAckSize = 16;
constexpr std::size_t kPayloadFixed = 16;  // signal(1) pad(3) tenant length(4) items(8)
constexpr uint32_t kMaxPayload = 1u << 30;

struct Header {
  uint32_t magic;
  uint32_t length;
  uint64_t seq;
  uint32_t payload_hash;
  uint32_t header_hash;  // XXH32 of the 20 bytes before it
};
static_assert(sizeof(Header) == kHeaderSize);

uint32_t hash32(const void* p, std::size_t n) { return XXH32(p, n, 0); }

bool header_ok(const Header& h) {
  return h.magic == kRecordMagic && h.length <= kMaxPayload &&
         h.header_hash == hash32(&h, offsetof(Header, header_hash));
}

bool write_all(int fd, const char* p, std::size_t n, uint64_t offset) {
  while (n > 0) {
    const ssize_t w = ::pwrite(fd, p, n, static_cast<off_t>(offset));
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<std::size_t>(w);
    offset += static_cast<uint64_t>(w);
  }
  return true;
}

bool read_all(int fd, char* p, std::size_t n, uint64_t offset) {
  while (n > 0) {
    const ssize_t r = ::pread(fd, p, n, static_cast<off_t>(offset));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p += r;
    n -= static_cast<std::size_t>(r);
    offset += static_cast<uint64_t>(r);
  }
  return true;
}

// One acks.log record: the sequence number, a magic and an XXH32 of both.
std::string ack_record(uint64_t seq) {
  std::string rec(kAckSize, '\0');
  std::memcpy(rec.data(), &seq, 8);
  std::memcpy(rec.data() + 8, &kAckMagic, 4);
  const uint32_t h = hash32(rec.data(), 12);
  std::memcpy(rec.data() + 12, &h, 4);
  return rec;
}

std::string encode_payload(const Batch& b) {
  std::string out(kPayloadFixed + b.tenant.size() + b.bytes.size(), '\0');
  out[0] = static_cast<char>(b.signal);
  const uint32_t tenant_len = static_cast<uint32_t>(b.tenant.size());
  std::memcpy(out.data() + 4, &tenant_len, 4);
  std::memcpy(out.data() + 8, &b.items, 8);
  std::memcpy(out.data() + kPayloadFixed, b.tenant.data(), b.tenant.size());
  std::memcpy(out.data() + kPayloadFixed + b.tenant.size(), b.bytes.data(), b.bytes.size());
  return out;
}

std::optional<Batch> decode_payload(std::string_view p) {
  if (p.size() < kPayloadFixed) return std::nullopt;
  const auto signal = static_cast<uint8_t>(p[0]);
  uint32_t tenant_len = 0;
  Batch b;
  std::memcpy(&tenant_len, p.data() + 4, 4);
  std::memcpy(&b.items, p.data() + 8, 8);
  if (signal > static_cast<uint8_t>(Signal::logs) || tenant_len > p.size() - kPayloadFixed)
    return std::nullopt;
  b.signal = static_cast<Signal>(signal);
  b.tenant.assign(p.substr(kPayloadFixed, tenant_len));
  b.bytes = Bytes::copy_of(p.substr(kPayloadFixed + tenant_len));
  return b;
}

}  // namespace

// An open file, closed when the last user lets go (a group-commit leader may still be syncing a
// segment that an ack has just deleted).
struct DiskQueue::File {
  explicit File(int f) : fd(f) {}
  ~File() {
    if (fd >= 0) ::close(fd);
  }
  File(const File&) = delete;
  File& operator=(const File&) = delete;
  int fd;
};

DiskQueueOptions DiskQueue::configured(const config::Exporter& e) {
  DiskQueueOptions o;
  std::string name = e.id;
  std::replace(name.begin(), name.end(), '/', '_');
  o.dir = e.sending_queue.storage + "/" + name;
  o.max_requests = static_cast<std::size_t>(std::max(e.sending_queue.queue_size, 1));
  o.max_bytes = e.sending_queue.storage_size_mib << 20;
  o.segment_bytes = std::clamp<uint64_t>(o.max_bytes / 8, 64 << 10, 64ull << 20);
  o.memory_cache_bytes = e.sending_queue.queue_size_mib << 20;
  o.fsync = e.sending_queue.fsync == "interval" ? FsyncPolicy::interval : FsyncPolicy::always;
  o.fsync_interval = e.sending_queue.fsync_interval;
  return o;
}

DiskQueue::DiskQueue(DiskQueueOptions options) : opt_(std::move(options)) {}

std::unique_ptr<DiskQueue> DiskQueue::open(const DiskQueueOptions& options, std::string* err) {
  std::unique_ptr<DiskQueue> q(new DiskQueue(options));
  if (!q->recover(err)) return nullptr;
  if (q->opt_.fsync == FsyncPolicy::interval) {
    q->syncer_ = std::thread([raw = q.get()] { raw->sync_loop(); });
  }
  return q;
}

DiskQueue::~DiskQueue() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (syncer_.joinable()) syncer_.join();
  std::lock_guard lock(mu_);
  // A clean stop leaves nothing for the page cache alone.
  for (auto& [first, seg] : segments_) ::fdatasync(seg.file->fd);
  if (acks_) ::fdatasync(acks_->fd);
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

std::string DiskQueue::segment_path(uint64_t first_seq) const {
  char name[40];
  std::snprintf(name, sizeof name, "/seg-%016" PRIx64 ".log", first_seq);
  return opt_.dir + name;
}

bool DiskQueue::recover(std::string* err) {
  auto fail = [&](const std::string& what) {
    *err = opt_.dir + ": " + what + ": " + std::strerror(errno);
    return false;
  };
  // mkdir -p
  for (std::size_t i = 1; i <= opt_.dir.size(); ++i) {
    if (i == opt_.dir.size() || opt_.dir[i] == '/') {
      const std::string part = opt_.dir.substr(0, i);
      if (::mkdir(part.c_str(), 0750) != 0 && errno != EEXIST) return fail("cannot create");
    }
  }
  lock_fd_ = ::open((opt_.dir + "/LOCK").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
  if (lock_fd_ < 0) return fail("cannot open LOCK");
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) return fail("in use by another process");

  // The ack log: a torn or corrupt tail ends it (acks are only an optimisation of replay).
  std::set<uint64_t> acked;
  const std::string acks_path = opt_.dir + "/acks.log";
  if (int fd = ::open(acks_path.c_str(), O_RDONLY | O_CLOEXEC); fd >= 0) {
    File f(fd);
    char rec[kAckSize];
    for (uint64_t off = 0; read_all(fd, rec, kAckSize, off); off += kAckSize) {
      uint64_t seq;
      uint32_t magic, h;
      std::memcpy(&seq, rec, 8);
      std::memcpy(&magic, rec + 8, 4);
      std::memcpy(&h, rec + 12, 4);
      if (magic != kAckMagic || h != hash32(rec, 12)) break;
      acked.insert(seq);
    }
  }

  std::vector<uint64_t> firsts;
  if (DIR* d = ::opendir(opt_.dir.c_str())) {
    while (dirent* ent = ::readdir(d)) {
      uint64_t first = 0;
      char tail[8] = {};
      if (std::sscanf(ent->d_name, "seg-%16" SCNx64 ".%4s", &first, tail) == 2 &&
          std::strcmp(tail, "log") == 0 && first > 0)
        firsts.push_back(first);
    }
    ::closedir(d);
  } else {
    return fail("cannot list");
  }
  std::sort(firsts.begin(), firsts.end());

  std::lock_guard lock(mu_);
  for (uint64_t first : firsts) {
    const int fd = ::open(segment_path(first).c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) return fail("cannot open " + segment_path(first));
    Segment seg;
    seg.file = std::make_shared<File>(fd);
    std::set<uint64_t> acked_here;
    scan_segment(first, seg, acked, acked_here);
    next_seq_ = std::max(next_seq_, first);
    if (seg.live == 0) {
      ::unlink(segment_path(first).c_str());
      continue;
    }
    acked_live_.insert(acked_here.begin(), acked_here.end());
    disk_bytes_ += seg.size;
    segments_.emplace(first, std::move(seg));
  }
  for (const Waiting& w : waiting_) next_seq_ = std::max(next_seq_, w.seq + 1);
  if (!acked_live_.empty()) next_seq_ = std::max(next_seq_, *acked_live_.rbegin() + 1);
  written_seq_ = durable_seq_ = next_seq_ - 1;
  stats_.replayed = waiting_.size();
  stats_.segments = segments_.size();
  rewrite_acks_locked();
  if (!acks_) return fail("cannot write acks.log");
  return true;
}

void DiskQueue::scan_segment(uint64_t first_seq, Segment& seg, const std::set<uint64_t>& acked,
                             std::set<uint64_t>& acked_here) {
  const int fd = seg.file->fd;
  struct stat st {};
  ::fstat(fd, &st);
  // Segments are bounded (segment_bytes plus one record), so reading one whole is fine.
  std::string data(static_cast<std::size_t>(st.st_size), '\0');
  if (!read_all(fd, data.data(), data.size(), 0)) data.clear();
  const uint64_t size = data.size();
  auto header_at = [&](uint64_t off) {
    Header h{};
    std::memcpy(&h, data.data() + off, kHeaderSize);
    return h;
  };
  uint64_t off = 0;
  while (off < size) {
    if (size - off < kHeaderSize) break;  // torn header
    Header h = header_at(off);
    if (!header_ok(h)) {
      // A damaged header: resynchronise on the next valid one. None left means a torn tail.
      uint64_t next = off + 1;
      while (next + kHeaderSize <= size &&
             !(header_ok(h = header_at(next)) && h.seq >= first_seq))
        ++next;
      if (next + kHeaderSize > size) break;
      ++stats_.corrupt_records;
      off = next;
      continue;
    }
    if (h.length > size - off - kHeaderSize) break;  // torn payload
    const std::string_view payload(data.data() + off + kHeaderSize, h.length);
    if (hash32(payload.data(), payload.size()) != h.payload_hash || !decode_payload(payload)) {
      ++stats_.corrupt_records;
    } else if (acked.count(h.seq)) {
      acked_here.insert(h.seq);
      next_seq_ = std::max(next_seq_, h.seq + 1);
    } else {
      waiting_.push_back(Waiting{h.seq, off, h.length, std::nullopt});
      ++seg.live;
      next_seq_ = std::max(next_seq_, h.seq + 1);
    }
    off += kHeaderSize + h.length;
  }
  if (off < size) {
    ++stats_.torn_tails;
    if (::ftruncate(fd, static_cast<off_t>(off)) != 0) {
      std::fprintf(stderr, "otlpgate: %s: cannot truncate the torn tail: %s\n",
                   segment_path(first_seq).c_str(), std::strerror(errno));
    }
  }
  seg.size = off;
}

void DiskQueue::rewrite_acks_locked() {
  // Only acks of records still on disk matter; write them to a new file and swap it in.
  const std::string path = opt_.dir + "/acks.log";
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) return;
  auto f = std::make_shared<File>(fd);
  acks_size_ = 0;
  std::string buf;
  buf.reserve(acked_live_.size() * kAckSize);
  for (uint64_t seq : acked_live_) {
    buf += ack_record(seq);
  }
  if (!write_all(fd, buf.data(), buf.size(), 0) || ::fdatasync(fd) != 0 ||
      ::rename(tmp.c_str(), path.c_str()) != 0)
    return;
  acks_size_ = buf.size();
  acks_ = std::move(f);
}

bool DiskQueue::open_segment_locked(uint64_t first_seq, std::string* err) {
  const std::string path = segment_path(first_seq);
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) {
    *err = path + ": " + std::strerror(errno);
    return false;
  }
  if (opt_.fsync == FsyncPolicy::always) {
    // The new file's directory entry must be durable too, or a crash loses the whole file.
    if (int dfd = ::open(opt_.dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
      ::fsync(dfd);
      ::close(dfd);
    }
  }
  Segment seg;
  seg.file = std::make_shared<File>(fd);
  segments_.emplace(first_seq, std::move(seg));
  active_ = first_seq;
  ++stats_.segments;
  return true;
}

bool DiskQueue::try_push(const Batch& batch) {
  const std::string payload = encode_payload(batch);
  if (payload.size() > kMaxPayload) return false;
  const uint64_t record = kHeaderSize + payload.size();
  std::unique_lock lock(mu_);
  if (stop_ || waiting_.size() >= opt_.max_requests) return false;
  if (disk_bytes_ > 0 && disk_bytes_ + record > opt_.max_bytes) return false;
  if (active_ != 0 && segments_.at(active_).size >= opt_.segment_bytes) {
    // Seal the full segment; it must be durable before records in the next one count as such
    // (and the interval syncer only ever syncs the active segment).
    ::fdatasync(segments_.at(active_).file->fd);
    ++stats_.fsyncs;
    active_ = 0;
  }
  const uint64_t seq = next_seq_;
  if (active_ == 0) {
    std::string err;
    if (!open_segment_locked(seq, &err)) {
      std::fprintf(stderr, "otlpgate: disk queue: %s\n", err.c_str());
      return false;
    }
  }
  Segment& seg = segments_.at(active_);
  Header h{kRecordMagic, static_cast<uint32_t>(payload.size()), seq,
           hash32(payload.data(), payload.size()), 0};
  h.header_hash = hash32(&h, offsetof(Header, header_hash));
  std::string buf(reinterpret_cast<const char*>(&h), kHeaderSize);
  buf += payload;
  if (!write_all(seg.file->fd, buf.data(), buf.size(), seg.size)) {
    // Disk full or failing: cut off whatever part was written and refuse.
    std::fprintf(stderr, "otlpgate: disk queue %s: write failed: %s\n", opt_.dir.c_str(),
                 std::strerror(errno));
    if (::ftruncate(seg.file->fd, static_cast<off_t>(seg.size)) != 0) active_ = 0;
    return false;
  }
  ++next_seq_;
  written_seq_ = seq;
  Waiting w{seq, seg.size, static_cast<uint32_t>(payload.size()), std::nullopt};
  if (cached_bytes_ + batch.bytes.size() <= opt_.memory_cache_bytes) {
    w.cached = batch;
    cached_bytes_ += batch.bytes.size();
  }
  seg.size += record;
  ++seg.live;
  disk_bytes_ += record;
  waiting_.push_back(std::move(w));
  if (opt_.fsync == FsyncPolicy::always) sync_until(seq, lock);
  return true;
}

void DiskQueue::sync_until(uint64_t seq, std::unique_lock<std::mutex>& lock) {
  // Group commit: one caller (the leader) syncs everything written so far while the others wait;
  // a waiter whose record was written after the leader started leads the next round.
  while (durable_seq_ < seq) {
    if (syncing_) {
      synced_.wait(lock);
      continue;
    }
    syncing_ = true;
    const uint64_t target = written_seq_;
    std::shared_ptr<File> f = active_ ? segments_.at(active_).file : nullptr;
    lock.unlock();
    const bool ok = !f || ::fdatasync(f->fd) == 0;
    lock.lock();
    syncing_ = false;
    ++stats_.fsyncs;
    if (ok) {
      durable_seq_ = std::max(durable_seq_, target);
    } else {
      std::fprintf(stderr, "otlpgate: disk queue %s: fdatasync failed: %s\n", opt_.dir.c_str(),
                   std::strerror(errno));
    }
    synced_.notify_all();
    if (!ok) return;  // the record is written; report it accepted rather than spin
  }
}

void DiskQueue::sync_loop() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    wake_.wait_for(lock, opt_.fsync_interval);
    if (durable_seq_ < written_seq_) sync_until(written_seq_, lock);
    if (acks_) {
      const std::shared_ptr<File> a = acks_;
      lock.unlock();
      ::fdatasync(a->fd);
      lock.lock();
    }
  }
}

std::optional<Entry> DiskQueue::pop() {
  std::lock_guard lock(mu_);
  while (!waiting_.empty()) {
    Waiting w = std::move(waiting_.front());
    waiting_.pop_front();
    if (w.cached) {
      cached_bytes_ -= w.cached->bytes.size();
      return Entry{std::move(*w.cached), w.seq};
    }
    auto it = segment_of_locked(w.seq);
    std::string payload(w.length, '\0');
    Header h{};
    std::optional<Batch> b;
    if (it != segments_.end() &&
        read_all(it->second.file->fd, reinterpret_cast<char*>(&h), kHeaderSize, w.offset) &&
        header_ok(h) && h.seq == w.seq && h.length == w.length &&
        read_all(it->second.file->fd, payload.data(), w.length, w.offset + kHeaderSize) &&
        hash32(payload.data(), payload.size()) == h.payload_hash) {
      b = decode_payload(payload);
    }
    if (b) return Entry{std::move(*b), w.seq};
    ++stats_.corrupt_records;  // damaged on disk after it was written
    done_locked(w.seq, true);
  }
  return std::nullopt;
}

std::map<uint64_t, DiskQueue::Segment>::iterator DiskQueue::segment_of_locked(uint64_t seq) {
  auto it = segments_.upper_bound(seq);
  if (it == segments_.begin()) return segments_.end();
  return std::prev(it);
}

void DiskQueue::append_ack_locked(uint64_t seq) {
  if (!acks_) return;
  const std::string rec = ack_record(seq);
  if (write_all(acks_->fd, rec.data(), kAckSize, acks_size_)) acks_size_ += kAckSize;
}

void DiskQueue::done_locked(uint64_t seq, bool acked) {
  auto it = segment_of_locked(seq);
  if (it == segments_.end()) return;
  Segment& seg = it->second;
  if (acked) {
    append_ack_locked(seq);
    acked_live_.insert(seq);
  }
  if (seg.live > 0) --seg.live;
  // A drained segment goes; the active one only once it is worth a new file.
  const bool active = it->first == active_;
  if (seg.live > 0 || (active && seg.size < opt_.segment_bytes / 8)) return;
  if (active) active_ = 0;
  ::unlink(segment_path(it->first).c_str());
  disk_bytes_ -= std::min(disk_bytes_, seg.size);
  const uint64_t end = std::next(it) == segments_.end() ? next_seq_ : std::next(it)->first;
  acked_live_.erase(acked_live_.lower_bound(it->first), acked_live_.lower_bound(end));
  segments_.erase(it);
  --stats_.segments;
  ++stats_.segments_deleted;
  // Keep the ack log about as small as what is still on disk.
  if (acks_size_ > (1u << 20) && acks_size_ > 4 * kAckSize * (acked_live_.size() + 1))
    rewrite_acks_locked();
}

void DiskQueue::ack(const Entry& entry) {
  std::lock_guard lock(mu_);
  done_locked(entry.id, true);
}

void DiskQueue::release(const Entry& /*entry*/) {
  // Nothing to do: the record stays on disk unacked and its segment stays with it.
}

std::size_t DiskQueue::size() const {
  std::lock_guard lock(mu_);
  return waiting_.size();
}

uint64_t DiskQueue::bytes() const {
  std::lock_guard lock(mu_);
  return disk_bytes_;
}

DiskQueueStats DiskQueue::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

namespace {

constexpr telemetry::MetricDef kMetricDiskBytes{
    "otlpgate_exporter_queue_disk_bytes",
    "Bytes of the persistent exporter queue's segment files on disk."};
constexpr telemetry::MetricDef kMetricDiskSegments{
    "otlpgate_exporter_queue_disk_segments", "Segment files of the persistent exporter queue."};
constexpr telemetry::MetricDef kMetricDiskReplayed{
    "otlpgate_exporter_queue_disk_replayed_requests_total",
    "Requests the persistent queue found undelivered at start and queued again."};
constexpr telemetry::MetricDef kMetricDiskCorrupt{
    "otlpgate_exporter_queue_disk_corrupt_records_total",
    "Records of the persistent queue skipped because their checksum or header was bad."};
constexpr telemetry::MetricDef kMetricDiskTornTails{
    "otlpgate_exporter_queue_disk_torn_tails_total",
    "Segments of the persistent queue whose last record was cut short (truncated at start)."};
constexpr telemetry::MetricDef kMetricDiskFsyncs{
    "otlpgate_exporter_queue_disk_fsyncs_total",
    "fdatasync calls on the persistent queue's segments (one per group commit)."};

}  // namespace

void DiskQueue::register_metrics(telemetry::Registry& metrics,
                                 const std::string& exporter_id) const {
  const telemetry::Labels labels = {{"exporter", exporter_id}};
  metrics.gauge_fn(kMetricDiskBytes, labels, [this] { return static_cast<int64_t>(bytes()); });
  metrics.gauge_fn(kMetricDiskSegments, labels,
                   [this] { return static_cast<int64_t>(stats().segments); });
  metrics.counter_fn(kMetricDiskReplayed, labels, [this] { return stats().replayed; });
  metrics.counter_fn(kMetricDiskCorrupt, labels, [this] { return stats().corrupt_records; });
  metrics.counter_fn(kMetricDiskTornTails, labels, [this] { return stats().torn_tails; });
  metrics.counter_fn(kMetricDiskFsyncs, labels, [this] { return stats().fsyncs; });
}

}  // namespace otlpgate::queue
