// Maps config::ExporterType to the exporter classes.
#include "server/exporters/factory.h"

#include "server/exporters/debug_exporter.h"
#include "server/exporters/otlp_grpc_exporter.h"
#include "server/exporters/otlp_http_exporter.h"

namespace otlpgate::server {

std::unique_ptr<Exporter> make_exporter(const config::Exporter& cfg, boost::asio::io_context& io,
                                        std::string* err) {
  switch (cfg.type) {
    case config::ExporterType::otlp:
      return OtlpGrpcExporter::create(cfg, err);
    case config::ExporterType::otlphttp:
      return OtlpHttpExporter::create(cfg, io, err);
    case config::ExporterType::debug:
      return std::make_unique<DebugExporter>(cfg);
  }
  *err = "exporters." + cfg.id + ": unknown exporter type";
  return nullptr;
}

}  // namespace otlpgate::server
