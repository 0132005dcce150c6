// The numeric entries of a /metrics/snapshot JSON document as v1 Metric
// messages (operator GET_METRICS on the master and the agent).
//
// Thread-safety: a pure function.
#pragma once

#include <nlohmann/json.hpp>

#include "mezzo/v1/mesos.pb.h"

namespace mezzo {

inline void appendMetrics(const nlohmann::json& snapshot, google::protobuf::RepeatedPtrField<v1::Metric>* out) {
  for (const auto& [name, value] : snapshot.items()) {
    if (!value.is_number()) continue;
    v1::Metric* metric = out->Add();
    metric->set_name(name);
    metric->set_value(value.get<double>());
  }
}

}  // namespace mezzo
