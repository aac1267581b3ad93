// An invariant check for the fuzz targets that stays on in every build type (assert() does not) and
// says which invariant broke and for what input before aborting, so that libFuzzer saves the input.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace actsearch::fuzz {

[[noreturn]] inline void fail(const char* what, std::string_view input, std::string_view detail = {}) {
    std::fprintf(stderr, "fuzz invariant broken: %s\n  input: %.*s\n  detail: %.*s\n", what,
                 static_cast<int>(input.size() > 2000 ? 2000 : input.size()), input.data(),
                 static_cast<int>(detail.size() > 2000 ? 2000 : detail.size()), detail.data());
    std::abort();
}

}  // namespace actsearch::fuzz
