// Bytes: shared immutable buffers, however they were made.
#include "core/bytes.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "core/memory/memory_limit.h"

namespace otlpgate {
namespace {

TEST(BytesTest, AdoptedAndWrittenBuffersReadAlike) {
  const Bytes a = Bytes::adopt(std::string("request bytes"));
  const Bytes w = Bytes::write(13, [](char* p) { std::memcpy(p, "request bytes", 13); });
  EXPECT_EQ(a.view(), "request bytes");
  EXPECT_EQ(w.view(), "request bytes");
  EXPECT_EQ(w.size(), 13u);
  EXPECT_FALSE(a.same_storage(w));
  const Bytes copy = w;
  EXPECT_TRUE(copy.same_storage(w));
  EXPECT_EQ(w.use_count(), 2);
}

TEST(BytesTest, EmptyBuffers) {
  EXPECT_TRUE(Bytes().empty());
  EXPECT_EQ(Bytes().view(), "");
  EXPECT_TRUE(Bytes::write(0, [](char*) {}).empty());
  EXPECT_TRUE(Bytes::adopt(std::string()).empty());
}

TEST(BytesTest, AChargeIsHeldUntilTheLastCopyGoesWhateverMadeTheBuffer) {
  const auto limit = memory::MemoryLimit::create(1000);
  {
    const Bytes w = Bytes::write(100, [](char* p) { std::memset(p, 'x', 100); });
    Bytes charged = w.charged_to(limit.get());
    EXPECT_TRUE(charged.same_storage(w));
    EXPECT_EQ(charged.view(), std::string(100, 'x'));
    EXPECT_EQ(limit->used(), 100u);
    const Bytes again = charged;
    charged = Bytes();
    EXPECT_EQ(limit->used(), 100u) << "a copy still holds it";
  }
  EXPECT_EQ(limit->used(), 0u);
}

}  // namespace
}  // namespace otlpgate
