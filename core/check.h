// Invariant checks inside core. A violated invariant is a bug, never bad input (input
// errors are Status values), so it aborts at once with a message naming the place.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace crossclear::core::internal {

[[noreturn]] inline void CheckFailed(const char* file, int line, std::string_view what) {
  std::fprintf(stderr, "crossclear invariant violated at %s:%d: %.*s\n", file, line,
               static_cast<int>(what.size()), what.data());
  std::abort();
}

}  // namespace crossclear::core::internal

// CROSSCLEAR_CHECK(cond, message): aborts with `message` (anything convertible to
// std::string_view) when `cond` is false. The message is only built on failure.
#define CROSSCLEAR_CHECK(cond, message)                                                    \
  do {                                                                                     \
    if (!(cond)) ::crossclear::core::internal::CheckFailed(__FILE__, __LINE__, (message)); \
  } while (false)
