#include "master/registrar.hpp"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

namespace mezzo::master {

namespace asio = boost::asio;

Registrar::Registrar(asio::io_context& loop, std::unique_ptr<store::RegistryStore> store, size_t compactEvery)
    : loop_(loop), store_(std::move(store)), compactEvery_(compactEvery) {}

Registrar::~Registrar() { worker_.join(); }

Result<store::RegistryState> Registrar::recover() {
  auto state = store_->recover();
  if (state) state_ = *state;
  return state;
}

void Registrar::append(internal::RegistryOperation operation, std::function<void(const Status&)> done) {
  asio::post(worker_, [this, operation = std::move(operation), done = std::move(done)]() mutable {
    Status status = store_->append(operation);
    if (status) {
      Status applied = state_.apply(operation);
      if (!applied) spdlog::error("Registry operation stored but does not apply: {}", applied.message());
      if (store_->logLength() >= compactEvery_) {
        Status compacted = store_->compact(state_);
        if (!compacted) spdlog::warn("Registry compaction failed: {}", compacted.message());
      }
    }
    asio::post(loop_, [done = std::move(done), status] { done(status); });
  });
}

}  // namespace mezzo::master
