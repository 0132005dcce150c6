// Table: plain-text tables with aligned columns for the CLI's list commands,
// and the renderers of the master's /tasks, /slaves and /frameworks JSON.
//
// Thread-safety: values and stateless functions.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace mezzo::cli {

class Table {
 public:
  explicit Table(std::vector<std::string> headers) : headers_(std::move(headers)) {}
  // Missing cells are empty; extra cells are dropped.
  void addRow(std::vector<std::string> cells);
  // Columns left-aligned, two spaces apart, no trailing blanks.
  std::string render() const;

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
};

// GET /tasks -> ID NAME STATE FRAMEWORK AGENT
std::string renderTasks(const nlohmann::json& tasks);
// GET /slaves -> ID HOSTNAME CPUS MEM ACTIVE
std::string renderAgents(const nlohmann::json& agents);
// GET /frameworks -> ID NAME ACTIVE TASKS
std::string renderFrameworks(const nlohmann::json& frameworks);

// A resource amount as the tables show it: "2", "0.5", "1024".
std::string formatAmount(double value);

}  // namespace mezzo::cli
