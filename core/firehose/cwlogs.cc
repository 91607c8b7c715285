// CwLogsDecoder: CloudWatch Logs subscription messages → OTLP log records.
#include "core/firehose/cwlogs.h"

#include <limits>
#include <unordered_map>
#include <utility>
#include <vector>

#include <protozero/pbf_writer.hpp>

#include "core/compression/compression.h"
#include "core/firehose/encode.h"
#include "core/firehose/json_doc.h"
#include "core/otlp/fields.h"
#include "core/wire/writer.h"

namespace otlpgate::firehose {

namespace ondemand = simdjson::ondemand;
using otlp::num;

namespace {

struct Group {
  std::string account, region, log_group, log_stream;
  std::string records;  // encoded ScopeLogs.log_records fields
};

// A log record decoded from the current record, not yet committed to its group.
struct Pending {
  std::string key;           // account, region, group, stream, each followed by NUL
  std::size_t offset, size;  // of the encoded log_records field in State::pending_bytes
};

}  // namespace

struct CwLogsDecoder::State {
  JsonDoc json;
  std::vector<Group> groups;
  std::unordered_map<std::string, uint32_t> by_key;
  std::string inflated;
  std::vector<Pending> pending;
  std::string pending_bytes;
  std::string scratch;

  // Decodes one message into `pending`. Returns what is wrong, or "" (control messages too).
  std::string parse(std::string_view text, bool& control);
};

std::string CwLogsDecoder::State::parse(std::string_view text, bool& control) {
  std::string_view type, owner, log_group, log_stream;
  const std::size_t first_pending = pending.size();
  bool have_events = false;
  std::string why =
      each_field(json, text, [&](std::string_view key, ondemand::value& v) -> std::string {
        simdjson::error_code e = simdjson::SUCCESS;
        if (key == "messageType")
          e = v.get_string().get(type);
        else if (key == "owner")
          e = v.get_string().get(owner);
        else if (key == "logGroup")
          e = v.get_string().get(log_group);
        else if (key == "logStream")
          e = v.get_string().get(log_stream);
        else if (key == "logEvents") {
          // The events are encoded as they come; their resource key needs owner / group / stream,
          // which may follow them in the object, so it is filled in below.
          have_events = true;
          ondemand::array events;
          if ((e = v.get_array().get(events))) return "logEvents: expected an array";
          for (auto event_result : events) {
            ondemand::object event;
            if ((e = event_result.get_object().get(event))) return "logEvents: expected objects";
            int64_t ts = 0;
            std::string_view message, account, region;
            for (auto ef_result : event) {
              ondemand::field ef;
              std::string_view name;
              if ((e = read_field(std::move(ef_result), ef, name))) break;
              if (name == "timestamp") {
                e = ef.value().get_int64().get(ts);
              } else if (name == "message") {
                e = ef.value().get_string().get(message);
              } else if (name == "extractedFields") {
                ondemand::object x;
                if ((e = ef.value().get_object().get(x))) break;
                for (auto xf_result : x) {
                  ondemand::field xf;
                  std::string_view xname;
                  if ((e = read_field(std::move(xf_result), xf, xname))) break;
                  if (xname == "@aws.account")
                    e = xf.value().get_string().get(account);
                  else if (xname == "@aws.region")
                    e = xf.value().get_string().get(region);
                  if (e) break;
                }
              }
              if (e) break;
            }
            if (e) return "logEvents: " + std::string(json_error(e));
            scratch.clear();
            {
              protozero::pbf_writer w(scratch);
              w.add_fixed64(num(otlp::LogRecord::time_unix_nano), unix_nanos(ts));
              protozero::pbf_writer body(w, num(otlp::LogRecord::body));
              body.add_string(num(otlp::AnyValue::string_value), message.data(), message.size());
            }
            const std::size_t offset = pending_bytes.size();
            wire::append_bytes_field(pending_bytes, num(otlp::ScopeGroup::items), scratch);
            // Account and region for now; group and stream are appended once known.
            std::string k(account);
            k.push_back('\0');
            k.append(region);
            k.push_back('\0');
            pending.push_back(Pending{std::move(k), offset, pending_bytes.size() - offset});
          }
        }
        if (e) return std::string(key) + ": " + std::string(json_error(e));
        return {};
      });
  if (!why.empty()) return why;
  if (type == "CONTROL_MESSAGE") {
    control = true;
    pending.resize(first_pending);
    return {};
  }
  if (type != "DATA_MESSAGE") {
    return type.empty()
               ? std::string("not a CloudWatch Logs message (no messageType)")
               : "not a CloudWatch Logs message: messageType \"" + std::string(type) + "\"";
  }
  if (owner.empty()) return "DATA_MESSAGE without owner";
  if (log_group.empty()) return "DATA_MESSAGE without logGroup";
  if (log_stream.empty()) return "DATA_MESSAGE without logStream";
  if (!have_events) return "DATA_MESSAGE without logEvents";
  for (std::size_t i = first_pending; i < pending.size(); ++i) {
    std::string& k = pending[i].key;
    if (k.front() == '\0') k.insert(0, owner);  // no "@aws.account": the owner
    k.append(log_group);
    k.push_back('\0');
    k.append(log_stream);
    k.push_back('\0');
  }
  return {};
}

CwLogsDecoder::CwLogsDecoder(std::size_t decompress_budget)
    : state_(std::make_unique<State>()), budget_(decompress_budget) {}
CwLogsDecoder::~CwLogsDecoder() = default;

RecordResult CwLogsDecoder::add_record(std::string_view record) {
  State& s = *state_;
  std::string_view text = record;
  if (is_gzip(record)) {
    const compression::Result r =
        compression::decompress(compression::Codec::gzip, record, s.inflated, budget_);
    if (r.status == compression::Status::too_large) {
      return record_error(RecordError::too_large,
                          "gunzipped CloudWatch Logs data would exceed what is left of the "
                          "delivery's budget (" +
                              std::to_string(budget_) + " bytes)");
    }
    if (!r.ok()) return record_error(RecordError::gzip, "gzip: " + r.message);
    budget_ -= s.inflated.size();
    text = s.inflated;
  }
  s.pending.clear();
  s.pending_bytes.clear();
  uint64_t controls = 0;
  std::size_t messages = 0;
  std::string error;
  for_each_line(text, [&](std::string_view line, std::size_t line_no) {
    ++messages;
    if (!error.empty()) return;
    bool control = false;
    std::string why = s.parse(line, control);
    if (!why.empty()) {
      error = line_no > 1 ? "message " + std::to_string(line_no) + ": " + why : why;
    } else if (control) {
      ++controls;
    }
  });
  if (messages == 0) error = "empty CloudWatch Logs data";
  if (!error.empty()) return record_error(RecordError::cwlogs, std::move(error));
  for (const Pending& p : s.pending) {
    auto [it, added] = s.by_key.try_emplace(p.key, static_cast<uint32_t>(s.groups.size()));
    if (added) {
      Group g;
      std::string_view k = p.key;
      std::string* parts[] = {&g.account, &g.region, &g.log_group, &g.log_stream};
      for (std::string* part : parts) {
        const auto nul = k.find('\0');
        part->assign(k.substr(0, nul));
        k.remove_prefix(nul + 1);
      }
      s.groups.push_back(std::move(g));
    }
    s.groups[it->second].records.append(s.pending_bytes, p.offset, p.size);
  }
  log_records_ += s.pending.size();
  control_messages_ += controls;
  return {};
}

void CwLogsDecoder::finish(std::string& request) {
  std::string attrs;
  for (const Group& g : state_->groups) {
    attrs.clear();
    {
      protozero::pbf_writer w(attrs);
      const uint32_t field = num(otlp::Resource::attributes);
      add_string_attribute(w, field, "cloud.provider", "aws");
      add_string_attribute(w, field, "cloud.account.id", g.account);
      if (!g.region.empty()) add_string_attribute(w, field, "cloud.region", g.region);
      add_string_list_attribute(w, field, "aws.log.group.names", g.log_group);
      add_string_list_attribute(w, field, "aws.log.stream.names", g.log_stream);
    }
    append_resource_group(request, attrs, g.records);
  }
  state_ = std::make_unique<State>();
}

}  // namespace otlpgate::firehose
