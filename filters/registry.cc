// The stage registry: maps the config type name to the stage's factory.
#include "filters/registry.h"

#include "filters/counted_stage.h"
#include "filters/dedup.h"
#include "filters/filter.h"
#include "filters/redact.h"
#include "filters/relabel.h"

namespace otlpgate::filters {

namespace {

using Factory = std::unique_ptr<Stage> (*)(const config::Processor&, std::string*);

template <typename T>
std::unique_ptr<Stage> build(const config::Processor& p, std::string* err) {
  return T::create(p, err);
}

std::unique_ptr<Stage> build_dedup(const config::Processor& p, std::string* err) {
  return DedupStage::create(p, err);
}

struct Entry {
  const char* type;
  Factory make;
};

constexpr Entry kStages[] = {
    {"filter", &build<FilterStage>},    {"redact", &build<RedactStage>},
    {"redaction", &build<RedactStage>}, {"dedup", &build_dedup},
    {"relabel", &build<RelabelStage>},  {"attributes", &build<RelabelStage>},
    {"resource", &build<RelabelStage>},
};

}  // namespace

std::unique_ptr<Stage> make_stage(const config::Processor& p, std::string* err) {
  for (const Entry& e : kStages)
    if (p.type == e.type) return e.make(p, err);
  if (err) {
    std::string known;
    for (const Entry& e : kStages) known += known.empty() ? e.type : std::string(", ") + e.type;
    *err = "processors." + p.id + ": unknown processor type \"" + p.type + "\"; expected one of " +
           known;
  }
  return nullptr;
}

std::vector<std::pair<std::string, uint64_t>> stage_counters(const Stage& s) {
  if (const auto* c = dynamic_cast<const CountedStage*>(&s)) return c->counters();
  return {};
}

}  // namespace otlpgate::filters
