// The training recipe: learning-rate schedule, fidelity keys, gradient clipping and weight decay in
// the trainer, and batch-norm recalibration in the convolutional networks.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include "actsearch/engine/data.hpp"
#include "actsearch/engine/detail/layers.hpp"
#include "actsearch/engine/detail/rng.hpp"
#include "actsearch/engine/detail/trainer.hpp"
#include "actsearch/engine/evaluate.hpp"
#include "actsearch/engine/network.hpp"
#include "actsearch/grammar/parse.hpp"
#include "parsed.hpp"
// Private: downsample() (the task table's data cache, src/engine/src/tasks.hpp) has no public header.
#include "../../src/engine/src/tasks.hpp"

namespace actsearch::engine {
namespace {

using test::compiled;

TEST(Recipe, LearningRateScheduleMatchesHandComputedValues) {
    TrainOptions o;
    o.steps = 10;
    o.lr = 0.1;
    o.warmup = 4;
    o.schedule = Schedule::Constant;
    EXPECT_DOUBLE_EQ(learning_rate(o, 0), 0.025);   // (0 + 1) / 4 of the peak
    EXPECT_DOUBLE_EQ(learning_rate(o, 3), 0.1);
    EXPECT_DOUBLE_EQ(learning_rate(o, 9), 0.1);
    o.schedule = Schedule::Cosine;                  // cosine over the 6 steps after the warm-up
    EXPECT_DOUBLE_EQ(learning_rate(o, 1), 0.05);
    EXPECT_DOUBLE_EQ(learning_rate(o, 4), 0.1);     // t = 0
    EXPECT_NEAR(learning_rate(o, 7), 0.05, 1e-15);  // t = 3/6: half the peak
    EXPECT_NEAR(learning_rate(o, 9), 0.1 * 0.5 * (1 + std::cos(M_PI * 5.0 / 6.0)), 1e-15);
    o.warmup = 0;
    EXPECT_DOUBLE_EQ(learning_rate(o, 0), 0.1);
}

TEST(Recipe, KeysOfTheOriginalRecipeAreUnchanged) {
    auto resolved = [](const std::string& task, const Fidelity& f) {
        auto r = resolve_task(task, f);
        if (auto* e = std::get_if<TaskError>(&r)) throw std::runtime_error(e->message);
        return std::get<TaskConfig>(r).fidelity;
    };
    Fidelity legacy;   // v0.1's fmnist-cnn recipe, spelled out
    legacy.steps = 200;
    legacy.lr = 0.05;
    legacy.schedule = Schedule::Constant;
    legacy.warmup = 0;
    legacy.wd = 0;
    legacy.clip = 0;
    legacy.recal = 0;
    EXPECT_EQ(resolved("fmnist-cnn", legacy).key(), "steps=200 width=16 depth=2 lr=0.05 batch=128");
    Fidelity f = legacy;
    f.schedule = Schedule::Cosine;
    f.warmup = 20;
    f.wd = 0.0005;
    f.clip = 5;
    f.recal = 10;
    EXPECT_EQ(resolved("fmnist-cnn", f).key(),
              "steps=200 width=16 depth=2 lr=0.05 batch=128 schedule=cosine warmup=20 wd=0.0005 clip=5 recal=10");
    // The screen task's defaults are the recipe measured as cnn14-w8 by scripts/fidelity_sweep.sh.
    EXPECT_EQ(resolved("fmnist-cnn14", Fidelity{}).key(),
              "steps=100 width=8 depth=2 lr=0.1 batch=64 schedule=cosine warmup=10 clip=5 recal=10 downsample=2");
    EXPECT_EQ(resolved("fmnist-cnn", Fidelity{}).key(),
              "steps=200 width=16 depth=2 lr=0.1 batch=128 schedule=cosine warmup=20 clip=5 recal=20");
    Fidelity too_long = legacy;
    too_long.warmup = 200;
    EXPECT_TRUE(std::holds_alternative<TaskError>(resolve_task("fmnist-cnn", too_long)));
    Fidelity negative;
    negative.clip = -3;
    EXPECT_TRUE(std::holds_alternative<TaskError>(resolve_task("fmnist-cnn", negative)));
}

// After recalibration on a batch, inference on that batch uses (almost) the batch's own statistics:
// its loss equals the training-mode loss up to the unbiased-variance factor n / (n - 1). Without it,
// the running statistics are the initial (0, 1) and the losses differ.
TEST(Recipe, RecalibrationMakesInferenceUseTheFinalStatistics) {
    const Program act = compiled("x * sigmoid(beta * x)");
    for (auto make : {make_cnn, make_resnet}) {
        const NetworkConfig cfg{{1, 12, 12}, 4, 3, 1, 7};
        const std::unique_ptr<Network> net = make(cfg, act);
        const int n = 16;
        Rng rng(3);
        std::vector<float> x(std::size_t(n) * cfg.input.size());
        for (float& v : x) v = rng.uniform(0.0f, 3.0f);   // far from the initial running mean of 0
        std::vector<std::int32_t> labels(n);
        for (auto& l : labels) l = std::int32_t(rng.below(4));
        std::vector<float> logits(std::size_t(n) * 4);
        auto infer_loss = [&] {
            net->infer(x.data(), n, logits.data());
            return softmax_cross_entropy(logits.data(), labels.data(), n, 4, nullptr);
        };
        const double before = infer_loss();
        ASSERT_TRUE(net->recalibrate_statistics(x.data(), n, 0));
        const double recalibrated = infer_loss();
        const double training_mode = net->train_batch(x.data(), labels.data(), n);   // no parameter update
        EXPECT_NEAR(recalibrated, training_mode, 2e-3 * std::abs(training_mode));
        EXPECT_GT(std::abs(before - training_mode), 20 * std::abs(recalibrated - training_mode));
        // k = 1 averages in a second batch: with the same batch again nothing changes.
        ASSERT_TRUE(net->recalibrate_statistics(x.data(), n, 1));
        EXPECT_NEAR(infer_loss(), recalibrated, 1e-6 * std::abs(recalibrated));
    }
    // The MLP has no batch norm.
    const std::unique_ptr<Network> mlp = make_mlp(NetworkConfig{{1, 2, 2}, 3, 4, 1, 1}, act);
    std::vector<float> x(8, 0.5f);
    EXPECT_FALSE(mlp->recalibrate_statistics(x.data(), 2, 0));
}

// Clipping bounds every update: with a huge learning rate and an exploding activation the
// unclipped run diverges at once, while the clipped one stays finite for all its steps.
TEST(Recipe, ClippingAndWeightDecayChangeTraining) {
    auto run = [](double clip, double wd) {
        Fidelity f;
        f.steps = 60;
        f.lr = 0.5;
        f.clip = clip;
        f.wd = wd;
        auto r = resolve_task("synthetic", f);
        const ParseResult e = parse("x * 3");
        return evaluate(e.expr(), std::get<TaskConfig>(r), 1);
    };
    const EvalResult unclipped = run(0, 0);
    const EvalResult clipped = run(1.0, 0);
    EXPECT_EQ(unclipped.status, EvalStatus::Diverged) << unclipped.message;
    EXPECT_EQ(clipped.status, EvalStatus::Ok) << clipped.message;
    const EvalResult decayed = run(1.0, 0.01);
    ASSERT_EQ(decayed.status, EvalStatus::Ok) << decayed.message;
    EXPECT_NE(decayed.train_loss, clipped.train_loss);
}

}  // namespace
}  // namespace actsearch::engine

