#include "agent/checkpoint.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace mezzo::agent {

namespace fs = std::filesystem;

namespace {

// Checkpoints hold TaskInfos with their environments (often secrets): only
// the agent's user may read them.
constexpr mode_t kPrivateFileMode = 0600;
constexpr mode_t kPrivateDirMode = 0700;

Status errnoStatus(const std::string& what, const std::string& path) {
  return Status::ioError(what + " " + path + ": " + std::strerror(errno));
}

Status writeAll(int fd, const std::string& data, const std::string& path) {
  size_t written = 0;
  while (written < data.size()) {
    ssize_t n = ::write(fd, data.data() + written, data.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errnoStatus("Failed to write", path);
    written += static_cast<size_t>(n);
  }
  return Status::ok();
}

void fsyncDirectory(const fs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

Result<std::string> readFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::ioError("Failed to open " + path.string());
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

template <typename Message>
Status readMessage(const fs::path& path, Message* message) {
  auto bytes = readFile(path);
  if (!bytes) return bytes.status();
  if (!message->ParsePartialFromString(*bytes)) return Status::ioError("Corrupt checkpoint " + path.string());
  return Status::ok();
}

// Creates `dir` and its missing parents as private directories (0700).
Status ensureDir(const fs::path& dir) {
  std::error_code ec;
  if (fs::is_directory(dir, ec)) return Status::ok();
  if (dir.has_parent_path() && dir.parent_path() != dir) {
    Status parent = ensureDir(dir.parent_path());
    if (!parent) return parent;
  }
  if (::mkdir(dir.c_str(), kPrivateDirMode) != 0 && errno != EEXIST) return errnoStatus("Failed to create", dir);
  return Status::ok();
}

std::vector<fs::path> subdirectories(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.is_directory(ec) && !entry.is_symlink(ec)) out.push_back(entry.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

Result<ExecutorRun> readRun(const fs::path& path) {
  auto text = readFile(path);
  if (!text) return text.status();
  auto json = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object()) return Status::ioError("Corrupt checkpoint " + path.string());
  ExecutorRun run;
  run.containerId = json.value("container_id", "");
  run.directory = json.value("directory", "");
  run.pid = json.value("pid", -1);
  run.commandExecutor = json.value("command_executor", false);
  run.supervised = json.value("supervised", false);
  return run;
}

Result<RecoveredTask> recoverTask(const fs::path& dir) {
  RecoveredTask task;
  Status status = readMessage(dir / "task.info", &task.info);
  if (!status) return status;
  if (!fs::exists(dir / "task.updates")) return task;
  auto records = readRecords((dir / "task.updates").string());
  if (!records) return records.status();
  for (auto& [kind, payload] : *records) {
    if (kind == 'A') {
      task.acknowledged.push_back(std::move(payload));
    } else if (kind == 'U') {
      v1::TaskStatus update;
      if (!update.ParsePartialFromString(payload)) return Status::ioError("Corrupt update in " + dir.string());
      task.updates.push_back(std::move(update));
    } else {
      return Status::ioError("Unknown record kind in " + dir.string());
    }
  }
  return task;
}

Result<RecoveredExecutor> recoverExecutor(const fs::path& dir) {
  RecoveredExecutor executor;
  Status status = readMessage(dir / "executor.info", &executor.info);
  if (!status) return status;
  if (fs::exists(dir / "executor.run")) {
    auto run = readRun(dir / "executor.run");
    if (!run) return run.status();
    executor.run = *run;
  }
  executor.terminated = fs::exists(dir / "terminated");
  for (const fs::path& taskDir : subdirectories(dir / "tasks")) {
    if (!fs::exists(taskDir / "task.info")) continue;  // crashed while creating it
    auto task = recoverTask(taskDir);
    if (!task) return task.status();
    executor.tasks.push_back(std::move(*task));
  }
  return executor;
}

}  // namespace

std::string currentBootId() {
  std::ifstream in("/proc/sys/kernel/random/boot_id");
  std::string id;
  std::getline(in, id);
  while (!id.empty() && std::isspace(static_cast<unsigned char>(id.back()))) id.pop_back();
  return id;
}

Status writeFileAtomically(const std::string& path, const std::string& contents) {
  fs::path target(path);
  Status made = ensureDir(target.parent_path());
  if (!made) return made;
  std::string temp = path + ".tmp";
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, kPrivateFileMode);
  if (fd < 0) return errnoStatus("Failed to create", temp);
  Status status = writeAll(fd, contents, temp);
  if (status && ::fsync(fd) != 0) status = errnoStatus("Failed to fsync", temp);
  ::close(fd);
  if (status && ::rename(temp.c_str(), path.c_str()) != 0) status = errnoStatus("Failed to rename", temp);
  if (!status) {
    ::unlink(temp.c_str());
    return status;
  }
  fsyncDirectory(target.parent_path());
  return Status::ok();
}

Status appendRecord(const std::string& path, char kind, const std::string& payload) {
  Status made = ensureDir(fs::path(path).parent_path());
  if (!made) return made;
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, kPrivateFileMode);
  if (fd < 0) return errnoStatus("Failed to open", path);
  const off_t before = ::lseek(fd, 0, SEEK_END);
  const uint32_t length = static_cast<uint32_t>(payload.size());
  std::string record;
  record.reserve(payload.size() + 5);
  for (int shift = 24; shift >= 0; shift -= 8) record.push_back(static_cast<char>((length >> shift) & 0xff));
  record.push_back(kind);
  record += payload;
  Status status = writeAll(fd, record, path);
  if (status && ::fsync(fd) != 0) status = errnoStatus("Failed to fsync", path);
  // A partly written record (disk full) must not stay: the next record
  // would follow it and be misread.
  if (!status && before >= 0 && ::ftruncate(fd, before) == 0) ::fsync(fd);
  ::close(fd);
  return status;
}

