// Compression: gzip, zlib ("deflate" in HTTP) and zstd for request and response bodies, with a
// hard limit on decompressed size enforced while decompressing.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace otlpgate::compression {

enum class Codec {
  none,
  gzip,     // RFC 1952; concatenated members are read as one stream, as Go's gzip reader does
  deflate,  // RFC 1950 zlib stream (what HTTP `deflate` and the collector's `zlib` mean); a raw
            // RFC 1951 stream is accepted too when decompressing, since some clients send that
  zstd,     // RFC 8878; concatenated frames are read as one stream
};

// Why an operation failed. Never thrown: every function here returns one of these.
enum class Status {
  ok,
  too_large,    // the decompressed size would exceed the caller's limit (a bomb, or just big)
  truncated,    // the input ended in the middle of the compressed stream
  corrupt,      // the input is not a valid stream of the codec (bad header, checksum, data)
  unsupported,  // the codec is not known here
  internal,     // the library failed for a reason that is not the input's fault (out of memory)
};

struct Result {
  Status status = Status::ok;
  std::string message;  // empty when ok; otherwise says what failed, for logs and 400 bodies
  bool ok() const noexcept { return status == Status::ok; }
};

// "gzip", "deflate", "zlib", "zstd"; "" and "identity" are Codec::none. Case-insensitive, as
// HTTP content codings are. nullopt for anything else (snappy, lz4, br: the caller answers
// 415/400).
std::optional<Codec> codec_from_name(std::string_view name);

// The Content-Encoding / grpc-encoding token: "gzip", "deflate", "zstd", or "" for none.
std::string_view codec_name(Codec c);

// Compresses `in` into `out` (replaced). `level` 0 picks the codec's default (gzip/deflate 6,
// zstd 3). Codec::none copies.
Result compress(Codec c, std::string_view in, std::string& out, int level = 0);

// Decompresses `in` into `out` (replaced). Output is produced in bounded steps and never grows
// past `max_out` + 1 bytes (the one byte tells "exactly at the limit" from "over it"): a stream
// that would produce more than `max_out` stops there with Status::too_large, so a small bomb
// costs no more memory than an honest body of the limit's size. Codec::none copies (and checks the
// limit). On failure `out` holds whatever was decoded so far, which callers must ignore.
Result decompress(Codec c, std::string_view in, std::string& out, std::size_t max_out);

// "ok", "too large", "truncated", "corrupt", "unsupported", "internal".
std::string_view status_name(Status s);

}  // namespace otlpgate::compression
