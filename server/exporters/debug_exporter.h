// DebugExporter: the `debug` exporter, one summary line per request on stderr; never fails.
#pragma once

#include <string>

#include "core/config/config.h"
#include "core/exporter.h"

namespace otlpgate::server {

class DebugExporter final : public Exporter {
 public:
  explicit DebugExporter(const config::Exporter& cfg);

  std::string_view id() const override { return id_; }
  // Writes "exporter <id>: <signal>: <items> <item name>, <bytes> bytes" (with `detailed`
  // verbosity also the resource count) and answers ok on the calling thread.
  void send(const Batch& batch, std::function<void(ExportOutcome)> done) override;
  void shutdown() override {}

  // The line send() writes, without the logger's prefix.
  std::string summary(const Batch& batch) const;

 private:
  std::string id_;
  bool detailed_ = false;
};

}  // namespace otlpgate::server
