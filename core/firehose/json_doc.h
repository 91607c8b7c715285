// JsonDoc: parses the small JSON documents inside Firehose records (a metric line, a log message,
// the common-attributes header) with one reused simdjson on-demand parser.
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include <simdjson.h>

namespace otlpgate::firehose {

class JsonDoc {
 public:
  // Copies `text` into a padded buffer and starts iterating it. The document, and every string
  // view obtained from it, stay valid until the next iterate() or this object's destruction.
  simdjson::simdjson_result<simdjson::ondemand::document> iterate(std::string_view text) {
    buffer_.assign(text);
    buffer_.reserve(text.size() + simdjson::SIMDJSON_PADDING);
    return parser_.iterate(buffer_.data(), buffer_.size(), buffer_.capacity());
  }

  // iterate() for a document that must be an object: `doc` and its root object `obj`.
  simdjson::error_code object(std::string_view text, simdjson::ondemand::document& doc,
                              simdjson::ondemand::object& obj) {
    if (auto e = iterate(text).get(doc)) return e;
    return doc.get_object().get(obj);
  }

 private:
  simdjson::ondemand::parser parser_;
  std::string buffer_;
};

// Calls f(line, line_number) for each non-blank line of newline-delimited JSON (a trailing '\r'
// is dropped; line numbers count from 1).
template <typename F>
void for_each_line(std::string_view text, F&& f) {
  std::size_t line_no = 0;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") != std::string_view::npos) f(line, line_no);
  }
}

// One field of an object being iterated (`for (auto r : object)`): the field and its key.
inline simdjson::error_code read_field(simdjson::simdjson_result<simdjson::ondemand::field> r,
                                       simdjson::ondemand::field& field, std::string_view& key) {
  if (auto e = std::move(r).get(field)) return e;
  return field.unescaped_key().get(key);
}

// True when the document has been read to its end (no content after the root value).
inline bool at_end(simdjson::ondemand::document& doc) {
  return doc.current_location().error() == simdjson::OUT_OF_BOUNDS;
}

// simdjson's error text, for messages.
inline std::string_view json_error(simdjson::error_code e) { return simdjson::error_message(e); }

// Parses `text` as one JSON object and calls f(key, value) for each of its fields in order; f
// returns "" or what is wrong. Returns "" or the first problem: malformed JSON, not an object,
// content after it, or f's. Views taken in f stay valid until `json` parses again.
template <typename F>
std::string each_field(JsonDoc& json, std::string_view text, F&& f) {
  simdjson::ondemand::document doc;
  simdjson::ondemand::object obj;
  if (auto e = json.object(text, doc, obj))
    return "not a JSON object: " + std::string(json_error(e));
  for (auto r : obj) {
    simdjson::ondemand::field field;
    std::string_view key;
    if (auto e = read_field(std::move(r), field, key))
      return "invalid JSON: " + std::string(json_error(e));
    if (std::string why = f(key, field.value()); !why.empty()) return why;
  }
  if (!at_end(doc)) return "invalid JSON: content after the object";
  return {};
}

}  // namespace otlpgate::firehose
