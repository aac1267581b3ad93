// Compatibility with what databases already store: for a fixed set of expressions (named functions,
// random expressions, and candidates spread over every built-in space), the printer's text, the
// canonical string, its structural hash and the fingerprint must be byte-identical to the values
// computed before trainable parameters could carry initial values (tests/grammar/data/
// compat_golden.tsv, written by compat_golden_gen.cpp beside it from main at 33e11f0).
#include <cstdint>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <variant>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "actsearch/grammar/fingerprint.hpp"
#include "actsearch/grammar/parse.hpp"
#include "actsearch/grammar/print.hpp"
#include "actsearch/grammar/space.hpp"

namespace actsearch {
namespace {

std::vector<std::string> split_tabs(const std::string& line) {
    std::vector<std::string> fields;
    std::size_t start = 0;
    for (std::size_t tab = line.find('\t'); tab != std::string::npos; tab = line.find('\t', start)) {
        fields.push_back(line.substr(start, tab - start));
        start = tab + 1;
    }
    fields.push_back(line.substr(start));
    return fields;
}

// The line the generator writes for `e`, from KIND and INPUT on.
std::string describe(const std::string& kind, const std::string& input, const Expr& e) {
    const Expr c = canonicalize(e);
    const Fingerprint fp = fingerprint(e);
    return fmt::format("{}\t{}\t{}\t{}\t{:016x}\t{:016x}\t{}\t{}", kind, input, to_infix(e), to_infix(c),
                       structural_hash(c), fp.hash, fp.valid ? 1 : 0, fp.reason);
}

TEST(Compat, CanonicalFormsHashesAndFingerprintsOfStoredKindsAreUnchanged) {
    std::ifstream in(std::string(ACTSEARCH_SOURCE_DIR) + "/tests/grammar/data/compat_golden.tsv");
    ASSERT_TRUE(in) << "tests/grammar/data/compat_golden.tsv is missing";
    std::map<std::string, Space> spaces;
    int checked = 0, with_beta = 0, per_space[4] = {0, 0, 0, 0};
    for (std::string line; std::getline(in, line);) {
        const std::vector<std::string> f = split_tabs(line);
        ASSERT_EQ(f.size(), 8u) << line;
        Expr e;
        if (f[0] == "expr") {
            const ParseResult r = parse(f[1]);
            ASSERT_TRUE(r.ok()) << f[1] << ": " << r.error().message;
            e = r.expr();
        } else {
            ASSERT_EQ(f[0], "space") << line;
            const std::size_t colon = f[1].find(':');
            const std::string name = f[1].substr(0, colon);
            if (!spaces.count(name)) {
                auto loaded = load_space(name);
                ASSERT_TRUE(std::holds_alternative<Space>(loaded)) << name;
                spaces.emplace(name, std::get<Space>(std::move(loaded)));
            }
            const Space& s = spaces.at(name);
            e = s.build(s.decode(std::stoull(f[1].substr(colon + 1))));
            ++per_space[name == "paper-core1" ? 0 : name == "hard" ? 1 : name == "aquasurf" ? 2 : 3];
        }
        EXPECT_EQ(describe(f[0], f[1], e), line);
        with_beta += e.beta_count() > 0;
        ++checked;
    }
    // The file covers what it claims: named and random expressions with and without betas, every space.
    EXPECT_GT(checked, 1000);
    EXPECT_GT(with_beta, 100);
    for (int n : per_space) EXPECT_GT(n, 100);
}

}  // namespace
}  // namespace actsearch
