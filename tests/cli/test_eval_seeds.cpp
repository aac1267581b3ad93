// `eval --seeds N --threads N` on a convolutional task trains the seeds side by side, one per thread,
// and each seed's result is the bits of that seed trained alone on one thread.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "process.hpp"

namespace actsearch::test {
namespace {

nlohmann::json eval_json(const std::vector<std::string>& extra, const std::filesystem::path& dir) {
    std::vector<std::string> args{"eval", "x*sigmoid(beta*x)", "--task", "fmnist-cnn14", "--steps", "12",
                                  "--no-db", "--format", "json"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto r = run_binary(args, dir);
    EXPECT_EQ(r.status, 0) << r.err;
    return nlohmann::json::parse(r.out);
}

TEST(EvalSeeds, ConvSeedsInParallelEqualEachSeedAlone) {
    if (!std::filesystem::exists("/usr/share/datasets/fashion-mnist"))
        GTEST_SKIP() << "Fashion-MNIST is not installed (bash scripts/setup.sh installs it)";
    ScratchDir dir;
    const auto together = eval_json({"--seeds", "2", "--threads", "2"}, dir.path());
    ASSERT_EQ(together.at("seeds").size(), 2u);
    for (int seed : {0, 1}) {
        const auto alone = eval_json({"--seeds", "1", "--seed", std::to_string(seed), "--threads", "1"}, dir.path());
        const auto& a = alone.at("seeds").at(0);
        const auto& t = together.at("seeds").at(seed);
        EXPECT_EQ(t.at("seed"), seed);
        EXPECT_EQ(a.at("status"), "ok");
        // Exact equality: the JSON carries every bit of a double (shortest round-trip form).
        EXPECT_EQ(t.at("val_acc"), a.at("val_acc")) << "seed " << seed;
        EXPECT_EQ(t.at("val_loss"), a.at("val_loss")) << "seed " << seed;
        EXPECT_EQ(t.at("train_loss"), a.at("train_loss")) << "seed " << seed;
    }
}

}  // namespace
}  // namespace actsearch::test
