// otlpgate: loads the configuration, starts the I/O threads, receivers and health check, and
// drains the exporter queues on SIGTERM/SIGINT.
#include <cstdio>
#include <cstring>
#include <future>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include "core/config/config.h"
#include "core/log.h"
#include "core/pipeline/runtime.h"
#include "filters/registry.h"
#include "server/exporters/factory.h"
#include "server/health_check.h"
#include "server/http/http_server.h"
#include "server/http/tls_options.h"
#include "server/io_pool.h"
#include "server/receivers/awsfirehose.h"
#include "server/receivers/otlp_grpc.h"
#include "server/receivers/otlp_http.h"
#include "server/receivers/listener_auth.h"

namespace {

using namespace otlpgate;

int usage() {
  std::fprintf(stderr, "usage: otlpgate --config FILE [--check]\n");
  return 2;
}

void announce(const std::string& id, const char* kind, const std::string& host, int port) {
  // One line per listener; the integration tests and operators parse it.
  std::string line = "otlpgate: listening " + id + " " + kind + " " + host + ":" + std::to_string(port) + "\n";
  std::fputs(line.c_str(), stderr);
  std::fflush(stderr);
}

std::unique_ptr<Runtime> build_runtime(const config::Config& cfg, boost::asio::io_context& io,
                                       server::IoPool* pool, std::string* err) {
  Runtime::ExporterFactory exporters = [&io, pool](const config::Exporter& e, std::string* e_err) {
    // Exporters spread over the I/O threads; --check has no pool and uses one context.
    boost::asio::io_context& ctx = pool ? pool->next() : io;
    return server::make_exporter(e, ctx, e_err);
  };
  return Runtime::create(cfg, std::move(exporters), &filters::make_stage, err);
}

}  // namespace

