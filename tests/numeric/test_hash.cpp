// The FNV-1a digest behind task-file identities (name@hash, stored in databases): its values are
// pinned, computed independently (a few lines of Python over the same definition).
#include <gtest/gtest.h>

#include <string>

#include "actsearch/numeric/hash.hpp"

namespace actsearch::numeric {
namespace {

std::uint64_t digest(std::initializer_list<std::string> fields) {
    Fnv64 h;
    for (const std::string& f : fields) h.text(f);
    return h.value();
}

TEST(Fnv64, ValuesArePinned) {
    EXPECT_EQ(digest({""}), 0xaf63bd4c8601b7dfull);
    EXPECT_EQ(digest({"abc"}), 0xfc17b883ee074f58ull);
    // Whole 8-byte words and a tail; two fields.
    EXPECT_EQ(digest({"name=t format=idx", "0123456789abc"}), 0xa431eb8949738383ull);
    // The length ends each field: moving a byte across the boundary changes the digest.
    EXPECT_NE(digest({"ab", "c"}), digest({"a", "bc"}));
}

}  // namespace
}  // namespace actsearch::numeric
