// The agent's read-only HTTP endpoints: /state (shape of the Mesos agent's
// /slave(1)/state) and /files/read, /files/download on sandboxes.
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "agent/agent_daemon.hpp"
#include "agent/sandbox.hpp"
#include "mezzo/common/json_proto.hpp"
#include "mezzo/version.hpp"

namespace mezzo::agent {

namespace {

using nlohmann::json;

constexpr int64_t kMaxReadLength = 1024 * 1024;

// A regular file opened for reading; closes it unless release()d.
class OpenFile {
 public:
  OpenFile(int fd, int64_t size) : fd_(fd), size_(size) {}
  ~OpenFile() {
    if (fd_ >= 0) ::close(fd_);
  }
  OpenFile(OpenFile&& other) noexcept : fd_(std::exchange(other.fd_, -1)), size_(other.size_) {}
  OpenFile(const OpenFile&) = delete;
  OpenFile& operator=(const OpenFile&) = delete;
  OpenFile& operator=(OpenFile&&) = delete;

  int fd() const { return fd_; }
  int64_t size() const { return size_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
  int64_t size_;
};

// Opens a sandbox file for the files API. Only regular files are served:
// the open never blocks (O_NONBLOCK: a FIFO without a writer would block it,
// and the event loop with it), and the type is checked on the opened file,
// so a rename in between cannot swap in something else.
Result<OpenFile> openRegularFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    if (errno == ENOENT) return Status::notFound("File not found");
    return Status::invalidArgument("Failed to open the file: " + std::string(std::strerror(errno)));
  }
  struct stat info {};
  const bool statted = ::fstat(fd, &info) == 0;
  OpenFile file(fd, statted ? info.st_size : 0);
  if (!statted) return Status::invalidArgument("Failed to stat the file");
  if (S_ISDIR(info.st_mode)) return Status::invalidArgument("Cannot read a directory");
  if (!S_ISREG(info.st_mode)) return Status::invalidArgument("Not a regular file; only regular files are served");
  return file;
}

// Reads up to `count` bytes at `offset` (fewer at the end of the file).
std::string readAt(const OpenFile& file, int64_t offset, int64_t count) {
  std::string data(static_cast<size_t>(count), '\0');
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::pread(file.fd(), data.data() + done, data.size() - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  data.resize(done);
  return data;
}

json resourcesJson(const ResourceProtos& protos) {
  auto resources = Resources::fromProto(protos);
  return resources ? resources->toStateJson() : Resources().toStateJson();
}

std::string rangesText(const v1::Value::Ranges& ranges) {
  std::string out = "[";
  for (int i = 0; i < ranges.range_size(); ++i) {
    if (i > 0) out += ", ";
    out += std::to_string(ranges.range(i).begin()) + "-" + std::to_string(ranges.range(i).end());
  }
  return out + "]";
}

json attributesJson(const v1::AgentInfo& info) {
  json out = json::object();
  for (const auto& attribute : info.attributes()) {
    switch (attribute.type()) {
      case v1::Value::SCALAR: out[attribute.name()] = attribute.scalar().value(); break;
      case v1::Value::TEXT: out[attribute.name()] = attribute.text().value(); break;
      case v1::Value::RANGES: out[attribute.name()] = rangesText(attribute.ranges()); break;
      case v1::Value::SET: {
        std::string items;
        for (const auto& item : attribute.set().item()) items += (items.empty() ? "" : ",") + item;
        out[attribute.name()] = "{" + items + "}";
        break;
      }
    }
  }
  return out;
}

json taskJson(const v1::Task& task) {
  json out;
  out["id"] = task.task_id().value();
  out["name"] = task.name();
  out["framework_id"] = task.framework_id().value();
  out["executor_id"] = task.has_executor_id() ? task.executor_id().value() : "";
  out["slave_id"] = task.agent_id().value();
  out["state"] = v1::TaskState_Name(task.state());
  out["resources"] = resourcesJson(task.resources());
  std::string role;
  for (const auto& resource : task.resources()) {
    if (resource.has_allocation_info()) role = resource.allocation_info().role();
  }
  out["role"] = role;
  out["user"] = task.user();
  json statuses = json::array();
  for (const auto& status : task.statuses()) {
    json entry{{"state", v1::TaskState_Name(status.state())}, {"timestamp", status.timestamp()}};
    if (status.has_container_status()) entry["container_status"] = messageToJson(status.container_status());
    statuses.push_back(std::move(entry));
  }
  out["statuses"] = std::move(statuses);
  if (task.has_labels()) out["labels"] = messageToJson(task.labels())["labels"];
  return out;
}

json executorJson(const v1::ExecutorInfo& info, const std::string& containerId, const std::string& directory) {
  json out;
  out["id"] = info.executor_id().value();
  out["name"] = info.name();
  out["source"] = info.source();
  out["container"] = containerId;
  out["directory"] = directory;
  out["type"] = info.has_type() ? v1::ExecutorInfo::Type_Name(info.type()) : "CUSTOM";
  if (info.has_labels()) out["labels"] = messageToJson(info.labels())["labels"];
  out["tasks"] = json::array();
  out["queued_tasks"] = json::array();
  out["completed_tasks"] = json::array();
  return out;
}

unsigned httpStatusFor(const Status& status) {
  switch (status.code()) {
    case StatusCode::kPermissionDenied: return 403;
    case StatusCode::kNotFound: return 404;
    default: return 400;
  }
}

std::string dumpLenient(const json& value) { return value.dump(-1, ' ', false, json::error_handler_t::replace); }

// "drwxr-xr-x", as ls and the Mesos /files/browse show it.
std::string modeString(mode_t mode) {
  std::string out = S_ISDIR(mode) ? "d" : (S_ISLNK(mode) ? "l" : "-");
  const char* letters = "rwxrwxrwx";
  for (int bit = 0; bit < 9; ++bit) out += (mode & (0400 >> bit)) ? letters[bit] : '-';
  return out;
}

json fileEntry(const std::string& path, const struct stat& info) {
  const passwd* user = getpwuid(info.st_uid);
  const group* grp = getgrgid(info.st_gid);
  return json{{"path", path},
              {"nlink", info.st_nlink},
              {"size", info.st_size},
              {"mtime", info.st_mtim.tv_sec},
              {"mode", modeString(info.st_mode)},
              {"uid", user != nullptr ? user->pw_name : std::to_string(info.st_uid)},
              {"gid", grp != nullptr ? grp->gr_name : std::to_string(info.st_gid)}};
}

}  // namespace

json AgentDaemon::renderFramework(const FrameworkRecord& fw) const {
  json out;
  out["id"] = fw.id.value();
  out["name"] = fw.info.name();
  out["user"] = fw.info.user();
  out["hostname"] = fw.info.hostname();
  out["principal"] = fw.info.principal();
  out["failover_timeout"] = fw.info.failover_timeout();
  out["checkpoint"] = fw.info.checkpoint();
  out["role"] = fw.info.role();
  out["roles"] = json(std::vector<std::string>(fw.info.roles().begin(), fw.info.roles().end()));
  json capabilities = json::array();
  for (const auto& capability : fw.info.capabilities()) {
    capabilities.push_back(v1::FrameworkInfo::Capability::Type_Name(capability.type()));
  }
  out["capabilities"] = std::move(capabilities);
  json executors = json::array();
  for (const auto& [executorId, executor] : fw.executors) {
    json entry = executorJson(executor->info, executor->containerId, executor->directory);
    Resources used;
    for (const auto& [taskId, task] : fw.tasks) {
      if (executorOf(task) != executorId) continue;
      bool queued = std::any_of(executor->queuedTasks.begin(), executor->queuedTasks.end(),
                                [&](const v1::TaskInfo& info) { return info.task_id().value() == taskId.value(); });
      entry[queued ? "queued_tasks" : (isTerminalTaskState(task.state()) ? "completed_tasks" : "tasks")].push_back(
          taskJson(task));
      if (auto resources = Resources::fromProto(task.resources()); resources && !isTerminalTaskState(task.state())) {
        used += *resources;
      }
    }
    for (const v1::Task& task : fw.completedTasks) {
      if (executorOf(task) == executorId) entry["completed_tasks"].push_back(taskJson(task));
    }
    entry["resources"] = used.toStateJson();
    executors.push_back(std::move(entry));
  }
  out["executors"] = std::move(executors);
  json completed = json::array();
  for (const CompletedExecutor& executor : fw.completedExecutors) {
    json entry = executorJson(executor.info, executor.containerId, executor.directory);
    const ExecutorId executorId(executor.info.executor_id().value());
    for (const v1::Task& task : fw.completedTasks) {
      if (executorOf(task) == executorId) entry["completed_tasks"].push_back(taskJson(task));
    }
    for (const auto& [taskId, task] : fw.tasks) {
      if (executorOf(task) == executorId) entry["completed_tasks"].push_back(taskJson(task));
    }
    completed.push_back(std::move(entry));
  }
  out["completed_executors"] = std::move(completed);
  return out;
}

// Mesos's agent keys for what the agent measures so far: the fetcher's.
json AgentDaemon::renderState() const {
  auto total = Resources::fromProto(info_.resources());
  json out{{"version", kMezzoMesosVersion}, {"git_sha", ""}, {"git_branch", ""}, {"git_tag", ""},
           {"build_date", __DATE__}, {"build_time", 0}, {"build_user", ""}};
  out["start_time"] = toEpochSeconds(startTime_);
  out["id"] = agentId_;
  out["pid"] = "slave(1)@" + advertisedEndpoint_;
  out["hostname"] = info_.hostname();
  out["port"] = info_.port();
  out["capabilities"] = json::array({"MULTI_ROLE", "HIERARCHICAL_ROLE", "RESERVATION_REFINEMENT"});
  out["resources"] = total ? total->toStateJson() : Resources().toStateJson();
  out["unreserved_resources"] = total ? total->unreserved().toStateJson() : Resources().toStateJson();
  out["reserved_resources"] = json::object();
  out["attributes"] = attributesJson(info_);
  out["master_hostname"] = master_.host;
  out["registered"] = registered_;
  out["log_dir"] = "";
  out["external_log_file"] = "";
  json flags = json::object();
  for (const auto& [name, value] : flags_.rendered) flags[name] = value;
  out["flags"] = std::move(flags);
  json frameworks = json::array();
  for (const auto& [id, fw] : frameworks_) frameworks.push_back(renderFramework(*fw));
  out["frameworks"] = std::move(frameworks);
  json completed = json::array();
  for (const CompletedFramework& fw : completedFrameworks_) {
    json entry{{"id", fw.info.id().value()}, {"name", fw.info.name()}, {"user", fw.info.user()},
               {"executors", json::array()}};
    json executors = json::array();
    for (const CompletedExecutor& executor : fw.completedExecutors) {
      json item = executorJson(executor.info, executor.containerId, executor.directory);
      for (const v1::Task& task : fw.completedTasks) {
        if (executorOf(task).value() == executor.info.executor_id().value()) {
          item["completed_tasks"].push_back(taskJson(task));
        }
      }
      executors.push_back(std::move(item));
    }
    entry["completed_executors"] = std::move(executors);
    completed.push_back(std::move(entry));
  }
  out["completed_frameworks"] = std::move(completed);
  return out;
}

void AgentDaemon::serveFilesRead(const net::Request& request, net::Responder& responder) {
  const std::string target(request.target());
  auto resolved = resolveFilesPath(flags_.workDir, agentId_, net::queryParameter(target, "path"));
  if (!resolved) return responder.respond(net::Response::text(httpStatusFor(resolved.status()), resolved.error()));
  auto file = openRegularFile(*resolved);
  if (!file) return responder.respond(net::Response::text(httpStatusFor(file.status()), file.error()));
  int64_t offset = 0;
  int64_t length = -1;
  try {
    std::string offsetText = net::queryParameter(target, "offset");
    std::string lengthText = net::queryParameter(target, "length");
    if (!offsetText.empty()) offset = std::stoll(offsetText);
    if (!lengthText.empty()) length = std::stoll(lengthText);
  } catch (const std::exception&) {
    return responder.respond(net::Response::text(400, "Failed to parse 'offset' or 'length'"));
  }
  const int64_t size = file->size();
  json out;
  if (offset == -1) {
    out = json{{"data", ""}, {"offset", size}};
  } else if (offset < -1) {
    return responder.respond(net::Response::text(400, "Negative offset provided"));
  } else if (!net::queryParameter(target, "length").empty() && length < 0) {
    return responder.respond(net::Response::text(400, "Negative length provided"));
  } else {
    int64_t available = std::max<int64_t>(0, size - offset);
    int64_t count = std::min(length < 0 ? available : std::min(length, available), kMaxReadLength);
    out = json{{"data", readAt(*file, offset, count)}, {"offset", offset}};
  }
  std::string callback = net::queryParameter(target, "jsonp");
  if (!callback.empty()) {
    return responder.respond(net::Response{200, "text/javascript", callback + "(" + dumpLenient(out) + ");", {}});
  }
  responder.respond(net::Response::json(200, dumpLenient(out)));
}

void AgentDaemon::serveFilesBrowse(const net::Request& request, net::Responder& responder) {
  const std::string target(request.target());
  std::string requested = net::queryParameter(target, "path");
  auto resolved = resolveFilesPath(flags_.workDir, agentId_, requested);
  if (!resolved) return responder.respond(net::Response::text(httpStatusFor(resolved.status()), resolved.error()));
  struct stat info {};
  if (stat(resolved->c_str(), &info) != 0) return responder.respond(net::Response::text(404, "File not found"));
  json entries = json::array();
  while (requested.size() > 1 && requested.back() == '/') requested.pop_back();
  if (!S_ISDIR(info.st_mode)) {
    entries.push_back(fileEntry(requested, info));
  } else if (DIR* dir = opendir(resolved->c_str())) {
    while (dirent* entry = readdir(dir)) {
      std::string name = entry->d_name;
      struct stat child {};
      if (name == "." || name == ".." || lstat((*resolved + "/" + name).c_str(), &child) != 0) continue;
      entries.push_back(fileEntry(requested + "/" + name, child));
    }
    closedir(dir);
  }
  std::string callback = net::queryParameter(target, "jsonp");
  if (!callback.empty()) {
    return responder.respond(net::Response{200, "text/javascript", callback + "(" + dumpLenient(entries) + ");", {}});
  }
  responder.respond(net::Response::json(200, dumpLenient(entries)));
}

// The file is streamed (HttpServer reads it a few KB at a time as the client
// takes them), so downloads of any size cost no memory.
void AgentDaemon::serveFilesDownload(const net::Request& request, net::Responder& responder) {
  auto resolved = resolveFilesPath(flags_.workDir, agentId_, net::queryParameter(std::string(request.target()), "path"));
  if (!resolved) return responder.respond(net::Response::text(httpStatusFor(resolved.status()), resolved.error()));
  auto file = openRegularFile(*resolved);
  if (!file) return responder.respond(net::Response::text(httpStatusFor(file.status()), file.error()));
  std::string name = resolved->substr(resolved->rfind('/') + 1);
  responder.respondFile(200, "application/octet-stream", file->release(),
                        {{"Content-Disposition", "attachment; filename=" + name}});
}

}  // namespace mezzo::agent
