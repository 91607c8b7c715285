// OtlpGrpcExporter: the `otlp` exporter, sending each request's bytes unparsed through a gRPC
// generic stub to the collector service's Export method.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/config/config.h"
#include "core/exporter.h"

namespace otlpgate::server {

class OtlpGrpcExporter final : public Exporter {
 public:
  // Reads the TLS files and builds the channel (which connects lazily, on the first call).
  // nullptr and `err` set when the endpoint or a TLS file is unusable.
  static std::unique_ptr<OtlpGrpcExporter> create(const config::Exporter& cfg, std::string* err);
  // Cancels what is in flight and waits for those callbacks (cancellation is prompt).
  ~OtlpGrpcExporter() override;

  std::string_view id() const override;
  // Starts one unary call with deadline = timeout; `done` runs on a gRPC thread.
  void send(const Batch& batch, std::function<void(ExportOutcome)> done) override;
  // Cancels calls in flight (they answer CANCELLED, which is retryable).
  void shutdown() override;
  struct State;

 private:
  explicit OtlpGrpcExporter(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;  // callbacks use it; the destructor waits for them
};

}  // namespace otlpgate::server