Result<std::vector<std::pair<char, std::string>>> readRecords(const std::string& path) {
  auto bytes = readFile(path);
  if (!bytes) return bytes.status();
  std::vector<std::pair<char, std::string>> records;
  size_t at = 0;
  while (bytes->size() - at >= 5) {
    uint32_t length = 0;
    for (int i = 0; i < 4; ++i) length = (length << 8) | static_cast<unsigned char>((*bytes)[at + i]);
    if (bytes->size() - at - 5 < length) break;  // torn tail
    records.emplace_back((*bytes)[at + 4], bytes->substr(at + 5, length));
    at += 5 + length;
  }
  return records;
}

std::string Checkpointer::agentDir(const std::string& agent) const { return metaDir_ + "/slaves/" + agent; }

std::string Checkpointer::frameworkDir(const std::string& agent, const std::string& framework) const {
  return agentDir(agent) + "/frameworks/" + framework;
}

std::string Checkpointer::executorDir(const std::string& agent, const std::string& framework,
                                      const std::string& executor) const {
  return frameworkDir(agent, framework) + "/executors/" + executor;
}

std::string Checkpointer::taskDir(const std::string& agent, const std::string& framework, const std::string& executor,
                                  const std::string& task) const {
  return executorDir(agent, framework, executor) + "/tasks/" + task;
}

Status Checkpointer::writeBootId(const std::string& bootId) const {
  Status status = writeFileAtomically(metaDir_ + "/boot_id", bootId + "\n");
  // Also makes a meta/ written by an older version (0755) private.
  if (status && ::chmod(metaDir_.c_str(), kPrivateDirMode) != 0) status = errnoStatus("Failed to chmod", metaDir_);
  return status;
}

Status Checkpointer::writeAgent(const v1::AgentInfo& info) const {
  const std::string& id = info.id().value();
  Status status = writeFileAtomically(agentDir(id) + "/slave.info", info.SerializePartialAsString());
  if (!status) return status;
  fs::path latest = fs::path(metaDir_) / "slaves" / "latest";
  fs::path temp = latest;
  temp += ".tmp";
  std::error_code ec;
  fs::remove(temp, ec);
  fs::create_directory_symlink(id, temp, ec);
  if (!ec) fs::rename(temp, latest, ec);
  if (ec) return Status::ioError("Failed to link " + latest.string() + ": " + ec.message());
  fsyncDirectory(latest.parent_path());
  return Status::ok();
}

Status Checkpointer::writeFramework(const std::string& agent, const v1::FrameworkInfo& info) const {
  return writeFileAtomically(frameworkDir(agent, info.id().value()) + "/framework.info", info.SerializePartialAsString());
}