namespace actsearch::engine {
namespace {

// 2x2 average pooling of byte images, rounded to nearest; a partial last row/column is dropped.
TEST(Recipe, DownsampleAveragesBlocks) {
    Dataset d;
    d.shape = ImageShape{1, 3, 4};
    d.mean = {0};
    d.std = {1};
    d.labels = {7};
    d.pixels = {0, 2, 10, 10,    //
                4, 5, 10, 11,    // blocks: (0+2+4+5)/4 = 2.75 -> 3; (10+10+10+11)/4 = 10.25 -> 10
                99, 99, 99, 99};  // third row dropped
    const Dataset s = downsample(d, 2);
    EXPECT_EQ(s.shape.height, 1);
    EXPECT_EQ(s.shape.width, 2);
    EXPECT_EQ(s.pixels, (std::vector<std::uint8_t>{3, 10}));
    EXPECT_EQ(s.labels, d.labels);
    EXPECT_THROW(downsample(d, 4), DataError);   // 3 / 4 = 0 rows

    Fidelity f;
    f.downsample = 2;
    f.val = 500;
    auto r = resolve_task("fmnist-cnn", f);
    ASSERT_TRUE(std::holds_alternative<TaskConfig>(r));
    EXPECT_EQ(std::get<TaskConfig>(r).fidelity.key(),
              "steps=200 width=16 depth=2 lr=0.1 batch=128 schedule=cosine warmup=20 clip=5 recal=20 downsample=2 val=500");
    f.downsample = 8;   // 28 / 8 = 3 < 4
    EXPECT_TRUE(std::holds_alternative<TaskError>(resolve_task("fmnist-cnn", f)));
    Fidelity spiral;
    spiral.downsample = 2;
    EXPECT_TRUE(std::holds_alternative<TaskError>(resolve_task("synthetic", spiral)));
}

// Scoring the first N validation points: accuracy is a multiple of 1/N.
TEST(Recipe, ValidationSubset) {
    Fidelity f;
    f.steps = 50;
    f.val = 7;
    auto r = resolve_task("synthetic", f);
    const ParseResult e = parse("relu(x)");
    const EvalResult res = evaluate(e.expr(), std::get<TaskConfig>(r), 1);
    ASSERT_EQ(res.status, EvalStatus::Ok) << res.message;
    const double hits = res.val_acc * 7;
    EXPECT_NEAR(hits, std::round(hits), 1e-9);
}

}  // namespace
}  // namespace actsearch::engine
