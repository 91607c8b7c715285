// MemoryLimit: one relaxed atomic counter; a refused reservation is rolled back at once.
#include "core/memory/memory_limit.h"

#include <utility>

namespace otlpgate::memory {

std::shared_ptr<MemoryLimit> MemoryLimit::create(uint64_t limit_bytes) {
  return std::make_shared<MemoryLimit>(Private{}, limit_bytes);
}

bool MemoryLimit::try_add(uint64_t n) {
  const uint64_t after = used_.fetch_add(n, std::memory_order_relaxed) + n;
  // `after == n`: nothing else was reserved, so even an oversized request gets its turn.
  if (limit_ == 0 || after <= limit_ || after == n) return true;
  sub(n);
  refusals_.fetch_add(1, std::memory_order_relaxed);
  return false;
}

std::optional<Reservation> MemoryLimit::try_reserve(uint64_t n) {
  if (!try_add(n)) return std::nullopt;
  return Reservation(shared_from_this(), n);
}

Reservation MemoryLimit::reserve(uint64_t n) {
  add(n);
  return Reservation(shared_from_this(), n);
}

Reservation& Reservation::operator=(Reservation&& o) noexcept {
  if (this != &o) {
    reset();
    limit_ = std::move(o.limit_);
    bytes_ = std::exchange(o.bytes_, 0);
  }
  return *this;
}

bool Reservation::try_resize(uint64_t n) {
  if (!limit_) return true;
  if (n > bytes_ && !limit_->try_add(n - bytes_)) return false;
  if (n < bytes_) limit_->sub(bytes_ - n);
  bytes_ = n;
  return true;
}

void Reservation::resize(uint64_t n) {
  if (!limit_) return;
  if (n > bytes_) limit_->add(n - bytes_);
  if (n < bytes_) limit_->sub(bytes_ - n);
  bytes_ = n;
}

void Reservation::reset() {
  if (limit_ && bytes_) limit_->sub(bytes_);
  bytes_ = 0;
  limit_.reset();
}

}  // namespace otlpgate::memory
