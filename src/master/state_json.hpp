// Renderers of the master's legacy JSON endpoints (/state, /frameworks,
// /slaves, /tasks, /roles, /metrics/snapshot, /version, /flags) with the
// Mesos field names that tools (web UIs, Mesos-DNS, CLIs) parse.
//
// Thread-safety: pure functions of a MasterCore snapshot; call on its loop.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "master/master_core.hpp"

namespace mezzo::master {

// Who leads, as this master sees it (itself when standalone).
struct Leadership {
  bool elected = true;
  std::optional<v1::MasterInfo> leader;
  std::optional<TimePoint> electedTime;
};

nlohmann::json renderState(const MasterCore& core, const std::map<std::string, std::string>& flags,
                           const Leadership& leadership, TimePoint now);
nlohmann::json renderStateSummary(const MasterCore& core, const std::map<std::string, std::string>& flags = {});
nlohmann::json renderFrameworks(const MasterCore& core, TimePoint now);
nlohmann::json renderAgents(const MasterCore& core);
nlohmann::json renderTasks(const MasterCore& core, const std::string& target);
nlohmann::json renderRoles(const MasterCore& core);
nlohmann::json renderMetrics(const MasterCore& core, const Leadership& leadership, TimePoint now);
nlohmann::json renderVersion();
nlohmann::json renderFlags(const std::map<std::string, std::string>& flags);

}  // namespace mezzo::master
