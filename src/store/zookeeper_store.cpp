// The ZooKeeper registry store (--registry=zookeeper), for masters in HA
// mode: the registry lives in the same ZooKeeper ensemble that elects the
// leader, so whichever master is elected next recovers exactly what the last
// leader made durable.
//
// Layout under `path` (e.g. /mezzo/registry):
//   snapshot          "<generation> <chunks>": which snapshot chunks are current
//   chunks/<gen>-<i>  the serialized RegistrySnapshot, cut into chunks below
//                     ZooKeeper's 1 MB znode limit
//   log/op-<seq>      one serialized RegistryOperation per persistent
//                     sequential znode, replayed in sequence order
// Compaction writes the new generation's chunks, then switches `snapshot`
// and deletes the log records in one atomic multi-op; the old
// chunks are removed afterwards (left-overs are ignored by recovery).
//
// Fencing: when a fence path is given (the leader's own ephemeral election
// znode), every write is a multi-op that first checks the fence exists, so a
// deposed leader whose session expired cannot write after its successor was
// elected.
//
// Thread-safety: as RegistryStore (one thread at a time; the registrar's
// worker). The ZooKeeper handle is this store's own session.
#include <zookeeper/zookeeper.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>

#include "store/registry.hpp"

namespace mezzo::store {

namespace {

constexpr size_t kChunkBytes = 512 * 1024;

Status zkError(const std::string& what, int rc) {
  return Status::ioError("ZooKeeper registry: " + what + ": " + zerror(rc));
}

class ZooKeeperRegistryStore final : public RegistryStore {
 public:
  explicit ZooKeeperRegistryStore(ZooKeeperStoreOptions options) : options_(std::move(options)) {}
  ~ZooKeeperRegistryStore() override {
    if (handle_ != nullptr) zookeeper_close(handle_);
  }

  Status connect() {
    if (handle_ != nullptr && zoo_state(handle_) == ZOO_CONNECTED_STATE) return Status::ok();
    if (handle_ != nullptr) {
      zookeeper_close(handle_);
      handle_ = nullptr;
    }
    zoo_set_debug_level(ZOO_LOG_LEVEL_ERROR);
    auto timeout = std::chrono::duration_cast<std::chrono::milliseconds>(options_.sessionTimeout);
    {
      std::lock_guard lock(mutex_);
      connected_ = false;
    }
    handle_ = zookeeper_init(options_.servers.c_str(), &ZooKeeperRegistryStore::watch,
                             static_cast<int>(timeout.count()), nullptr, this, 0);
    if (handle_ == nullptr) return Status::ioError("zookeeper_init(" + options_.servers + ") failed");
    std::unique_lock lock(mutex_);
    if (!changed_.wait_for(lock, timeout * 2, [&] { return connected_; })) {
      return Status::unavailable("ZooKeeper registry: no connection to " + options_.servers);
    }
    return ensureLayout();
  }

  Result<RegistryState> recover() override {
    if (Status status = connect(); !status) return status;
    internal::RegistrySnapshot snapshot;
    auto header = read(options_.path + "/snapshot");
    if (header) {
      if (!parseHeader(*header, &generation_, &chunks_)) return Status::internal("Registry snapshot header is corrupt");
      std::string data;
      for (size_t i = 0; i < chunks_; ++i) {
        auto chunk = read(chunkPath(generation_, i));
        if (!chunk) return Status::internal("Registry snapshot chunk missing: " + chunk.error());
        data += *chunk;
      }
      if (!snapshot.ParseFromString(data)) return Status::internal("Registry snapshot is corrupt");
    } else if (header.status().code() != StatusCode::kNotFound) {
      return header.status();
    }
    auto state = RegistryState::fromSnapshot(snapshot);
    if (!state) return state.status();

    auto names = children(options_.path + "/log");
    if (!names) return names.status();
    std::sort(names->begin(), names->end());  // op-<10-digit sequence>
    logNames_.clear();
    for (const std::string& name : *names) {
      auto blob = read(options_.path + "/log/" + name);
      if (!blob) return blob.status();
      internal::RegistryOperation operation;
      if (!operation.ParseFromString(*blob)) return Status::internal("Registry operation record is corrupt");
      Status applied = state->apply(operation);
      if (!applied) return Status::internal("Registry log does not replay: " + applied.message());
      logNames_.push_back(name);
    }
    return state;
  }

