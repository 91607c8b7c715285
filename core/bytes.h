// Bytes: an immutable, reference-counted byte buffer shared by the pipeline and every exporter.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

namespace otlpgate {

// One serialized request (or any other immutable payload). Copies share the same storage, so a
// request fanned out to N exporters costs one buffer. Views obtained from view() stay valid for as
// long as any Bytes referring to the same storage is alive.
class Bytes {
 public:
  Bytes() = default;

  // Takes ownership of the string without copying its contents.
  static Bytes adopt(std::string&& s) { return Bytes(std::make_shared<const std::string>(std::move(s))); }
  static Bytes copy_of(std::string_view s) { return adopt(std::string(s)); }

  std::string_view view() const noexcept { return data_ ? std::string_view(*data_) : std::string_view(); }
  const char* data() const noexcept { return data_ ? data_->data() : nullptr; }
  std::size_t size() const noexcept { return data_ ? data_->size() : 0; }
  bool empty() const noexcept { return size() == 0; }

  // True when both refer to the very same storage (not merely equal contents).
  bool same_storage(const Bytes& other) const noexcept { return data_ == other.data_; }
  long use_count() const noexcept { return data_.use_count(); }

 private:
  explicit Bytes(std::shared_ptr<const std::string> d) : data_(std::move(d)) {}
  std::shared_ptr<const std::string> data_;
};

}  // namespace otlpgate
