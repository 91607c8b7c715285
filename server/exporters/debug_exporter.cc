// The debug exporter: what arrived, in one line, for a quick start without a backend.
#include "server/exporters/debug_exporter.h"

#include <limits>

#include "core/log.h"
#include "core/otlp/fields.h"
#include "core/wire/cursor.h"

namespace otlpgate::server {

DebugExporter::DebugExporter(const config::Exporter& cfg)
    : id_(cfg.id), detailed_(cfg.verbosity == "detailed") {}

std::string DebugExporter::summary(const Batch& batch) const {
  std::string line = "exporter " + id_ + ": " + std::string(signal_name(batch.signal)) + ": " +
                     std::to_string(batch.items) + " " +
                     std::string(signal_item_name(batch.signal)) + ", " +
                     std::to_string(batch.bytes.size()) + " bytes";
  if (!batch.tenant.empty()) line += ", tenant " + batch.tenant;
  if (detailed_ && batch.bytes.size() < std::numeric_limits<uint32_t>::max()) {
    // Counting top-level fields is one cheap pass; the request was validated by the receiver.
    uint64_t resources = 0;
    wire::Cursor c(batch.bytes.data(), 0, static_cast<uint32_t>(batch.bytes.size()));
    while (c.next()) {
      if (c.field() == otlp::num(otlp::ExportRequest::resource_items)) ++resources;
    }
    line += ", " + std::to_string(resources) + " resources";
  }
  return line;
}

void DebugExporter::send(const Batch& batch, std::function<void(ExportOutcome)> done) {
  log::info(summary(batch));
  done(ExportOutcome{});
}

}  // namespace otlpgate::server
