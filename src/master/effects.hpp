// Effects: what the pure master core asks the outside world to do.
//
// MasterCore appends effects while it handles an event; the daemon drains
// them in order after each call and performs them (write an event to a
// framework's stream, a message to an agent's stream, close a stream).
// Order matters: an ERROR event queued before a CloseStream is delivered
// before the stream is closed.
//
// Thread-safety: plain values.
#pragma once

#include <string>
#include <variant>
#include <vector>

#include "mezzo/internal/agent_protocol.pb.h"
#include "mezzo/internal/registry.pb.h"
#include "mezzo/v1/scheduler/scheduler.pb.h"

namespace mezzo::master {

struct SendFrameworkEvent {
  std::string streamId;
  v1::scheduler::Event event;
};

struct SendAgentEvent {
  std::string streamId;
  internal::AgentEvent event;
};

struct CloseStream {
  std::string streamId;
};

// Make a registry operation durable, then report back with
// MasterCore::registryOperationDone(ticket, status).
struct PersistRegistry {
  uint64_t ticket = 0;
  internal::RegistryOperation operation;
};

// The master must stop (Mesos exits; a supervisor restarts it and a standby
// takes over meanwhile), e.g. when too many agents failed to come back.
struct Abort {
  std::string reason;
};

using Effect = std::variant<SendFrameworkEvent, SendAgentEvent, CloseStream, PersistRegistry, Abort>;
using Effects = std::vector<Effect>;

}  // namespace mezzo::master
