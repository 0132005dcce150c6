// Pieces of the v1 operator API answers and metrics that the master and the
// agent fill alike: metrics from a /metrics/snapshot document, resource
// usage keys, the host's system/* keys, flags, version.
//
// Thread-safety: pure functions, except putSystemMetrics (reads the host's
// load and memory; safe from any thread).
#pragma once

#include <sys/sysinfo.h>
#include <unistd.h>

#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "mezzo/v1/mesos.pb.h"
#include "mezzo/version.hpp"

namespace mezzo {

// The numeric entries of the snapshot as Metric messages (GET_METRICS).
inline void appendMetrics(const nlohmann::json& snapshot, google::protobuf::RepeatedPtrField<v1::Metric>* out) {
  for (const auto& [name, value] : snapshot.items()) {
    if (!value.is_number()) continue;
    v1::Metric* metric = out->Add();
    metric->set_name(name);
    metric->set_value(value.get<double>());
  }
}

// Snapshot keys `<prefix>/<name>_total`, `_used` and `_percent` (a 0..1
// fraction, as Mesos) of one resource.
inline void putResourceUsage(nlohmann::json& snapshot, const std::string& prefix, const std::string& name,
                             double total, double used) {
  snapshot[prefix + "/" + name + "_total"] = total;
  snapshot[prefix + "/" + name + "_used"] = used;
  snapshot[prefix + "/" + name + "_percent"] = total > 0 ? used / total : 0.0;
}

// Mesos's system/* keys: online cpus, load averages, total and free memory.
inline void putSystemMetrics(nlohmann::json& snapshot) {
  snapshot["system/cpus_total"] = static_cast<double>(sysconf(_SC_NPROCESSORS_ONLN));
  double loads[3] = {0, 0, 0};
  if (getloadavg(loads, 3) == 3) {
    snapshot["system/load_1min"] = loads[0];
    snapshot["system/load_5min"] = loads[1];
    snapshot["system/load_15min"] = loads[2];
  }
  struct sysinfo info {};
  if (sysinfo(&info) == 0) {
    snapshot["system/mem_total_bytes"] = static_cast<double>(info.totalram) * info.mem_unit;
    snapshot["system/mem_free_bytes"] = static_cast<double>(info.freeram) * info.mem_unit;
  }
}

// GET_FLAGS: the daemon's flags as rendered for /flags.
inline void appendFlags(const std::map<std::string, std::string>& rendered,
                        google::protobuf::RepeatedPtrField<v1::Flag>* out) {
  for (const auto& [name, value] : rendered) {
    v1::Flag* flag = out->Add();
    flag->set_name(name);
    flag->set_value(value);
  }
}

// GET_VERSION: the Mesos API level Mezzo speaks.
inline void fillVersionInfo(v1::VersionInfo* version) {
  version->set_version(kMezzoMesosVersion);
  version->set_build_date(__DATE__);
}

}  // namespace mezzo
