// IoPool implementation.
#include "server/io_pool.h"

namespace otlpgate::server {

IoPool::IoPool(int threads) {
  std::size_t n = threads > 0 ? static_cast<std::size_t>(threads) : std::thread::hardware_concurrency();
  if (n == 0) n = 1;
  for (std::size_t i = 0; i < n; ++i) {
    // Concurrency hint 1: each context is only ever run by its own thread.
    contexts_.push_back(std::make_unique<Context>(1));
    guards_.emplace_back(contexts_.back()->get_executor());
  }
}

IoPool::~IoPool() {
  stop();
  guards_.clear();
  // Operations still pending hold objects of other contexts in both directions: an accept on
  // context 0 holds the new socket of the context it was bound to, a connection's handler on that
  // context holds its listener, whose acceptor is on context 0. So no context is destroyed while
  // another still holds operations: first every context abandons its operations (what asio does
  // for one context at the start of its destructor, with all services still alive), then they go.
  for (auto& c : contexts_) c->shut_down();
  contexts_.clear();
}

void IoPool::start() {
  for (auto& c : contexts_) {
    threads_.emplace_back([ctx = c.get()] { ctx->run(); });
  }
}

void IoPool::stop() {
  for (auto& g : guards_) g.reset();
  for (auto& c : contexts_) c->stop();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

boost::asio::io_context& IoPool::next() {
  return *contexts_[next_.fetch_add(1, std::memory_order_relaxed) % contexts_.size()];
}

}  // namespace otlpgate::server
