// StatusUpdateManager: the agent's reliable, ordered delivery of task status
// updates to the master (mesos-reference.md §4.5).
//
// Each task has a FIFO stream of updates. Exactly one update per stream is
// outstanding at a time: the head is handed out by takeDue(), then retried
// with exponential backoff (initialBackoff doubling up to maxBackoff) until
// the master forwards the framework's acknowledgement of that uuid. An
// acknowledgement of the head pops it and makes the next update due at once;
// acknowledgements of anything else are ignored. An update whose uuid is
// already queued or already acknowledged is a duplicate and is dropped. A
// stream ends (and is forgotten) when its terminal update is acknowledged.
//
// takeDue() and nextRetry() cost what is due, not the number of streams
// (thousands of tasks each add and acknowledge several updates).
//
// Pure logic: no I/O, no clock of its own (callers pass `now`), so tests
// drive it with a ManualClock.
//
// Thread-safety: none; owned by the agent's event loop.
#pragma once

#include "mezzo/common/task_states.hpp"

#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "mezzo/common/clock.hpp"
#include "mezzo/common/ids.hpp"
#include "mezzo/v1/mesos.pb.h"

namespace mezzo::agent {

struct StatusUpdateOptions {
  Duration initialBackoff = std::chrono::seconds(10);
  Duration maxBackoff = std::chrono::minutes(10);
};

// One update to send to the master.
struct OutgoingUpdate {
  FrameworkId framework;
  v1::TaskStatus status;
};

class StatusUpdateManager {
 public:
  enum class AddResult { kAdded, kDuplicate };
  enum class AckResult {
    kIgnored,         // unknown stream or not the uuid of the outstanding update
    kAcknowledged,    // head popped; more may follow
    kStreamFinished,  // the terminal update was acknowledged; stream forgotten
  };

  explicit StatusUpdateManager(StatusUpdateOptions options = {}) : options_(options) {}

  // Queues `status` (which must carry a uuid) behind earlier updates of its task.
  AddResult add(const FrameworkId& framework, const v1::TaskStatus& status);
  // True if add() would drop `status` as a duplicate.
  bool isDuplicate(const FrameworkId& framework, const v1::TaskStatus& status) const;

  AckResult acknowledge(const FrameworkId& framework, const TaskId& task, const std::string& uuid);

  // Updates that should go to the master now: heads never sent since the
  // last resetInFlight(), and heads whose retry time has come. Each returned
  // update is marked in flight with its next retry time.
  std::vector<OutgoingUpdate> takeDue(TimePoint now);

  // The earliest retry time of an in-flight update, if any.
  std::optional<TimePoint> nextRetry() const;

  // Marks every head as not yet sent (after the master connection was
  // re-established) and resets backoffs, so takeDue() resends them all.
  void resetInFlight();

  // Drops every stream of `framework` (it was shut down).
  void removeFramework(const FrameworkId& framework);

  // The outstanding (head) update of a task, or nullptr.
  const v1::TaskStatus* head(const FrameworkId& framework, const TaskId& task) const;
  // True while the task has unacknowledged updates.
  bool hasPending(const FrameworkId& framework, const TaskId& task) const;
  bool hasPending(const FrameworkId& framework) const;
  size_t pendingCount() const;

 private:
  struct Stream {
    std::deque<v1::TaskStatus> updates;
    std::set<std::string> acknowledged;  // uuids acked so far, for duplicate detection
    bool inFlight = false;
    TimePoint nextRetry{};
    Duration backoff{};
  };
  using Key = std::pair<FrameworkId, TaskId>;

  void markInFlight(const Key& key, Stream& stream, TimePoint now);

  StatusUpdateOptions options_;
  std::map<Key, Stream> streams_;
  // Indexes that keep takeDue() and nextRetry() from scanning every stream:
  // streams whose head waits for its first send, and in-flight heads by
  // their retry time.
  std::set<Key> unsent_;
  std::set<std::pair<TimePoint, Key>> retries_;
};

inline bool isTerminalTaskState(v1::TaskState state) { return mezzo::isTerminalState(state); }

}  // namespace mezzo::agent
