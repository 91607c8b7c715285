// Compression round trips, output limits (bombs stop at the limit) and bad input statuses.
#include "core/compression/compression.h"

#include <cstdint>
#include <random>
#include <string>

#include <gtest/gtest.h>
#include <zlib.h>
#include <zstd.h>

namespace otlpgate::compression {
namespace {

// Compressible but not trivial: words with random separators, like attribute-heavy OTLP.
std::string sample(std::size_t n, uint32_t seed = 1) {
  std::mt19937 rng(seed);
  static const char* words[] = {"service.name", "checkout",     "http.route",   "/api/v1/orders",
                                "200",          "k8s.pod.name", "\x01\x02\x03", "span"};
  std::string s;
  while (s.size() < n) {
    s += words[rng() % 8];
    s.push_back(static_cast<char>(rng() & 0xff));
  }
  s.resize(n);
  return s;
}

class RoundTrip : public ::testing::TestWithParam<Codec> {};

TEST_P(RoundTrip, DecompressGivesBackTheInput) {
  for (std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{1000}, std::size_t{3} << 20}) {
    const std::string in = sample(n, static_cast<uint32_t>(n));
    std::string packed, back;
    ASSERT_TRUE(compress(GetParam(), in, packed).ok());
    const Result r = decompress(GetParam(), packed, back, in.size());
    ASSERT_TRUE(r.ok()) << n << ": " << r.message;
    EXPECT_EQ(back, in) << n;
  }
}

TEST_P(RoundTrip, OneByteOverTheLimitIsTooLarge) {
  const std::string in = sample(100000);
  std::string packed, back;
  ASSERT_TRUE(compress(GetParam(), in, packed).ok());
  EXPECT_TRUE(decompress(GetParam(), packed, back, in.size()).ok());
  const Result r = decompress(GetParam(), packed, back, in.size() - 1);
  EXPECT_EQ(r.status, Status::too_large);
  EXPECT_NE(r.message.find("limit"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Codecs, RoundTrip,
                         ::testing::Values(Codec::none, Codec::gzip, Codec::deflate, Codec::zstd),
                         [](const auto& info) {
                           return info.param == Codec::none ? std::string("none")
                                                            : std::string(codec_name(info.param));
                         });

class Compressed : public ::testing::TestWithParam<Codec> {};

TEST_P(Compressed, BombStopsAtTheLimitWithoutGrowingPastIt) {
  // 256 MiB of zeros compresses to about 256 KiB (deflate) or far less (zstd); made in steps.
  const std::string chunk(64 << 20, '\0');
  std::string packed;
  if (GetParam() == Codec::zstd) {
    std::unique_ptr<ZSTD_CCtx, std::size_t (*)(ZSTD_CCtx*)> c(ZSTD_createCCtx(), &ZSTD_freeCCtx);
    std::string buf(ZSTD_CStreamOutSize(), '\0');
    for (int i = 0; i < 4; ++i) {
      ZSTD_inBuffer in{chunk.data(), chunk.size(), 0};
      const auto mode = i == 3 ? ZSTD_e_end : ZSTD_e_continue;
      std::size_t left;
      do {
        ZSTD_outBuffer out{buf.data(), buf.size(), 0};
        left = ZSTD_compressStream2(c.get(), &out, &in, mode);
        ASSERT_FALSE(ZSTD_isError(left));
        packed.append(buf.data(), out.pos);
      } while (in.pos < in.size || (mode == ZSTD_e_end && left != 0));
    }
  } else {
    z_stream zs{};
    ASSERT_EQ(deflateInit2(&zs, 1, Z_DEFLATED, GetParam() == Codec::gzip ? 31 : 15, 9,
                           Z_DEFAULT_STRATEGY),
              Z_OK);
    std::string buf(1 << 20, '\0');
    for (int i = 0; i < 4; ++i) {
      zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(chunk.data()));
      zs.avail_in = static_cast<uInt>(chunk.size());
      const int flush = i == 3 ? Z_FINISH : Z_NO_FLUSH;
      int rc;
      do {
        zs.next_out = reinterpret_cast<Bytef*>(buf.data());
        zs.avail_out = static_cast<uInt>(buf.size());
        rc = deflate(&zs, flush);
        packed.append(buf.data(), buf.size() - zs.avail_out);
      } while (zs.avail_in > 0 || (flush == Z_FINISH && rc != Z_STREAM_END));
    }
    deflateEnd(&zs);
  }
  ASSERT_LT(packed.size(), 2u << 20);

  std::string out;
  const std::size_t limit = 20 << 20;
  const Result r = decompress(GetParam(), packed, out, limit);
  EXPECT_EQ(r.status, Status::too_large);
  EXPECT_LE(out.capacity(), limit + 64);  // never held more than the limit
}

TEST_P(Compressed, TruncatedStreamIsTruncated) {
  const std::string in = sample(200000);
  std::string packed, out;
  ASSERT_TRUE(compress(GetParam(), in, packed).ok());
  for (std::size_t cut : {packed.size() / 2, packed.size() - 1}) {
    const Result r = decompress(GetParam(), std::string_view(packed).substr(0, cut), out, 1 << 30);
    EXPECT_EQ(r.status, Status::truncated) << "cut at " << cut << ": " << r.message;
  }
}

TEST_P(Compressed, EmptyInputIsTruncated) {
  std::string out;
  EXPECT_EQ(decompress(GetParam(), "", out, 1000).status, Status::truncated);
}

TEST_P(Compressed, GarbageIsCorrupt) {
  std::string out;
  const std::string garbage = "this is not a compressed stream at all, just text";
  EXPECT_EQ(decompress(GetParam(), garbage, out, 1 << 20).status, Status::corrupt);
}

TEST_P(Compressed, FlippedPayloadByteIsCorrupt) {
  const std::string in = sample(50000);
  std::string packed, out;
  ASSERT_TRUE(compress(GetParam(), in, packed).ok());
  // Flip a byte in the trailer region (checksum or last block), which every codec verifies.
  packed[packed.size() - 3] = static_cast<char>(packed[packed.size() - 3] ^ 0x55);
  const Result r = decompress(GetParam(), packed, out, 1 << 20);
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.status, Status::too_large);
}

TEST_P(Compressed, TrailingGarbageIsCorrupt) {
  if (GetParam() == Codec::zstd) GTEST_SKIP() << "zstd reads what follows as a next frame";
  std::string packed, out;
  ASSERT_TRUE(compress(GetParam(), sample(1000), packed).ok());
  packed += "junk";
  EXPECT_EQ(decompress(GetParam(), packed, out, 1 << 20).status, Status::corrupt);
}

TEST_P(Compressed, ConcatenatedMembersReadAsOneBody) {
  if (GetParam() == Codec::deflate) GTEST_SKIP() << "zlib has no multi-member form";
  std::string a, b, out;
  ASSERT_TRUE(compress(GetParam(), "hello ", a).ok());
  ASSERT_TRUE(compress(GetParam(), "world", b).ok());
  ASSERT_TRUE(decompress(GetParam(), a + b, out, 100).ok());
  EXPECT_EQ(out, "hello world");
}

INSTANTIATE_TEST_SUITE_P(Codecs, Compressed,
                         ::testing::Values(Codec::gzip, Codec::deflate, Codec::zstd),
                         [](const auto& info) { return std::string(codec_name(info.param)); });

TEST(Deflate, RawDeflateStreamIsAcceptedToo) {
  // Some HTTP clients send RFC 1951 without the zlib wrapper under "deflate".
  const std::string in = sample(10000);
  z_stream zs{};
  ASSERT_EQ(deflateInit2(&zs, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string packed(deflateBound(&zs, in.size()), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(packed.data());
  zs.avail_out = static_cast<uInt>(packed.size());
  ASSERT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  packed.resize(zs.total_out);
  deflateEnd(&zs);
  std::string out;
  const Result r = decompress(Codec::deflate, packed, out, in.size());
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_EQ(out, in);
}

TEST(Gzip, OutputReadableByZlib) {
  // What we send must be plain RFC 1952 that any backend's gzip reader accepts.
  const std::string in = sample(30000);
  std::string packed;
  ASSERT_TRUE(compress(Codec::gzip, in, packed).ok());
  ASSERT_GE(packed.size(), 2u);
  EXPECT_EQ(static_cast<uint8_t>(packed[0]), 0x1f);
  EXPECT_EQ(static_cast<uint8_t>(packed[1]), 0x8b);
  z_stream zs{};
  ASSERT_EQ(inflateInit2(&zs, 31), Z_OK);
  std::string out(in.size(), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(packed.data());
  zs.avail_in = static_cast<uInt>(packed.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(inflate(&zs, Z_FINISH), Z_STREAM_END);
  inflateEnd(&zs);
  EXPECT_EQ(out, in);
}

TEST(None, OverTheLimitIsTooLarge) {
  std::string out;
  EXPECT_EQ(decompress(Codec::none, "12345", out, 4).status, Status::too_large);
  EXPECT_TRUE(decompress(Codec::none, "1234", out, 4).ok());
}

TEST(Names, ContentEncodingTokens) {
  EXPECT_EQ(codec_from_name("GZIP"), Codec::gzip);
  EXPECT_EQ(codec_from_name("x-gzip"), Codec::gzip);
  EXPECT_EQ(codec_from_name("zlib"), Codec::deflate);
  EXPECT_EQ(codec_from_name("deflate"), Codec::deflate);
  EXPECT_EQ(codec_from_name("zstd"), Codec::zstd);
  EXPECT_EQ(codec_from_name("identity"), Codec::none);
  EXPECT_EQ(codec_from_name(""), Codec::none);
  EXPECT_EQ(codec_from_name("snappy"), std::nullopt);
  EXPECT_EQ(codec_name(Codec::zstd), "zstd");
}

}  // namespace
}  // namespace otlpgate::compression
