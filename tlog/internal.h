// Helpers shared by tlog/*.cc, not part of the library's interface. Debian's Abseil is built
// with its own absl::string_view (not an alias of std::string_view), so absl::StrCat, StrSplit,
// base64 and number parsing need the conversion at the call.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/string_view.h"

namespace crossclear::tlog::internal {

// OpenSSL failing to hash or sign with a valid key means a broken process (no provider, out of
// memory): a bug or a broken install, never bad input, so it aborts naming the call.
[[noreturn]] inline void OpenSslFailed(const char* what) {
  std::fprintf(stderr, "crossclear tlog: OpenSSL %s failed\n", what);
  std::abort();
}

inline absl::string_view Abs(std::string_view s) { return absl::string_view(s.data(), s.size()); }
inline std::string_view Std(absl::string_view s) { return std::string_view(s.data(), s.size()); }

// Canonical standard base64 (RFC 4648 §4, padded) only: a decoder that tolerates missing padding
// or stray low bits would let two texts carry one value, and these texts are what gets signed.
inline bool DecodeBase64Strict(std::string_view text, std::string* out) {
  return absl::Base64Unescape(Abs(text), out) && absl::Base64Escape(*out) == Abs(text);
}

// Splits at every `sep` (empty pieces kept): "a\n\nb" gives {"a", "", "b"}.
inline std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  for (size_t at; (at = s.find(sep)) != std::string_view::npos; s.remove_prefix(at + 1)) {
    parts.push_back(s.substr(0, at));
  }
  parts.push_back(s);
  return parts;
}

}  // namespace crossclear::tlog::internal
