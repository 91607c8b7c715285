// DiskQueue: a persistent Queue for one exporter — an append-only segmented log on local disk
// that survives kill -9 and replays everything not yet delivered at the next start.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "core/config/config.h"
#include "core/queue/queue.h"

namespace otlpgate::queue {

// When try_push() may return true.
enum class FsyncPolicy {
  always,    // after the record is on stable storage (fdatasync); concurrent pushes share one
             // fdatasync (group commit), so the cost is per sync, not per request
  interval,  // after the record is in the kernel's page cache (survives a crash of the process,
             // not of the machine); a background thread syncs every `fsync_interval`
};

struct DiskQueueOptions {
  std::string dir;                      // created if missing; one queue per directory (locked)
  std::size_t max_requests = 1000;      // entries waiting
  uint64_t max_bytes = 1ull << 30;      // disk cap: bytes of all segment files
  uint64_t segment_bytes = 8ull << 20;  // a segment is sealed once it reaches this size
  uint64_t memory_cache_bytes = 32ull << 20;  // waiting payloads also kept in memory up to this
  FsyncPolicy fsync = FsyncPolicy::always;
  std::chrono::milliseconds fsync_interval{200};
};

// What open() found on disk, and what happened since; for tests, logs and /metrics.
struct DiskQueueStats {
  uint64_t replayed = 0;         // entries found undelivered at open() and queued again
  uint64_t corrupt_records = 0;  // records skipped: bad checksum or unreadable header
  uint64_t torn_tails = 0;       // segments whose last record was cut short (truncated)
  uint64_t fsyncs = 0;           // fdatasync calls on segments
  uint64_t segments = 0;         // segment files on disk now
  uint64_t segments_deleted = 0;
};

// Layout of `dir`: `seg-<first seq, 16 hex>.log` files of records, `acks.log` (the sequence
// numbers delivered or given up), and `LOCK`. A record is a 24-byte header (magic, payload
// length, sequence number, XXH32 of the payload, XXH32 of the header) and the payload (signal,
// items, tenant, request bytes). The header checksum lets a scan tell a corrupt length from a
// torn tail: a bad header is skipped by searching for the next valid one, a good header with a
// bad payload is skipped by its length, and a record cut short at the end of a segment is a torn
// tail (the write was in progress when the process died) and is truncated away.
//
// Acks are appended to acks.log without fsync: after a crash an ack may be lost and its entry
// delivered twice (at-least-once), never the reverse. A segment file is deleted as soon as every
// record in it is acked. Entries popped but not acked (in flight at a crash) are replayed.
class DiskQueue final : public Queue {
 public:
  // Opens or creates the queue in options.dir and replays what is not yet acked. Returns nullptr
  // and sets *err when the directory cannot be used (or another process holds it).
  static std::unique_ptr<DiskQueue> open(const DiskQueueOptions& options, std::string* err);

  // The options a configured exporter with sending_queue.storage gets. `dir` is
  // <storage>/<exporter id with '/' replaced by '_'>.
  static DiskQueueOptions configured(const config::Exporter& e);

  ~DiskQueue() override;

  // Appends the record (and, with FsyncPolicy::always, waits for its group commit). False when
  // the entry or disk cap is reached or the write fails (disk full): nothing is kept then.
  bool try_push(const Batch& batch) override;
  // Reads the oldest waiting entry back (from memory when cached, else from its segment); a
  // record found corrupt here is counted, acked and skipped.
  std::optional<Entry> pop() override;
  void ack(const Entry& entry) override;
  // Shutdown: forgets the entry in memory without acking it, so that the next start replays it.
  void release(const Entry& entry) override;
  bool persistent() const override { return true; }
  // otlpgate_exporter_queue_disk_{bytes,segments} and _{replayed_requests,corrupt_records,
  // torn_tails,fsyncs}_total, read from stats() when /metrics is rendered.
  void register_metrics(telemetry::Registry& metrics,
                        const std::string& exporter_id) const override;

  std::size_t size() const override;
  uint64_t bytes() const override;  // bytes of segment files on disk
  std::size_t capacity() const override { return opt_.max_requests; }
  uint64_t capacity_bytes() const override { return opt_.max_bytes; }

  DiskQueueStats stats() const;

 private:
  struct File;
  struct Segment {
    std::shared_ptr<File> file;
    uint64_t size = 0;  // bytes written
    uint64_t live = 0;  // records not yet acked
  };
  struct Waiting {
    uint64_t seq = 0;
    uint64_t offset = 0;  // of the record header in its segment
    uint32_t length = 0;  // payload bytes
    std::optional<Batch> cached;
  };

  explicit DiskQueue(DiskQueueOptions options);
  bool recover(std::string* err);
  // Scans one segment, queueing records not in `acked`; truncates a torn tail.
  void scan_segment(uint64_t first_seq, Segment& seg, const std::set<uint64_t>& acked,
                    std::set<uint64_t>& acked_here);
  bool open_segment_locked(uint64_t first_seq, std::string* err);
  void sync_until(uint64_t seq, std::unique_lock<std::mutex>& lock);
  void sync_loop();
  void append_ack_locked(uint64_t seq);
  void rewrite_acks_locked();
  void done_locked(uint64_t seq, bool acked);
  std::map<uint64_t, Segment>::iterator segment_of_locked(uint64_t seq);
  std::string segment_path(uint64_t first_seq) const;

  const DiskQueueOptions opt_;
  int lock_fd_ = -1;

  mutable std::mutex mu_;
  std::condition_variable synced_;
  std::map<uint64_t, Segment> segments_;  // by first sequence number
  uint64_t active_ = 0;                   // first seq of the segment appended to; 0 = none
  std::deque<Waiting> waiting_;
  std::set<uint64_t> acked_live_;  // acked seqs whose segment still exists (for rewrite_acks)
  std::shared_ptr<File> acks_;
  uint64_t acks_size_ = 0;
  uint64_t next_seq_ = 1;
  uint64_t written_seq_ = 0;  // highest seq written
  uint64_t durable_seq_ = 0;  // every seq up to this one is on stable storage
  bool syncing_ = false;      // a group-commit leader is in fdatasync
  uint64_t disk_bytes_ = 0;
  uint64_t cached_bytes_ = 0;
  DiskQueueStats stats_;

  bool stop_ = false;
  std::condition_variable wake_;
  std::thread syncer_;  // FsyncPolicy::interval only
};

}  // namespace otlpgate::queue
