// The health_check extension: its own HTTP listener answering whether every listener is up, plus
// the gateway's Prometheus /metrics.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "core/config/config.h"
#include "server/http/http_server.h"

namespace otlpgate::server {

class HealthHandler : public HttpHandler {
 public:
  HealthHandler(std::string path, std::function<std::string()> render_metrics)
      : path_(std::move(path)), render_metrics_(std::move(render_metrics)) {}
  void handle_screened(HttpRequest&& req, std::string tenant, Respond respond) override;
  // Set once every listener is bound, cleared when shutting down.
  void set_ready(bool ready) { ready_.store(ready); }

 private:
  std::string path_;
  std::function<std::string()> render_metrics_;
  std::atomic<bool> ready_{false};
};

class HealthCheck {
 public:
  HealthCheck(IoPool& pool, const config::HealthCheck& cfg, std::function<std::string()> render_metrics);
  bool start(std::string* err) { return server_.start(err); }
  void stop() { server_.stop(); }
  void set_ready(bool ready) { handler_->set_ready(ready); }
  unsigned short port() const { return server_.port(); }
  std::string host() const { return server_.host(); }

 private:
  std::shared_ptr<HealthHandler> handler_;
  HttpServer server_;
};

}  // namespace otlpgate::server
