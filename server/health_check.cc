// health_check implementation.
#include "server/health_check.h"

namespace otlpgate::server {

namespace http = boost::beast::http;

void HealthHandler::handle_screened(HttpRequest&& req, std::string, Respond respond) {
  std::string_view target = req.target();
  if (auto q = target.find('?'); q != std::string_view::npos) target = target.substr(0, q);
  if (req.method() != http::verb::get && req.method() != http::verb::head) {
    HttpResponse res = make_response(http::status::method_not_allowed, "text/plain", "use GET\n");
    res.set(http::field::allow, "GET, HEAD");
    return respond(std::move(res));
  }
  if (target == "/metrics") {
    return respond(make_response(http::status::ok, "text/plain; version=0.0.4; charset=utf-8",
                                 render_metrics_ ? render_metrics_() : std::string()));
  }
  if (target != path_) return respond(make_response(http::status::not_found, "text/plain", "not found\n"));
  if (ready_.load()) {
    return respond(make_response(http::status::ok, "application/json", R"({"status":"Server available"})"));
  }
  return respond(make_response(http::status::service_unavailable, "application/json",
                               R"({"status":"Server not available"})"));
}

HealthCheck::HealthCheck(IoPool& pool, const config::HealthCheck& cfg, std::function<std::string()> render_metrics)
    : handler_(std::make_shared<HealthHandler>(cfg.path, std::move(render_metrics))),
      server_(pool, HttpServerOptions{.endpoint = cfg.endpoint, .max_body_size = 1 << 16,
                                      .max_header_size = 16 << 10, .read_timeout = std::chrono::seconds(10),
                                      .idle_timeout = std::chrono::seconds(60),
                                      .write_timeout = std::chrono::seconds(10), .max_connections = 256},
              handler_) {}

}  // namespace otlpgate::server
