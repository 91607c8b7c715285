// OtlpHttpReceiver with a bearertokenauth authenticator: screen() refuses from the header alone,
// and an accepted request reaches Ingest with its tenant and the tenant resource attribute.
#include <optional>

#include <gtest/gtest.h>

#include "google/rpc/status.pb.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "server/receivers/otlp_http.h"

namespace otlpgate::server {
namespace {

namespace http = boost::beast::http;
using LogsRequest = opentelemetry::proto::collector::logs::v1::ExportLogsServiceRequest;

class TenantIngest final : public Ingest {
 public:
  void submit(std::string_view, Signal, Bytes body, std::string_view tenant,
              std::function<void(IngestResult)> done) override {
    bodies.emplace_back(body.view());
    tenants.emplace_back(tenant);
    done({});
  }
  std::vector<std::string> bodies;
  std::vector<std::string> tenants;
};

std::shared_ptr<const ListenerAuth> clients() {
  config::BearerTokenAuth c;
  c.id = "bearertokenauth/clients";
  c.tenant_attribute = "tenant";
  c.tenants = {{"team-a", {"secret-a"}}};
  return std::make_shared<const ListenerAuth>(c, nullptr, "otlp", "http");
}

std::string two_resources_one_with_a_tenant() {
  LogsRequest req;
  req.add_resource_logs()->add_scope_logs()->add_log_records()->set_severity_text("INFO");
  auto* preset = req.add_resource_logs();
  auto* kv = preset->mutable_resource()->add_attributes();
  kv->set_key("tenant");
  kv->mutable_value()->set_string_value("preset");
  preset->add_scope_logs()->add_log_records()->set_severity_text("WARN");
  return req.SerializeAsString();
}

HttpRequest request(std::string_view authorization, std::string_view target = "/v1/logs") {
  HttpRequest req{http::verb::post, target, 11};
  req.set(http::field::content_type, "application/x-protobuf");
  if (!authorization.empty()) req.set(http::field::authorization, authorization);
  return req;
}

TEST(OtlpHttpAuthTest, MissingOrWrongTokenIsRefusedFromTheHeaderBeforeAnythingElse) {
  TenantIngest ingest;
  OtlpHttpReceiver receiver("otlp", ingest, 1 << 20, clients());
  for (std::string_view authorization : {"", "Bearer secret-b", "Basic secret-a"}) {
    std::string tenant;
    // An unknown path too: the credentials come first, so nothing about the server is revealed.
    const std::optional<HttpResponse> r = receiver.screen(request(authorization, "/nope"), &tenant);
    ASSERT_TRUE(r) << authorization;
    EXPECT_EQ(r->result(), http::status::unauthorized);
    EXPECT_EQ((*r)[http::field::www_authenticate], "Bearer");
    google::rpc::Status st;
    ASSERT_TRUE(st.ParseFromString(r->body()));
    EXPECT_EQ(st.code(), 16);
    EXPECT_EQ(st.message().find("secret"), std::string::npos) << st.message();
  }
  EXPECT_TRUE(ingest.bodies.empty());
}

TEST(OtlpHttpAuthTest, RefusalsAreCountedByReason) {
  config::BearerTokenAuth c;
  c.tenants = {{"team-a", {"secret-a"}}};
  telemetry::Registry metrics;
  const ListenerAuth auth(c, &metrics, "otlp", "http");
  EXPECT_FALSE(auth.authenticate("").tenant);
  EXPECT_FALSE(auth.authenticate("Bearer nope").tenant);
  EXPECT_FALSE(auth.authenticate("Bearer nope2").tenant);
  EXPECT_EQ(auth.authenticate("Bearer secret-a").tenant, "team-a");
  const std::string text = metrics.render();
  EXPECT_NE(text.find("otlpgate_receiver_auth_refused_total{receiver=\"otlp\",protocol=\"http\","
                      "reason=\"missing\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("otlpgate_receiver_auth_refused_total{receiver=\"otlp\",protocol=\"http\","
                      "reason=\"invalid\"} 2\n"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("secret"), std::string::npos);
}

TEST(OtlpHttpAuthTest, AcceptedRequestCarriesItsTenantAndTheAttributeWhereMissing) {
  TenantIngest ingest;
  OtlpHttpReceiver receiver("otlp", ingest, 1 << 20, clients());
  HttpRequest req = request("Bearer secret-a");
  req.body() = two_resources_one_with_a_tenant();
  std::optional<HttpResponse> got;
  receiver.handle(std::move(req), [&](HttpResponse r) { got = std::move(r); });
  ASSERT_TRUE(got);
  EXPECT_EQ(got->result(), http::status::ok);
  ASSERT_EQ(ingest.tenants, std::vector<std::string>{"team-a"});
  LogsRequest forwarded;
  ASSERT_TRUE(forwarded.ParseFromString(ingest.bodies[0]));
  ASSERT_EQ(forwarded.resource_logs_size(), 2);
  const auto& added = forwarded.resource_logs(0).resource();
  ASSERT_EQ(added.attributes_size(), 1);
  EXPECT_EQ(added.attributes(0).key(), "tenant");
  EXPECT_EQ(added.attributes(0).value().string_value(), "team-a");
  const auto& kept = forwarded.resource_logs(1).resource();
  ASSERT_EQ(kept.attributes_size(), 1);
  EXPECT_EQ(kept.attributes(0).value().string_value(), "preset") << "never overwritten";
}

TEST(OtlpHttpAuthTest, PathMethodAndContentTypeAreScreenedWithoutTheBody) {
  TenantIngest ingest;
  OtlpHttpReceiver receiver("otlp", ingest);
  std::string tenant;
  EXPECT_EQ(receiver.screen(request("", "/v1/profiles"), &tenant)->result(),
            http::status::not_found);
  HttpRequest get = request("");
  get.method(http::verb::get);
  EXPECT_EQ(receiver.screen(get, &tenant)->result(), http::status::method_not_allowed);
  HttpRequest text = request("");
  text.set(http::field::content_type, "text/plain");
  EXPECT_EQ(receiver.screen(text, &tenant)->result(), http::status::unsupported_media_type);
  EXPECT_FALSE(receiver.screen(request(""), &tenant)) << "no authenticator: no token needed";
  EXPECT_TRUE(tenant.empty());
}

}  // namespace
}  // namespace otlpgate::server
