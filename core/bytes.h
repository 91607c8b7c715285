// Bytes: an immutable, reference-counted byte buffer shared by the pipeline and every exporter.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "core/memory/memory_limit.h"

namespace otlpgate {

// One serialized request (or any other immutable payload). Copies share the same storage, so a
// request fanned out to N exporters costs one buffer. Views obtained from view() stay valid for as
// long as any Bytes referring to the same storage is alive.
class Bytes {
 public:
  Bytes() = default;

  // Takes ownership of the string without copying its contents.
  static Bytes adopt(std::string&& s) {
    auto held = std::make_shared<const std::string>(std::move(s));
    return Bytes(std::shared_ptr<const char>(held, held->data()), held->size());
  }
  static Bytes copy_of(std::string_view s) { return adopt(std::string(s)); }
  // A new buffer of `size` bytes that `fill(char*)` writes in full before anyone sees it: unlike
  // a std::string resized for it, the bytes are not zeroed first.
  template <typename Fill>
  static Bytes write(std::size_t size, Fill&& fill) {
    std::shared_ptr<char[]> b = std::make_shared_for_overwrite<char[]>(size);
    char* const p = b.get();
    fill(p);
    return Bytes(std::shared_ptr<const char>(std::move(b), p), size);
  }

  // adopt(), keeping `charge` (the string's bytes reserved against the memory limit) for as long as
  // the storage lives: however many queues share the buffer, it is counted once, until the last
  // copy goes.
  static Bytes adopt(std::string&& s, memory::Reservation charge) {
    struct Charged {
      std::string s;
      memory::Reservation charge;
    };
    auto held = std::make_shared<const Charged>(Charged{std::move(s), std::move(charge)});
    return Bytes(std::shared_ptr<const char>(held, held->s.data()), held->s.size());
  }
  // The same storage, with `charge` kept until the last copy of the result goes.
  Bytes charged(memory::Reservation charge) const {
    struct Charged {
      std::shared_ptr<const char> data;
      memory::Reservation charge;
    };
    auto held = std::make_shared<const Charged>(Charged{data_, std::move(charge)});
    return Bytes(std::shared_ptr<const char>(held, held->data.get()), size_);
  }
  // charged() with this buffer's size reserved from `limit` even over it (the bytes of a request
  // already admitted); itself when `limit` is null.
  Bytes charged_to(memory::MemoryLimit* limit) const {
    return limit ? charged(limit->reserve(size())) : *this;
  }

  std::string_view view() const noexcept {
    return data_ ? std::string_view(data_.get(), size_) : std::string_view();
  }
  const char* data() const noexcept { return data_.get(); }
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }

  // True when both refer to the very same storage (not merely equal contents).
  bool same_storage(const Bytes& other) const noexcept { return data_ == other.data_; }
  long use_count() const noexcept { return data_.use_count(); }

 private:
  Bytes(std::shared_ptr<const char> d, std::size_t size) : data_(std::move(d)), size_(size) {}
  std::shared_ptr<const char> data_;  // aliases into whatever holds the bytes
  std::size_t size_ = 0;
};

}  // namespace otlpgate
