#include "cli/table.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace mezzo::cli {

using nlohmann::json;

void Table::addRow(std::vector<std::string> cells) {
  cells.resize(headers_.size());
  rows_.push_back(std::move(cells));
}

std::string Table::render() const {
  std::vector<size_t> widths;
  for (const std::string& header : headers_) widths.push_back(header.size());
  for (const auto& row : rows_) {
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  std::string out;
  auto line = [&](const std::vector<std::string>& cells) {
    std::string text;
    for (size_t i = 0; i < cells.size(); ++i) {
      text += cells[i];
      if (i + 1 < cells.size()) text += std::string(widths[i] - cells[i].size() + 2, ' ');
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();
    out += text + "\n";
  };
  line(headers_);
  for (const auto& row : rows_) line(row);
  return out;
}

std::string formatAmount(double value) {
  std::string text = fmt::format("{:.3f}", value);
  while (text.back() == '0') text.pop_back();
  if (text.back() == '.') text.pop_back();
  return text;
}

namespace {

std::string text(const json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return "";
  if (it->is_string()) return it->get<std::string>();
  if (it->is_boolean()) return it->get<bool>() ? "true" : "false";
  if (it->is_number()) return formatAmount(it->get<double>());
  return it->dump();
}

std::string resource(const json& object, const char* name) {
  auto resources = object.find("resources");
  if (resources == object.end() || !resources->is_object()) return "";
  return text(*resources, name);
}

const json& arrayField(const json& object, const char* key) {
  static const json empty = json::array();
  if (!object.is_object()) return empty;
  auto it = object.find(key);
  return it != object.end() && it->is_array() ? *it : empty;
}

}  // namespace

std::string renderTasks(const json& tasks) {
  Table table({"ID", "NAME", "STATE", "FRAMEWORK", "AGENT"});
  for (const json& task : arrayField(tasks, "tasks")) {
    table.addRow({text(task, "id"), text(task, "name"), text(task, "state"), text(task, "framework_id"),
                  text(task, "slave_id")});
  }
  return table.render();
}

std::string renderAgents(const json& agents) {
  Table table({"ID", "HOSTNAME", "CPUS", "MEM", "ACTIVE"});
  for (const json& agent : arrayField(agents, "slaves")) {
    std::string hostname = text(agent, "hostname");
    if (agent.contains("port")) hostname += ":" + text(agent, "port");
    table.addRow({text(agent, "id"), hostname, resource(agent, "cpus"), resource(agent, "mem"), text(agent, "active")});
  }
  return table.render();
}

std::string renderFrameworks(const json& frameworks) {
  Table table({"ID", "NAME", "ACTIVE", "TASKS"});
  for (const json& framework : arrayField(frameworks, "frameworks")) {
    table.addRow({text(framework, "id"), text(framework, "name"), text(framework, "active"),
                  std::to_string(arrayField(framework, "tasks").size())});
  }
  return table.render();
}

}  // namespace mezzo::cli
