// OtlpHttpExporter: the `otlphttp` exporter, an asynchronous Beast HTTP/1.1 client with a
// keep-alive connection pool and TLS, POSTing each request's protobuf bytes to /v1/<signal>.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/io_context.hpp>

#include "core/config/config.h"
#include "core/exporter.h"

namespace otlpgate::server {

class OtlpHttpExporter final : public Exporter {
 public:
  // Validates the endpoints, headers and TLS files; nullptr and `err` set when one is unusable.
  // Nothing connects before the first send(), so --check can build it without a running `io`.
  static std::unique_ptr<OtlpHttpExporter> create(const config::Exporter& cfg,
                                                  boost::asio::io_context& io, std::string* err);
  ~OtlpHttpExporter() override;

  std::string_view id() const override;
  // Compresses and sends on `io`'s thread. At most sending_queue.num_consumers connections are
  // open at once; attempts beyond that wait for a free one (inside their own timeout).
  void send(const Batch& batch, std::function<void(ExportOutcome)> done) override;
  void shutdown() override;

  class Impl;

 private:
  explicit OtlpHttpExporter(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;  // shared with the handlers of attempts in flight
};

}  // namespace otlpgate::server