Status Checkpointer::writeExecutor(const std::string& agent, const std::string& framework,
                                   const v1::ExecutorInfo& info, const ExecutorRun& run) const {
  const std::string dir = executorDir(agent, framework, info.executor_id().value());
  Status status = writeFileAtomically(dir + "/executor.info", info.SerializePartialAsString());
  if (!status) return status;
  nlohmann::json json{{"container_id", run.containerId},
                      {"directory", run.directory},
                      {"pid", run.pid},
                      {"command_executor", run.commandExecutor},
                      {"supervised", run.supervised}};
  status = writeFileAtomically(dir + "/executor.run", json.dump());
  std::error_code ec;
  fs::remove(dir + "/terminated", ec);  // a new run of a reused executor id
  return status;
}

Status Checkpointer::markExecutorTerminated(const std::string& agent, const std::string& framework,
                                            const std::string& executor) const {
  return writeFileAtomically(executorDir(agent, framework, executor) + "/terminated", "");
}

Status Checkpointer::writeTask(const std::string& agent, const std::string& framework, const std::string& executor,
                               const v1::TaskInfo& task) const {
  return writeFileAtomically(taskDir(agent, framework, executor, task.task_id().value()) + "/task.info",
                             task.SerializePartialAsString());
}

Status Checkpointer::appendUpdate(const std::string& agent, const std::string& framework, const std::string& executor,
                                  const v1::TaskStatus& status) const {
  return appendRecord(taskDir(agent, framework, executor, status.task_id().value()) + "/task.updates", 'U',
                      status.SerializePartialAsString());
}

Status Checkpointer::appendAcknowledgement(const std::string& agent, const std::string& framework,
                                           const std::string& executor, const std::string& task,
                                           const std::string& uuid) const {
  return appendRecord(taskDir(agent, framework, executor, task) + "/task.updates", 'A', uuid);
}

void Checkpointer::removeTask(const std::string& agent, const std::string& framework, const std::string& executor,
                              const std::string& task) const {
  std::error_code ec;
  fs::remove_all(taskDir(agent, framework, executor, task), ec);
}

void Checkpointer::removeExecutor(const std::string& agent, const std::string& framework,
                                  const std::string& executor) const {
  std::error_code ec;
  fs::remove_all(executorDir(agent, framework, executor), ec);
}

void Checkpointer::removeFramework(const std::string& agent, const std::string& framework) const {
  std::error_code ec;
  fs::remove_all(frameworkDir(agent, framework), ec);
}

void Checkpointer::removeAll() const {
  std::error_code ec;
  fs::remove_all(metaDir_ + "/slaves", ec);
}

size_t Checkpointer::removeOtherAgents(const std::string& agent) const {
  std::vector<fs::path> others;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(fs::path(metaDir_) / "slaves", ec)) {
    const std::string name = entry.path().filename().string();
    if (name == agent || name.starts_with("latest") || entry.is_symlink()) continue;
    others.push_back(entry.path());
  }
  for (const fs::path& dir : others) fs::remove_all(dir, ec);
  return others.size();
}

Result<RecoveredState> Checkpointer::recover() const {
  RecoveredState state;
  std::error_code ec;
  if (fs::exists(metaDir_ + "/boot_id", ec)) {
    auto text = readFile(metaDir_ + "/boot_id");
    if (!text) return text.status();
    state.bootId = *text;
    while (!state.bootId.empty() && std::isspace(static_cast<unsigned char>(state.bootId.back()))) {
      state.bootId.pop_back();
    }
  }
  fs::path latest = fs::path(metaDir_) / "slaves" / "latest";
  if (!fs::is_symlink(latest, ec)) return state;
  fs::path agentDir = fs::path(metaDir_) / "slaves" / fs::read_symlink(latest, ec);
  if (ec || !fs::exists(agentDir / "slave.info")) return state;
  v1::AgentInfo agent;
  Status status = readMessage(agentDir / "slave.info", &agent);
  if (!status) return status;
  state.agent = agent;
  for (const fs::path& frameworkDir : subdirectories(agentDir / "frameworks")) {
    if (!fs::exists(frameworkDir / "framework.info")) continue;
    RecoveredFramework framework;
    status = readMessage(frameworkDir / "framework.info", &framework.info);
    if (!status) return status;
    for (const fs::path& executorDir : subdirectories(frameworkDir / "executors")) {
      if (!fs::exists(executorDir / "executor.info")) continue;
      auto executor = recoverExecutor(executorDir);
      if (!executor) return executor.status();
      framework.executors.push_back(std::move(*executor));
    }
    state.frameworks.push_back(std::move(framework));
  }
  return state;
}

}  // namespace mezzo::agent
