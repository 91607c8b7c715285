// IoPool implementation.
#include "server/io_pool.h"

namespace otlpgate::server {

IoPool::IoPool(int threads) {
  std::size_t n = threads > 0 ? static_cast<std::size_t>(threads) : std::thread::hardware_concurrency();
  if (n == 0) n = 1;
  for (std::size_t i = 0; i < n; ++i) {
    // Concurrency hint 1: each context is only ever run by its own thread.
    contexts_.push_back(std::make_unique<boost::asio::io_context>(1));
    guards_.emplace_back(contexts_.back()->get_executor());
  }
}

IoPool::~IoPool() {
  stop();
  // Handlers still queued are destroyed with their context, and what they hold may belong to a
  // lower-numbered one (every listener's acceptor lives on context 0, its connections on the
  // others): destroy from the last context to the first, so context 0 outlives them all.
  while (!contexts_.empty()) {
    guards_.pop_back();
    contexts_.pop_back();
  }
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
