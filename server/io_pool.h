// IoPool: the I/O threads, one io_context per thread (DESIGN.md "Threads").
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

namespace otlpgate::server {

// One io_context per thread rather than one shared io_context: a connection lives on exactly one
// thread, so its handlers need no strand and a request is decoded, processed and enqueued on the
// thread that read it, with no cross-thread hand-off and no lock in the reactor.
class IoPool {
 public:
  // threads == 0 means one per core.
  explicit IoPool(int threads);
  ~IoPool();
  IoPool(const IoPool&) = delete;
  IoPool& operator=(const IoPool&) = delete;

  void start();
  // Stops every context and joins the threads; idempotent.
  void stop();

  std::size_t size() const { return contexts_.size(); }
  boost::asio::io_context& context(std::size_t i) { return *contexts_[i]; }
  // Round-robin choice for a new connection or component.
  boost::asio::io_context& next();

 private:
  // An io_context whose services can be shut down before any context is destroyed (see ~IoPool).
  class Context : public boost::asio::io_context {
   public:
    using boost::asio::io_context::io_context;
    void shut_down() { shutdown(); }
  };
  using Guard = boost::asio::executor_work_guard<boost::asio::io_context::executor_type>;
  std::vector<std::unique_ptr<Context>> contexts_;
  std::vector<Guard> guards_;
  std::vector<std::thread> threads_;
  std::atomic<std::size_t> next_{0};
};

}  // namespace otlpgate::server
