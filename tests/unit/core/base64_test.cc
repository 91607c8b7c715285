// The one base64 decoder, under the rules of its two users: Firehose record data (strict padding,
// line breaks ignored) and OTLP/JSON bytes fields (URL-safe alphabet too, padding optional).
#include "core/base64.h"

#include <gtest/gtest.h>

#include "core/firehose/request.h"

namespace otlpgate {
namespace {

constexpr Base64Rules kFirehose = firehose::kRecordBase64;
constexpr Base64Rules kJson{.url_safe = true, .padding_optional = true};

std::string decode(std::string_view in, Base64Rules rules) {
  std::string out = "kept:";
  std::size_t bad = 0;
  EXPECT_TRUE(base64_decode(in, out, rules, &bad)) << in << " bad at " << bad;
  EXPECT_EQ(base64_decoded_size(in, rules), out.size() - 5) << in;
  return out.substr(5);
}

std::size_t bad_offset(std::string_view in, Base64Rules rules) {
  std::string out = "kept";
  std::size_t bad = 12345;
  EXPECT_FALSE(base64_decode(in, out, rules, &bad)) << in;
  EXPECT_EQ(out, "kept") << "a failed decode leaves the output as it was";
  return bad;
}

TEST(Base64, Rfc4648VectorsUnderBothRules) {
  for (const Base64Rules rules : {kFirehose, kJson}) {
    EXPECT_EQ(decode("", rules), "");
    EXPECT_EQ(decode("Zg==", rules), "f");
    EXPECT_EQ(decode("Zm8=", rules), "fo");
    EXPECT_EQ(decode("Zm9v", rules), "foo");
    EXPECT_EQ(decode("Zm9vYg==", rules), "foob");
    EXPECT_EQ(decode("Zm9vYmE=", rules), "fooba");
    EXPECT_EQ(decode("Zm9vYmFy", rules), "foobar");
    EXPECT_EQ(decode("//+/", rules), "\xff\xff\xbf");
  }
}

TEST(Base64, FirehoseIsStrictButIgnoresLineBreaks) {
  EXPECT_EQ(decode("Zm9v\r\nYmFy", kFirehose), "foobar");
  EXPECT_EQ(bad_offset("Zm9v!mFy", kFirehose), 4u);
  EXPECT_EQ(bad_offset("Zm9vYg", kFirehose), 6u);    // padding missing
  EXPECT_EQ(bad_offset("Zm9vYg=", kFirehose), 7u);   // half the padding
  EXPECT_EQ(bad_offset("Zg==Zg==", kFirehose), 4u);  // data after the padding
  EXPECT_EQ(bad_offset("Z===", kFirehose), 1u);      // one digit cannot make a byte
  EXPECT_EQ(bad_offset("Zm-_", kFirehose), 2u);      // the URL alphabet is not Firehose's
}

TEST(Base64, JsonTakesTheUrlAlphabetAndMissingPadding) {
  EXPECT_EQ(decode("__-_", kJson), "\xff\xff\xbf");
  EXPECT_EQ(decode("Zm9vYg", kJson), "foob");
  EXPECT_EQ(decode("Zm9vYmE", kJson), "fooba");
  EXPECT_EQ(bad_offset("Zm9vY", kJson), 5u);         // one digit left over
  EXPECT_EQ(bad_offset("Zm9v\nYmFy", kJson), 4u);    // no line breaks in a JSON string
  EXPECT_EQ(bad_offset("Zm9vYg=", kJson), 7u);       // padding, if present, is whole
  EXPECT_EQ(bad_offset("a!==", kJson), 1u);
}

}  // namespace
}  // namespace otlpgate