  Status append(const internal::RegistryOperation& operation) override {
    if (Status status = connect(); !status) return status;
    std::string data = operation.SerializeAsString();
    std::string prefix = options_.path + "/log/op-";
    std::vector<char> created(prefix.size() + 32);
    std::vector<zoo_op_t> ops;
    addFence(ops);
    ops.emplace_back();
    zoo_create_op_init(&ops.back(), prefix.c_str(), data.data(), static_cast<int>(data.size()), &ZOO_OPEN_ACL_UNSAFE,
                       ZOO_SEQUENCE, created.data(), static_cast<int>(created.size()));
    if (Status status = multi(ops, "append"); !status) return status;
    std::string path(created.data());
    logNames_.push_back(path.substr(path.rfind('/') + 1));
    return Status::ok();
  }

  // `state` holds everything appended so far: the whole log is replaced.
  Status compact(const RegistryState& state) override {
    if (Status status = connect(); !status) return status;
    auto header = read(options_.path + "/snapshot");
    if (header && !parseHeader(*header, &generation_, &chunks_)) {
      return Status::internal("Registry snapshot header is corrupt");
    }
    auto names = children(options_.path + "/log");
    if (!names) return names.status();
    logNames_ = *names;
    std::string data = state.toSnapshot().SerializeAsString();
    uint64_t next = generation_ + 1;
    size_t count = std::max<size_t>(1, (data.size() + kChunkBytes - 1) / kChunkBytes);
    for (size_t i = 0; i < count; ++i) {
      std::string chunk = data.substr(i * kChunkBytes, kChunkBytes);
      std::string path = chunkPath(next, i);
      int rc = zoo_create(handle_, path.c_str(), chunk.data(), static_cast<int>(chunk.size()), &ZOO_OPEN_ACL_UNSAFE,
                          0, nullptr, 0);
      if (rc == ZNODEEXISTS) rc = zoo_set(handle_, path.c_str(), chunk.data(), static_cast<int>(chunk.size()), -1);
      if (rc != ZOK) return zkError("writing snapshot chunk " + path, rc);
    }
    std::string newHeader = std::to_string(next) + " " + std::to_string(count);
    std::string headerPath = options_.path + "/snapshot";
    bool hasHeader = header.isOk();
    std::vector<std::string> logPaths;
    for (const std::string& name : logNames_) logPaths.push_back(options_.path + "/log/" + name);
    std::vector<zoo_op_t> ops;
    ops.reserve(logPaths.size() + 2);
    addFence(ops);
    ops.emplace_back();
    if (hasHeader) {
      zoo_set_op_init(&ops.back(), headerPath.c_str(), newHeader.data(), static_cast<int>(newHeader.size()), -1, nullptr);
    } else {
      zoo_create_op_init(&ops.back(), headerPath.c_str(), newHeader.data(), static_cast<int>(newHeader.size()),
                         &ZOO_OPEN_ACL_UNSAFE, 0, nullptr, 0);
    }
    for (const std::string& path : logPaths) {
      ops.emplace_back();
      zoo_delete_op_init(&ops.back(), path.c_str(), -1);
    }
    if (Status status = multi(ops, "compaction"); !status) return status;
    for (size_t i = 0; i < chunks_; ++i) zoo_delete(handle_, chunkPath(generation_, i).c_str(), -1);
    generation_ = next;
    chunks_ = count;
    logNames_.clear();
    return Status::ok();
  }

  size_t logLength() const override { return logNames_.size(); }
  std::string name() const override { return "zookeeper"; }