int main(int argc, char** argv) {
  std::string config_path;
  bool check = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--config" && i + 1 < argc) {
      config_path = argv[++i];
    } else if (a.rfind("--config=", 0) == 0) {
      config_path = a.substr(9);
    } else if (a == "--check") {
      check = true;
    } else {
      return usage();
    }
  }
  if (config_path.empty()) return usage();

  config::Config cfg;
  config::Error cerr;
  if (!config::load_file(config_path, cfg, cerr)) {
    std::fprintf(stderr, "otlpgate: %s\n", cerr.message.c_str());
    return 1;
  }
  log::set_level(cfg.service.log_level);

  if (check) {
    boost::asio::io_context io;
    std::string err;
    auto runtime = build_runtime(cfg, io, nullptr, &err);
    if (!runtime) {
      std::fprintf(stderr, "otlpgate: %s: %s\n", config_path.c_str(), err.c_str());
      return 1;
    }
    std::printf("config OK\n");
    return 0;
  }

  server::IoPool pool(cfg.service.io_threads);
  std::string err;
  auto runtime = build_runtime(cfg, pool.context(0), &pool, &err);
  if (!runtime) {
    std::fprintf(stderr, "otlpgate: %s: %s\n", config_path.c_str(), err.c_str());
    return 1;
  }

  // Signals are caught by asio before the threads start so none is delivered to a worker.
  std::promise<int> stop_signal;
  boost::asio::signal_set signals(pool.context(0), SIGTERM, SIGINT);
  signals.async_wait([&stop_signal](const boost::system::error_code& ec, int sig) {
    if (!ec) stop_signal.set_value(sig);
  });
  pool.start();
  runtime->start();

  std::vector<std::unique_ptr<server::OtlpGrpcReceiver>> grpc_receivers;
  std::vector<std::unique_ptr<server::HttpServer>> http_servers;
  std::unique_ptr<server::HealthCheck> health;
  bool ok = true;
  for (const auto& r : cfg.receivers) {
    if (r.grpc && ok) {
      auto g = std::make_unique<server::OtlpGrpcReceiver>(
          r.id, *r.grpc, *runtime,
          server::ListenerAuth::make(cfg, r.grpc->authenticator, &runtime->metrics(), r.id, "grpc"));
      if (!g->start(&err)) {
        std::fprintf(stderr, "otlpgate: receivers.%s.protocols.grpc: %s\n", r.id.c_str(), err.c_str());
        ok = false;
      } else {
        announce(r.id, "grpc", g->host(), g->port());
        grpc_receivers.push_back(std::move(g));
      }
    }
    if (r.http && ok) {
      server::HttpServerOptions o;
      o.endpoint = r.http->endpoint;
      o.max_body_size = r.http->max_request_body_size;
      o.max_encoded_body_size = r.http->max_compressed_body_size;
      o.max_header_size = r.http->max_header_size;
      o.read_timeout = r.http->read_timeout;
      o.idle_timeout = r.http->idle_timeout;
      o.write_timeout = r.http->write_timeout;
      o.max_connections = r.http->max_connections;
      o.max_requests_in_flight = r.http->max_requests_in_flight;
      auto receiver = std::make_shared<server::OtlpHttpReceiver>(
          r.id, *runtime, r.http->max_request_body_size,
          server::ListenerAuth::make(cfg, r.http->authenticator, &runtime->metrics(), r.id, "http"));
      const bool tls_ok = server::set_tls(r.http->tls, o, &err);
      auto h = std::make_unique<server::HttpServer>(pool, o, std::move(receiver));
      if (!tls_ok || !h->start(&err)) {
        std::fprintf(stderr, "otlpgate: receivers.%s.protocols.http: %s\n", r.id.c_str(), err.c_str());
        ok = false;
      } else {
        announce(r.id, "http", h->host(), h->port());
        http_servers.push_back(std::move(h));
      }
    }
    if (r.firehose && ok) {
      auto receiver = std::make_shared<server::FirehoseReceiver>(r.id, *r.firehose, *runtime, runtime->metrics());
      server::HttpServerOptions o = server::firehose_listener_options(*r.firehose);
      const bool tls_ok = server::set_tls(r.firehose->tls, o, &err);
      auto h = std::make_unique<server::HttpServer>(pool, o, std::move(receiver));
      if (!tls_ok || !h->start(&err)) {
        std::fprintf(stderr, "otlpgate: receivers.%s: %s\n", r.id.c_str(), err.c_str());
        ok = false;
      } else {
        announce(r.id, "firehose", h->host(), h->port());
        http_servers.push_back(std::move(h));
      }
    }
  }
  if (ok && cfg.health_check) {
    Runtime* rt = runtime.get();
    health = std::make_unique<server::HealthCheck>(pool, *cfg.health_check, [rt] { return rt->render_metrics(); });
    if (!health->start(&err)) {
      std::fprintf(stderr, "otlpgate: extensions.health_check: %s\n", err.c_str());
      ok = false;
    } else {
      announce("health_check", "health", health->host(), health->port());
      health->set_ready(true);
    }
  }

  int exit_code = 0;
  if (ok) {
    int sig = stop_signal.get_future().get();
    log::info(std::string("received ") + (sig == SIGINT ? "SIGINT" : "SIGTERM") + ", draining");
  } else {
    exit_code = 1;
  }

  // Stop accepting first, then let the queues drain while the I/O threads still run the exporters.
  if (health) health->set_ready(false);
  for (auto& h : http_servers) h->stop();
  for (auto& g : grpc_receivers) g->stop(std::chrono::milliseconds(1000));
  bool drained = runtime->drain(cfg.service.shutdown_timeout);
  if (!drained) log::warn("shutdown timeout reached with data still queued");
  if (health) health->stop();
  signals.cancel();
  pool.stop();
  runtime.reset();
  http_servers.clear();
  health.reset();
  if (exit_code == 0) std::fputs("otlpgate: stopped\n", stderr);
  return exit_code;
}
