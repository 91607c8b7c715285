// The exporters' URL rules: the collector's /v1/<signal> composition and endpoint parsing.
#include "server/exporters/endpoint_url.h"

#include <gtest/gtest.h>

namespace otlpgate::server {
namespace {

config::Exporter http_exporter(std::string endpoint) {
  config::Exporter e;
  e.id = "otlphttp";
  e.type = config::ExporterType::otlphttp;
  e.endpoint = std::move(endpoint);
  return e;
}

TEST(OtlpHttpUrl, AppendsTheSignalPathToTheEndpoint) {
  const auto e = http_exporter("https://logfire-eu.pydantic.dev");
  EXPECT_EQ(otlp_http_url(e, Signal::metrics), "https://logfire-eu.pydantic.dev/v1/metrics");
  EXPECT_EQ(otlp_http_url(e, Signal::traces), "https://logfire-eu.pydantic.dev/v1/traces");
  EXPECT_EQ(otlp_http_url(e, Signal::logs), "https://logfire-eu.pydantic.dev/v1/logs");
}

TEST(OtlpHttpUrl, TrailingSlashIsNotDoubled) {
  EXPECT_EQ(otlp_http_url(http_exporter("http://h:4318/"), Signal::logs), "http://h:4318/v1/logs");
}

TEST(OtlpHttpUrl, EndpointPathIsKept) {
  EXPECT_EQ(otlp_http_url(http_exporter("https://api.example.com/otlp"), Signal::traces),
            "https://api.example.com/otlp/v1/traces");
}

TEST(OtlpHttpUrl, SignalEndpointIsUsedAsGiven) {
  auto e = http_exporter("https://a.example");
  e.signal_endpoints[Signal::traces] = "https://b.example/custom/spans";
  EXPECT_EQ(otlp_http_url(e, Signal::traces), "https://b.example/custom/spans");
  EXPECT_EQ(otlp_http_url(e, Signal::metrics), "https://a.example/v1/metrics");
}

TEST(ParseHttpUrl, DefaultPortsAndHostHeader) {
  std::string err;
  auto t = parse_http_url("https://logfire-eu.pydantic.dev/v1/metrics", &err);
  ASSERT_TRUE(t) << err;
  EXPECT_TRUE(t->tls);
  EXPECT_EQ(t->host, "logfire-eu.pydantic.dev");
  EXPECT_EQ(t->port, "443");
  EXPECT_EQ(t->target, "/v1/metrics");
  EXPECT_EQ(t->host_header, "logfire-eu.pydantic.dev");

  t = parse_http_url("http://127.0.0.1:4318", &err);
  ASSERT_TRUE(t) << err;
  EXPECT_FALSE(t->tls);
  EXPECT_EQ(t->port, "4318");
  EXPECT_EQ(t->target, "/");
  EXPECT_EQ(t->host_header, "127.0.0.1:4318");
}

TEST(ParseHttpUrl, Ipv6QueryAndFragment) {
  std::string err;
  auto t = parse_http_url("HTTP://[::1]:8080/v1/logs?tenant=a#frag", &err);
  ASSERT_TRUE(t) << err;
  EXPECT_EQ(t->host, "::1");
  EXPECT_EQ(t->port, "8080");
  EXPECT_EQ(t->host_header, "[::1]:8080");
  EXPECT_EQ(t->target, "/v1/logs?tenant=a");
}

TEST(ParseHttpUrl, RejectsWhatCannotBeUsed) {
  std::string err;
  EXPECT_FALSE(parse_http_url("ftp://h/x", &err));
  EXPECT_FALSE(parse_http_url("h:4318", &err));
  EXPECT_FALSE(parse_http_url("http://:4318/", &err));
  EXPECT_FALSE(parse_http_url("http://h:0/", &err));
  EXPECT_FALSE(parse_http_url("http://h:70000/", &err));
  EXPECT_FALSE(parse_http_url("http://h:/", &err));
  EXPECT_FALSE(parse_http_url("http://user:pw@h/", &err));
  EXPECT_NE(err.find("user info"), std::string::npos);
}

TEST(ParseGrpcEndpoint, SchemeOrInsecureFlagPicksTransport) {
  std::string err;
  auto t = parse_grpc_endpoint("collector:4317", false, &err);
  ASSERT_TRUE(t) << err;
  EXPECT_TRUE(t->tls);
  EXPECT_EQ(t->address, "collector:4317");

  t = parse_grpc_endpoint("collector:4317", true, &err);
  ASSERT_TRUE(t);
  EXPECT_FALSE(t->tls);

  t = parse_grpc_endpoint("http://collector:4317", false, &err);
  ASSERT_TRUE(t);
  EXPECT_FALSE(t->tls);
  EXPECT_EQ(t->address, "collector:4317");

  t = parse_grpc_endpoint("https://api.honeycomb.io", true, &err);
  ASSERT_TRUE(t) << err;
  EXPECT_TRUE(t->tls);
  EXPECT_EQ(t->address, "api.honeycomb.io:443");
}

TEST(ParseGrpcEndpoint, RejectsPathsAndMissingPort) {
  std::string err;
  EXPECT_FALSE(parse_grpc_endpoint("collector", false, &err));
  EXPECT_FALSE(parse_grpc_endpoint("http://collector:4317/v1/traces", false, &err));
}

}  // namespace
}  // namespace otlpgate::server