 private:
  static void watch(zhandle_t*, int type, int state, const char*, void* context) {
    if (type != ZOO_SESSION_EVENT) return;
    auto* self = static_cast<ZooKeeperRegistryStore*>(context);
    std::lock_guard lock(self->mutex_);
    self->connected_ = state == ZOO_CONNECTED_STATE;
    self->changed_.notify_all();
  }

  Status ensureLayout() {
    for (const std::string& path : {options_.path, options_.path + "/chunks", options_.path + "/log"}) {
      size_t start = 1;
      while (start <= path.size()) {
        size_t slash = path.find('/', start);
        std::string prefix = path.substr(0, slash);
        int rc = zoo_create(handle_, prefix.c_str(), nullptr, -1, &ZOO_OPEN_ACL_UNSAFE, 0, nullptr, 0);
        if (rc != ZOK && rc != ZNODEEXISTS) return zkError("creating " + prefix, rc);
        if (slash == std::string::npos) break;
        start = slash + 1;
      }
    }
    return Status::ok();
  }

  void addFence(std::vector<zoo_op_t>& ops) {
    fence_ = options_.fence ? options_.fence() : std::string();
    if (fence_.empty()) return;
    ops.emplace_back();
    zoo_check_op_init(&ops.back(), fence_.c_str(), -1);
  }

  Status multi(std::vector<zoo_op_t>& ops, const std::string& what) {
    std::vector<zoo_op_result_t> results(ops.size());
    int rc = zoo_multi(handle_, static_cast<int>(ops.size()), ops.data(), results.data());
    if (rc == ZOK) return Status::ok();
    if (!fence_.empty() && results[0].err != ZOK) {
      return Status::failedPrecondition("ZooKeeper registry: " + what + " refused: " + fence_ +
                                        " is gone (no longer the leader)");
    }
    return zkError(what, rc);
  }

  Result<std::string> read(const std::string& path) {
    struct Stat stat {};
    int rc = zoo_exists(handle_, path.c_str(), 0, &stat);
    if (rc == ZNONODE) return Status::notFound(path);
    if (rc != ZOK) return zkError("reading " + path, rc);
    std::string data(static_cast<size_t>(std::max(stat.dataLength, 0)), '\0');
    int length = static_cast<int>(data.size());
    rc = zoo_get(handle_, path.c_str(), 0, data.data(), &length, nullptr);
    if (rc != ZOK) return zkError("reading " + path, rc);
    data.resize(static_cast<size_t>(std::max(length, 0)));
    return data;
  }

  Result<std::vector<std::string>> children(const std::string& path) {
    String_vector names{};
    int rc = zoo_get_children(handle_, path.c_str(), 0, &names);
    if (rc != ZOK) return zkError("listing " + path, rc);
    std::vector<std::string> out(names.data, names.data + names.count);
    deallocate_String_vector(&names);
    return out;
  }

  static bool parseHeader(const std::string& text, uint64_t* generation, size_t* chunks) {
    return std::sscanf(text.c_str(), "%lu %zu", generation, chunks) == 2;
  }

  std::string chunkPath(uint64_t generation, size_t index) const {
    return options_.path + "/chunks/" + std::to_string(generation) + "-" + std::to_string(index);
  }

  ZooKeeperStoreOptions options_;
  zhandle_t* handle_ = nullptr;
  std::mutex mutex_;
  std::condition_variable changed_;
  bool connected_ = false;
  uint64_t generation_ = 0;
  size_t chunks_ = 0;
  std::vector<std::string> logNames_;
  std::string fence_;
};

}  // namespace

Result<std::unique_ptr<RegistryStore>> openZooKeeperRegistryStore(ZooKeeperStoreOptions options) {
  if (options.servers.empty() || options.path.empty() || options.path[0] != '/') {
    return Status::invalidArgument("ZooKeeper registry needs servers and an absolute path");
  }
  auto store = std::make_unique<ZooKeeperRegistryStore>(std::move(options));
  if (Status status = store->connect(); !status) return status;
  return std::unique_ptr<RegistryStore>(std::move(store));
}

}  // namespace mezzo::store
