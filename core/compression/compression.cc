// gzip/zlib compress with libdeflate (one shot, fast); decompress with zlib's streaming inflate
// and zstd's streaming decoder so that the output limit is checked while decoding.
#include "core/compression/compression.h"

#include <algorithm>
#include <cstdint>
#include <memory>

#include <libdeflate.h>
#include <zlib.h>
#include <zstd.h>

namespace otlpgate::compression {
namespace {

// First output reservation; later steps double it up to the limit, so an honest small body does
// not pay for the limit and a bomb never gets more than the limit.
constexpr std::size_t kFirstStep = 64 << 10;

Result fail(Status s, std::string message) { return Result{s, std::move(message)}; }

Result too_large(std::size_t max_out) {
  return fail(Status::too_large,
              "decompressed body exceeds the limit of " + std::to_string(max_out) + " bytes");
}

// Grows `out` (whose first `produced` bytes are valid) for the next step, never beyond cap.
void grow(std::string& out, std::size_t produced, std::size_t cap, std::size_t hint) {
  const std::size_t want = std::min(std::max<std::size_t>({kFirstStep, hint, produced * 2}), cap);
  if (want > out.capacity() && want < out.capacity() * 2) {
    // libstdc++ rounds a growing allocation up to twice the old capacity, which would overshoot
    // the cap on the last step: allocate exactly instead.
    std::string bigger;
    bigger.reserve(want);
    bigger.append(out, 0, produced);
    bigger.resize(want);
    out.swap(bigger);
    return;
  }
  out.resize(want);
}

bool ieq(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// A zlib stream starts with CMF/FLG: method 8 (deflate), window <= 32K, and a header checksum.
bool looks_like_zlib(std::string_view in) {
  if (in.size() < 2) return true;  // too short to tell: let zlib report it as truncated
  const auto cmf = static_cast<uint8_t>(in[0]);
  const auto flg = static_cast<uint8_t>(in[1]);
  return (cmf & 0x0f) == 8 && (cmf >> 4) <= 7 && ((cmf << 8) | flg) % 31 == 0;
}

Result inflate_stream(std::string_view in, std::string& out, std::size_t max_out, int window_bits,
                      bool gzip_members) {
  z_stream zs{};
  if (inflateInit2(&zs, window_bits) != Z_OK) return fail(Status::internal, "inflateInit2 failed");
  std::unique_ptr<z_stream, int (*)(z_stream*)> guard(&zs, &inflateEnd);

  const std::size_t cap = max_out == SIZE_MAX ? max_out : max_out + 1;
  out.clear();
  std::size_t produced = 0;
  // zlib counts in uInt; feed the input in pieces that fit.
  const char* next_in = in.data();
  std::size_t left_in = in.size();
  for (;;) {
    if (produced == out.size()) {
      if (produced >= cap) break;  // cap reached: decided below
      grow(out, produced, cap, in.size() * 4);
    }
    if (zs.avail_in == 0 && left_in > 0) {
      const auto n = static_cast<uInt>(std::min<std::size_t>(left_in, UINT32_MAX));
      zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(next_in));
      zs.avail_in = n;
      next_in += n;
      left_in -= n;
    }
    const auto room = static_cast<uInt>(std::min<std::size_t>(out.size() - produced, UINT32_MAX));
    zs.next_out = reinterpret_cast<Bytef*>(out.data() + produced);
    zs.avail_out = room;
    const int rc = inflate(&zs, Z_NO_FLUSH);
    produced += room - zs.avail_out;
    if (produced > max_out) {
      out.resize(produced);
      return too_large(max_out);
    }
    if (rc == Z_STREAM_END) {
      const std::size_t rest = zs.avail_in + left_in;
      if (rest == 0) break;
      // Another gzip member may follow (gzip -c a >x; gzip -c b >>x); anything else is garbage.
      if (gzip_members && rest >= 2 && static_cast<uint8_t>(*zs.next_in) == 0x1f &&
          static_cast<uint8_t>(zs.next_in[1]) == 0x8b) {
        if (inflateReset(&zs) != Z_OK) return fail(Status::internal, "inflateReset failed");
        continue;
      }
      out.resize(produced);
      return fail(Status::corrupt, "trailing data after the compressed stream");
    }
    if (rc == Z_OK) continue;
    // Z_BUF_ERROR means no progress: with room left in the output that is the input running out
    // (the next step grows a full output instead).
    if (rc == Z_BUF_ERROR && zs.avail_out == 0) continue;
    out.resize(produced);
    if (rc == Z_BUF_ERROR) return fail(Status::truncated, "compressed stream ends early");
    if (rc == Z_DATA_ERROR || rc == Z_NEED_DICT) {
      return fail(Status::corrupt,
                  std::string("invalid compressed data: ") + (zs.msg ? zs.msg : "bad stream"));
    }
    return fail(Status::internal, "inflate failed with code " + std::to_string(rc));
  }
  out.resize(produced);
  if (produced >= cap) return too_large(max_out);
  return {};
}

Result zstd_stream(std::string_view in, std::string& out, std::size_t max_out) {
  std::unique_ptr<ZSTD_DCtx, std::size_t (*)(ZSTD_DCtx*)> ctx(ZSTD_createDCtx(), &ZSTD_freeDCtx);
  if (!ctx) return fail(Status::internal, "ZSTD_createDCtx failed");
  // The default window limit (128 MiB) bounds the decoder's own memory; the output limit is ours.
  const std::size_t cap = max_out == SIZE_MAX ? max_out : max_out + 1;
  out.clear();
  if (in.empty()) return fail(Status::truncated, "zstd stream is empty");
  std::size_t produced = 0;
  ZSTD_inBuffer src{in.data(), in.size(), 0};
  std::size_t pending = 0;  // ZSTD_decompressStream's hint: 0 once a frame is complete
  while (src.pos < src.size || pending != 0) {
    if (produced == out.size()) grow(out, produced, cap, in.size() * 4);
    ZSTD_outBuffer dst{out.data(), out.size(), produced};
    const std::size_t in_before = src.pos;
    pending = ZSTD_decompressStream(ctx.get(), &dst, &src);
    if (ZSTD_isError(pending)) {
      out.resize(dst.pos);
      return fail(Status::corrupt, std::string("invalid zstd data: ") + ZSTD_getErrorName(pending));
    }
    const bool progress = dst.pos != produced || src.pos != in_before;
    produced = dst.pos;
    if (produced > max_out) {
      out.resize(produced);
      return too_large(max_out);
    }
    if (!progress) break;  // input used up in the middle of a frame
  }
  out.resize(produced);
  if (pending != 0) return fail(Status::truncated, "zstd stream ends early");
  return {};
}

}  // namespace

std::optional<Codec> codec_from_name(std::string_view name) {
  if (name.empty() || ieq(name, "identity")) return Codec::none;
  if (ieq(name, "gzip") || ieq(name, "x-gzip")) return Codec::gzip;
  if (ieq(name, "deflate") || ieq(name, "zlib")) return Codec::deflate;
  if (ieq(name, "zstd")) return Codec::zstd;
  return std::nullopt;
}

std::string_view codec_name(Codec c) {
  switch (c) {
    case Codec::none:
      return "";
    case Codec::gzip:
      return "gzip";
    case Codec::deflate:
      return "deflate";
    case Codec::zstd:
      return "zstd";
  }
  return "";
}

std::string_view status_name(Status s) {
  switch (s) {
    case Status::ok:
      return "ok";
    case Status::too_large:
      return "too large";
    case Status::truncated:
      return "truncated";
    case Status::corrupt:
      return "corrupt";
    case Status::unsupported:
      return "unsupported";
    case Status::internal:
      return "internal";
  }
  return "?";
}

Result compress(Codec c, std::string_view in, std::string& out, int level) {
  switch (c) {
    case Codec::none:
      out.assign(in);
      return {};
    case Codec::gzip:
    case Codec::deflate: {
      const int lvl = level == 0 ? 6 : std::clamp(level, 1, 12);
      std::unique_ptr<libdeflate_compressor, void (*)(libdeflate_compressor*)> comp(
          libdeflate_alloc_compressor(lvl), &libdeflate_free_compressor);
      if (!comp) return fail(Status::internal, "libdeflate_alloc_compressor failed");
      const bool gz = c == Codec::gzip;
      const std::size_t bound = gz ? libdeflate_gzip_compress_bound(comp.get(), in.size())
                                   : libdeflate_zlib_compress_bound(comp.get(), in.size());
      out.resize(bound);
      const std::size_t n =
          gz ? libdeflate_gzip_compress(comp.get(), in.data(), in.size(), out.data(), out.size())
             : libdeflate_zlib_compress(comp.get(), in.data(), in.size(), out.data(), out.size());
      if (n == 0) return fail(Status::internal, "libdeflate compression failed");
      out.resize(n);
      return {};
    }
    case Codec::zstd: {
      const int lvl = level == 0 ? 3 : std::clamp(level, 1, ZSTD_maxCLevel());
      out.resize(ZSTD_compressBound(in.size()));
      const std::size_t n = ZSTD_compress(out.data(), out.size(), in.data(), in.size(), lvl);
      if (ZSTD_isError(n)) {
        return fail(Status::internal,
                    std::string("zstd compression failed: ") + ZSTD_getErrorName(n));
      }
      out.resize(n);
      return {};
    }
  }
  return fail(Status::unsupported, "unknown codec");
}

Result decompress(Codec c, std::string_view in, std::string& out, std::size_t max_out) {
  switch (c) {
    case Codec::none:
      if (in.size() > max_out) {
        out.clear();
        return too_large(max_out);
      }
      out.assign(in);
      return {};
    case Codec::gzip:
      return inflate_stream(in, out, max_out, 15 + 16, true);
    case Codec::deflate: {
      if (!looks_like_zlib(in)) return inflate_stream(in, out, max_out, -15, false);
      Result r = inflate_stream(in, out, max_out, 15, false);
      // A raw stream can pass the two-byte zlib header check by chance (1 in 31 or so).
      if (r.status == Status::corrupt) {
        Result raw = inflate_stream(in, out, max_out, -15, false);
        if (raw.ok() || raw.status == Status::too_large) return raw;
      }
      return r;
    }
    case Codec::zstd:
      return zstd_stream(in, out, max_out);
  }
  return fail(Status::unsupported, "unknown codec");
}

}  // namespace otlpgate::compression
