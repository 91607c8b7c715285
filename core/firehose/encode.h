// OTLP encoding shared by the Firehose JSON decoders (cwmetrics, cwlogs): string attributes and
// one resource group holding a single scope.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <protozero/pbf_writer.hpp>

namespace otlpgate::firehose {

// The instrumentation scope the Collector's awsfirehosereceiver sets on what it decodes from JSON
// (mdatagen's ScopeName for the component); kept so that queries by scope see no change.
inline constexpr std::string_view kScopeName =
    "github.com/open-telemetry/opentelemetry-collector-contrib/receiver/awsfirehosereceiver";

// CloudWatch's milliseconds since the epoch as OTLP nanoseconds (0 for negative times, saturating
// far in the future).
uint64_t unix_nanos(int64_t ms);

// Adds a KeyValue {key, AnyValue{string_value: value}} as field `field` of the message `w` writes.
void add_string_attribute(protozero::pbf_writer& w, uint32_t field, std::string_view key,
                          std::string_view value);

// Adds a KeyValue whose value is an array holding the one string `value`.
void add_string_list_attribute(protozero::pbf_writer& w, uint32_t field, std::string_view key,
                               std::string_view value);

// Appends one Export*ServiceRequest.resource_* field to `request`:
// {resource {`resource_attributes`}, scope_* {scope {name: kScopeName}, `items`}}, where
// `resource_attributes` are encoded Resource.attributes fields and `items` encoded
// ScopeMetrics.metrics / ScopeLogs.log_records fields.
void append_resource_group(std::string& request, std::string_view resource_attributes,
                           std::string_view items);

}  // namespace otlpgate::firehose
