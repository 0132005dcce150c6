#include "ha/zookeeper.hpp"

#include <zookeeper/zookeeper.h>

#include <mutex>

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <spdlog/spdlog.h>

#include "mezzo/common/json_proto.hpp"

namespace mezzo::ha {

namespace asio = boost::asio;

namespace {

constexpr std::string_view kMemberPrefix = "json.info_";

class Group final : public ZooKeeperGroup, public std::enable_shared_from_this<Group> {
 public:
  Group(asio::io_context& loop, ZooKeeperUrl url, Duration sessionTimeout)
      : loop_(loop), url_(std::move(url)), sessionTimeout_(sessionTimeout) {}

  ~Group() override { close(); }

  void open() {
    asio::post(worker_, [self = shared_from_this()] { self->openSession(); });
  }

  void contend(const v1::MasterInfo& info, ElectionCallback onChange) override {
    asio::post(worker_, [self = shared_from_this(), data = messageToJsonString(info), onChange]() mutable {
      self->memberData_ = std::move(data);
      self->onElected_ = std::move(onChange);
      self->join();
      self->refresh();
    });
  }

  void detect(LeaderCallback onChange) override {
    asio::post(worker_, [self = shared_from_this(), onChange]() mutable {
      self->onLeader_ = std::move(onChange);
      self->lastLeaderData_.reset();
      self->reported_ = false;
      self->refresh();
    });
  }

  void close() override {
    if (closed_.exchange(true)) return;
    asio::post(worker_, [this] {
      if (handle_ != nullptr) zookeeper_close(handle_);
      handle_ = nullptr;
    });
    worker_.join();
  }

 private:
  static void watch(zhandle_t*, int type, int state, const char*, void* context) {
    auto* group = static_cast<Group*>(context);
    if (group->closed_) return;
    // Runs on ZooKeeper's thread: only hand over to the worker.
    asio::post(group->worker_, [group, type, state] { group->onWatch(type, state); });
  }

  void onWatch(int type, int state) {
    if (closed_ || handle_ == nullptr) return;
    if (type == ZOO_SESSION_EVENT) {
      if (state == ZOO_CONNECTED_STATE) {
        join();
        refresh();
      } else if (state == ZOO_EXPIRED_SESSION_STATE) {
        spdlog::warn("ZooKeeper session expired; rejoining with a new session");
        setMember("");
        notifyElected(false);
        zookeeper_close(handle_);
        handle_ = nullptr;
        openSession();
      }
      return;
    }
    refresh();  // children changed
  }

  void openSession() {
    if (closed_) return;
    zoo_set_debug_level(ZOO_LOG_LEVEL_ERROR);
    int timeoutMs = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(sessionTimeout_).count());
    handle_ = zookeeper_init(url_.servers.c_str(), &Group::watch, timeoutMs, nullptr, this, 0);
    if (handle_ == nullptr) spdlog::error("zookeeper_init({}) failed: {}", url_.servers, std::strerror(errno));
  }

  bool connected() const { return handle_ != nullptr && zoo_state(handle_) == ZOO_CONNECTED_STATE; }

  void ensurePath() {
    std::string prefix;
    size_t start = 1;
    while (start <= url_.path.size()) {
      size_t slash = url_.path.find('/', start);
      prefix = url_.path.substr(0, slash);
      int rc = zoo_create(handle_, prefix.c_str(), nullptr, -1, &ZOO_OPEN_ACL_UNSAFE, 0, nullptr, 0);
      if (rc != ZOK && rc != ZNODEEXISTS) spdlog::warn("Creating {} in ZooKeeper: {}", prefix, zerror(rc));
      if (slash == std::string::npos) break;
      start = slash + 1;
    }
  }

  void join() {
    if (!connected() || memberData_.empty() || !myMember_.empty()) return;
    ensurePath();
    std::string prefix = url_.path + "/" + std::string(kMemberPrefix);
    std::vector<char> created(prefix.size() + 32);
    int rc = zoo_create(handle_, prefix.c_str(), memberData_.data(), static_cast<int>(memberData_.size()),
                        &ZOO_OPEN_ACL_UNSAFE, ZOO_EPHEMERAL_SEQUENTIAL, created.data(),
                        static_cast<int>(created.size()));
    if (rc != ZOK) {
      spdlog::warn("Joining the ZooKeeper group {}: {}", url_.path, zerror(rc));
      return;
    }
    std::string path(created.data());
    setMember(path.substr(path.rfind('/') + 1));
    spdlog::info("Joined ZooKeeper group {} as {}", url_.path, myMember_);
  }

  static void childWatch(zhandle_t* zh, int type, int state, const char* path, void* context) {
    watch(zh, type, state, path, context);
  }

