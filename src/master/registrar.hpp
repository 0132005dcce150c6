// Registrar: makes registry operations durable off the master's event loop.
//
// recover() runs once at start-up (synchronously, before the master serves).
// append() queues an operation for the worker thread, which writes it to the
// RegistryStore, compacts the log now and then, and posts the outcome back
// to the master's io_context, where `done` runs. Operations are written in
// the order they were appended.
//
// Thread-safety: construct, append and destroy on the master's loop thread;
// the store is touched only by the worker thread after recover().
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>

#include <functional>
#include <memory>

#include "store/registry.hpp"

namespace mezzo::master {

class Registrar {
 public:
  Registrar(boost::asio::io_context& loop, std::unique_ptr<store::RegistryStore> store, size_t compactEvery = 1000);
  ~Registrar();

  Result<store::RegistryState> recover();
  void append(internal::RegistryOperation operation, std::function<void(const Status&)> done);
  std::string storeName() const { return store_->name(); }

 private:
  boost::asio::io_context& loop_;
  std::unique_ptr<store::RegistryStore> store_;
  size_t compactEvery_;
  store::RegistryState state_;  // worker-owned after recover(): what the store holds
  boost::asio::thread_pool worker_{1};
};

}  // namespace mezzo::master
