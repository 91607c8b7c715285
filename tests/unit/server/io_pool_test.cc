// IoPool shuts down with operations still pending that hold objects of other contexts, in both
// directions, as the listeners leave them at a stop: an accept on context 0 for a socket of
// context 1, and a handler on context 1 holding the acceptor of context 0. Under ASan (the second
// build of ./script/test) destroying one context before the other had abandoned its operations was
// a heap-use-after-free at exit (seen in CI as a failed exit of the drained gateway).
#include <memory>

#include <gtest/gtest.h>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "server/io_pool.h"

namespace otlpgate::server {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

TEST(IoPool, StopsWithOperationsHoldingObjectsOfOtherContexts) {
  std::weak_ptr<tcp::acceptor> acceptor_seen;
  std::weak_ptr<asio::steady_timer> timer_seen;
  {
    IoPool pool(2);
    auto acceptor = std::make_shared<tcp::acceptor>(
        pool.context(0), tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    auto timer = std::make_shared<asio::steady_timer>(pool.context(1), std::chrono::hours(1));
    acceptor_seen = acceptor;
    timer_seen = timer;
    // Context 0: an accept whose socket will belong to context 1; it holds the timer of context 1.
    acceptor->async_accept(pool.context(1), [timer](boost::system::error_code, tcp::socket) {});
    // Context 1: a wait that holds the acceptor of context 0.
    timer->async_wait([acceptor](boost::system::error_code) {});
    pool.start();
    pool.stop();  // neither operation completed: both are still pending when the pool goes
  }
  // Every pending handler was destroyed, and with it what it held.
  EXPECT_TRUE(acceptor_seen.expired());
  EXPECT_TRUE(timer_seen.expired());
}

}  // namespace
}  // namespace otlpgate::server