  void refresh() {
    if (!connected()) return;
    String_vector children{};
    int rc = zoo_wget_children(handle_, url_.path.c_str(), &Group::childWatch, this, &children);
    if (rc == ZNONODE) {
      ensurePath();
      rc = zoo_wget_children(handle_, url_.path.c_str(), &Group::childWatch, this, &children);
    }
    if (rc != ZOK) {
      spdlog::warn("Listing ZooKeeper group {}: {}", url_.path, zerror(rc));
      return;
    }
    std::vector<std::string> names(children.data, children.data + children.count);
    deallocate_String_vector(&children);
    std::optional<std::string> leader = leadingMember(names);
    notifyElected(leader && *leader == myMember_ && !myMember_.empty());
    std::optional<std::string> data;
    if (leader) {
      std::vector<char> buffer(64 * 1024);
      int length = static_cast<int>(buffer.size());
      rc = zoo_get(handle_, (url_.path + "/" + *leader).c_str(), 0, buffer.data(), &length, nullptr);
      if (rc == ZNONODE) return refresh();  // the leader left meanwhile
      if (rc != ZOK) return;
      data = std::string(buffer.data(), static_cast<size_t>(std::max(length, 0)));
    }
    notifyLeader(data);
  }

  std::string memberPath() const override {
    std::lock_guard lock(memberMutex_);
    return myMember_.empty() ? std::string() : url_.path + "/" + myMember_;
  }

  void setMember(std::string member) {
    std::lock_guard lock(memberMutex_);
    myMember_ = std::move(member);
  }

  void notifyElected(bool elected) {
    if (!onElected_ || elected == elected_) return;
    elected_ = elected;
    asio::post(loop_, [self = shared_from_this(), elected] {
      if (!self->closed_ && self->onElected_) self->onElected_(elected);
    });
  }

  void notifyLeader(const std::optional<std::string>& data) {
    if (!onLeader_ || (reported_ && data == lastLeaderData_)) return;
    reported_ = true;
    lastLeaderData_ = data;
    std::optional<v1::MasterInfo> leader;
    if (data) {
      v1::MasterInfo info;
      if (parseJsonMessage(*data, &info)) {
        leader = info;
      } else {
        spdlog::warn("Leader znode does not hold MasterInfo JSON");
      }
    }
    asio::post(loop_, [self = shared_from_this(), leader] {
      if (!self->closed_ && self->onLeader_) self->onLeader_(leader);
    });
  }

  asio::io_context& loop_;
  ZooKeeperUrl url_;
  Duration sessionTimeout_;
  asio::thread_pool worker_{1};
  std::atomic<bool> closed_{false};
  // Worker-owned state.
  zhandle_t* handle_ = nullptr;
  std::string memberData_;
  std::string myMember_;  // written on the worker under memberMutex_, read anywhere under it
  mutable std::mutex memberMutex_;
  bool elected_ = false;
  bool reported_ = false;
  std::optional<std::string> lastLeaderData_;
  ElectionCallback onElected_;
  LeaderCallback onLeader_;
};

class GroupContender final : public Contender {
 public:
  GroupContender(std::shared_ptr<ZooKeeperGroup> group, v1::MasterInfo info)
      : group_(std::move(group)), info_(std::move(info)) {}
  void start(ElectionCallback onChange) override { group_->contend(info_, std::move(onChange)); }
  void stop() override { group_->close(); }

 private:
  std::shared_ptr<ZooKeeperGroup> group_;
  v1::MasterInfo info_;
};

class GroupDetector final : public Detector {
 public:
  explicit GroupDetector(std::shared_ptr<ZooKeeperGroup> group) : group_(std::move(group)) {}
  void start(LeaderCallback onChange) override { group_->detect(std::move(onChange)); }
  void stop() override { group_->close(); }

 private:
  std::shared_ptr<ZooKeeperGroup> group_;
};

}  // namespace

Result<std::shared_ptr<ZooKeeperGroup>> ZooKeeperGroup::create(asio::io_context& loop, const ZooKeeperUrl& url,
                                                               Duration sessionTimeout) {
  if (url.servers.empty()) return Status::invalidArgument("No ZooKeeper servers given");
  auto group = std::make_shared<Group>(loop, url, sessionTimeout);
  group->open();
  return std::shared_ptr<ZooKeeperGroup>(group);
}

std::unique_ptr<Contender> makeZooKeeperContender(std::shared_ptr<ZooKeeperGroup> group, v1::MasterInfo info) {
  return std::make_unique<GroupContender>(std::move(group), std::move(info));
}

std::unique_ptr<Detector> makeZooKeeperDetector(std::shared_ptr<ZooKeeperGroup> group) {
  return std::make_unique<GroupDetector>(std::move(group));
}

}  // namespace mezzo::ha
