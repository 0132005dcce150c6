// AgentEmulator (see agent_emulator.hpp).
#include "agent_emulator.hpp"

#include "mezzo/common/codec.hpp"
#include "mezzo/common/resources.hpp"
#include "mezzo/internal/agent_protocol.pb.h"

namespace mezzo::bench {

namespace {

constexpr int kMaxAttempts = 20;
constexpr auto kRetryDelay = std::chrono::milliseconds(200);
const char* const kFrameworkId = "bench-framework";

}  // namespace

struct AgentEmulator::Agent {
  size_t index = 0;
  std::string id;  // set by the first REGISTERED
  std::string streamId;
  std::shared_ptr<net::HttpStream> stream;
  RecordIoDecoder decoder;
  bool registered = false;  // this round
  bool over = false;        // this round's registration succeeded or gave up
  int attempts = 0;
  uint64_t generation = 0;  // callbacks of older streams are ignored
  std::unique_ptr<boost::asio::steady_timer> retryTimer;
};

AgentEmulator::AgentEmulator(boost::asio::io_context& io, net::Endpoint master, EmulatorOptions options)
    : io_(io), master_(std::move(master)), options_(options) {
  for (size_t i = 0; i < options_.agents; ++i) {
    auto agent = std::make_unique<Agent>();
    agent->index = i;
    agent->retryTimer = std::make_unique<boost::asio::steady_timer>(io_);
    agents_.push_back(std::move(agent));
  }
}

AgentEmulator::~AgentEmulator() = default;

void AgentEmulator::registerAll(Mode mode, std::function<void()> done) {
  mode_ = mode;
  done_ = std::move(done);
  registered_ = 0;
  failed_ = 0;
  finished_ = 0;
  inFlight_ = 0;
  waiting_.clear();
  for (auto& agent : agents_) {
    agent->registered = false;
    agent->over = false;
    agent->attempts = 0;
    waiting_.push_back(agent->index);
  }
  startMore();
}

void AgentEmulator::closeAll() {
  for (auto& agent : agents_) {
    ++agent->generation;
    agent->retryTimer->cancel();
    if (auto stream = std::move(agent->stream)) stream->close();
    agent->registered = false;
  }
  registered_ = 0;
}

void AgentEmulator::startMore() {
  while (inFlight_ < options_.concurrency && !waiting_.empty()) {
    Agent& agent = *agents_[waiting_.front()];
    waiting_.pop_front();
    ++inFlight_;
    connect(agent);
  }
}

std::string AgentEmulator::registerBody(const Agent& agent) const {
  internal::AgentCall call;
  call.set_protocol_version(internal::PROTOCOL_VERSION_CURRENT);
  call.set_type(internal::AgentCall::REGISTER);
  auto* reg = call.mutable_register_();
  v1::AgentInfo* info = reg->mutable_agent_info();
  info->set_hostname("emulated-" + std::to_string(agent.index));
  info->set_port(static_cast<int32_t>(10'000 + agent.index % 50'000));
  Resources::parse("cpus:16;mem:16384")->toProto(info->mutable_resources());
  reg->set_version("1.11.0");
  if (!agent.id.empty()) {
    info->mutable_id()->set_value(agent.id);
    call.mutable_agent_id()->set_value(agent.id);
  }
  if (mode_ == Mode::kReregisterWithTasks && !agent.id.empty()) {
    v1::FrameworkInfo* framework = reg->add_frameworks();
    framework->mutable_id()->set_value(kFrameworkId);
    framework->set_name("bench");
    framework->set_user("bench");
    framework->set_role("*");
    framework->set_checkpoint(true);
    framework->set_failover_timeout(3600);
    static const Resources taskResources = Resources::parse("cpus:1;mem:128")->withAllocationRole("*");
    for (size_t t = 0; t < options_.tasksPerAgent; ++t) {
      v1::Task* task = reg->add_tasks();
      std::string name = "task-" + std::to_string(agent.index) + "-" + std::to_string(t);
      task->set_name(name);
      task->mutable_task_id()->set_value(name);
      task->mutable_framework_id()->set_value(kFrameworkId);
      task->mutable_agent_id()->set_value(agent.id);
      task->set_state(v1::TASK_RUNNING);
      taskResources.toProto(task->mutable_resources());
    }
  }
  return call.SerializeAsString();
}

void AgentEmulator::connect(Agent& agent) {
  ++agent.attempts;
  const uint64_t generation = ++agent.generation;
  agent.decoder = RecordIoDecoder();
  agent.streamId.clear();
  net::ClientRequest request;
  request.target = "/internal/v1/agent";
  request.headers = {{"Content-Type", std::string(kProtobufMediaType)},
                     {"Accept", std::string(kProtobufMediaType)}};
  request.body = registerBody(agent);
  request.timeout = std::chrono::seconds(60);
  net::HttpStream::Callbacks callbacks;
  Agent* self = &agent;
  callbacks.onResponse = [self, generation](const net::ClientResponse& head) {
    if (generation == self->generation && head.status == 200) self->streamId = head.header("Mesos-Stream-Id");
  };
  callbacks.onData = [this, self, generation](std::string_view data) {
    if (generation == self->generation) onRecords(*self, data);
  };
  callbacks.onClose = [this, self, generation](const Status&) {
    if (generation != self->generation) return;
    self->stream.reset();
    if (!self->registered) return onRegistrationOver(*self, false);
    self->registered = false;
    --registered_;
  };
  agent.stream = net::HttpStream::open(io_, master_, std::move(request), std::move(callbacks));
}

void AgentEmulator::onRecords(Agent& agent, std::string_view data) {
  auto records = agent.decoder.feed(data);
  if (!records) return;
  for (const std::string& record : *records) {
    internal::AgentEvent event;
    if (!event.ParseFromString(record)) continue;
    if (event.type() == internal::AgentEvent::REGISTERED && !agent.registered) {
      agent.id = event.registered().agent_id().value();
      agent.registered = true;
      ++registered_;
      lastRegistered_ = std::chrono::steady_clock::now();
      onRegistrationOver(agent, true);
    } else if (event.type() == internal::AgentEvent::PING) {
      pong(agent);
    }
  }
}

void AgentEmulator::onRegistrationOver(Agent& agent, bool ok) {
  if (agent.over) return;
  if (!ok && agent.attempts < kMaxAttempts) return retryLater(agent);
  agent.over = true;
  if (!ok) ++failed_;
  --inFlight_;
  ++finished_;
  startMore();
  if (finished_ == agents_.size() && done_) std::exchange(done_, nullptr)();
}

void AgentEmulator::retryLater(Agent& agent) {
  Agent* self = &agent;
  agent.retryTimer->expires_after(kRetryDelay);
  agent.retryTimer->async_wait([this, self](boost::system::error_code ec) {
    if (!ec) connect(*self);
  });
}

void AgentEmulator::pong(const Agent& agent) {
  internal::AgentCall call;
  call.set_protocol_version(internal::PROTOCOL_VERSION_CURRENT);
  call.set_type(internal::AgentCall::PONG);
  call.mutable_agent_id()->set_value(agent.id);
  net::ClientRequest request;
  request.target = "/internal/v1/agent";
  request.headers = {{"Content-Type", std::string(kProtobufMediaType)}, {"Mesos-Stream-Id", agent.streamId}};
  request.body = call.SerializeAsString();
  request.timeout = std::chrono::seconds(10);
  net::httpRequest(io_, master_, std::move(request), [this](Result<net::ClientResponse> response) {
    if (response && response->status == 202) ++pongs_;
  });
}

}  // namespace mezzo::bench
