// The in-memory registry store: for tests only. It keeps the serialized log
// and snapshot exactly as a durable store would, so recover() exercises the
// same replay path.
#include "store/registry.hpp"

#include <vector>

namespace mezzo::store {

namespace {

class InMemoryRegistryStore final : public RegistryStore {
 public:
  Result<RegistryState> recover() override {
    internal::RegistrySnapshot snapshot;
    if (!snapshot.ParseFromString(snapshot_)) return Status::internal("In-memory registry snapshot is corrupt");
    auto state = RegistryState::fromSnapshot(snapshot);
    if (!state) return state.status();
    for (const std::string& record : log_) {
      internal::RegistryOperation operation;
      if (!operation.ParseFromString(record)) return Status::internal("In-memory registry log is corrupt");
      Status applied = state->apply(operation);
      if (!applied) return Status::internal("Registry log does not replay: " + applied.message());
    }
    return state;
  }

  Status append(const internal::RegistryOperation& operation) override {
    log_.push_back(operation.SerializeAsString());
    return Status::ok();
  }

  Status compact(const RegistryState& state) override {
    snapshot_ = state.toSnapshot().SerializeAsString();
    log_.clear();
    return Status::ok();
  }

  size_t logLength() const override { return log_.size(); }
  std::string name() const override { return "in_memory"; }

 private:
  std::string snapshot_;
  std::vector<std::string> log_;
};

}  // namespace

std::unique_ptr<RegistryStore> makeInMemoryRegistryStore() { return std::make_unique<InMemoryRegistryStore>(); }

}  // namespace mezzo::store
