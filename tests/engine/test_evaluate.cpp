// evaluate(): training quality on the synthetic task, determinism, and every failure status.
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include <gtest/gtest.h>
#include <unistd.h>

#include "actsearch/engine/data.hpp"
#include "actsearch/engine/evaluate.hpp"
#include "actsearch/engine/detail/trainer.hpp"
#include "actsearch/grammar/parse.hpp"
#include "parsed.hpp"

using namespace actsearch;
using namespace actsearch::engine;

namespace {

using test::parsed;

TaskConfig task(const std::string& name, const Fidelity& overrides = {}, const std::string& data_dir = "") {
    auto r = resolve_task(name, overrides, data_dir);
    if (auto* err = std::get_if<TaskError>(&r)) throw std::runtime_error(err->message);
    return std::get<TaskConfig>(r);
}

}  // namespace

TEST(Tasks, DefaultsOverridesAndStableKey) {
    const TaskConfig mlp = task("fmnist-mlp");
    EXPECT_EQ(mlp.fidelity.key(), "steps=400 width=128 depth=3 lr=0.05 batch=128");
    EXPECT_EQ(mlp.data_dir, "/usr/share/datasets/fashion-mnist");
    EXPECT_DOUBLE_EQ(mlp.momentum, 0.9);
    Fidelity f;
    f.steps = 20;
    f.lr = 0.1;
    EXPECT_EQ(task("fmnist-mlp", f).fidelity.key(), "steps=20 width=128 depth=3 lr=0.1 batch=128");
    EXPECT_EQ(task("fmnist-cnn").fidelity.steps, 200);
    EXPECT_EQ(task("fmnist-cnn").fidelity.width, 16);
    for (const std::string& name : task_names()) {
        const Fidelity& r = task(name).fidelity;
        EXPECT_TRUE(r.steps > 0 && r.width > 0 && r.depth > 0 && r.lr > 0 && r.batch > 0) << name;
    }

    const auto unknown = resolve_task("mnist-transformer");
    ASSERT_TRUE(std::holds_alternative<TaskError>(unknown));
    EXPECT_NE(std::get<TaskError>(unknown).message.find("fmnist-mlp"), std::string::npos);   // lists known tasks
    Fidelity cnn_depth;
    cnn_depth.depth = 5;
    EXPECT_TRUE(std::holds_alternative<TaskError>(resolve_task("fmnist-cnn", cnn_depth)));
    Fidelity negative;
    negative.steps = -1;
    EXPECT_TRUE(std::holds_alternative<TaskError>(resolve_task("synthetic", negative)));
}

TEST(Evaluate, SyntheticTrainsWellWithRelu) {
    const EvalResult r = evaluate(parsed("relu(x)"), task("synthetic"), 1);
    ASSERT_EQ(r.status, EvalStatus::Ok) << r.message;
    // Measured 0.96-0.99 over seeds; an untrained network scores 1/3 and a linear one about 0.5.
    EXPECT_GT(r.val_acc, 0.9);
    EXPECT_LT(r.val_loss, 0.35);
    EXPECT_LT(r.train_loss, 0.35);
    EXPECT_LT(r.seconds, 5.0);

    // The identity makes the network linear: it cannot separate spirals.
    const EvalResult linear = evaluate(parsed("x"), task("synthetic"), 1);
    ASSERT_EQ(linear.status, EvalStatus::Ok) << linear.message;
    EXPECT_LT(linear.val_acc, 0.7);
}

void expect_same_bits(const EvalResult& a, const EvalResult& b, const std::string& what) {
    EXPECT_EQ(a.status, b.status) << what;
    EXPECT_EQ(a.val_acc, b.val_acc) << what;
    EXPECT_EQ(a.val_loss, b.val_loss) << what;
    EXPECT_EQ(a.train_loss, b.train_loss) << what;
}

TEST(Evaluate, SameSeedSameBitsWhateverRunsBeside) {
    Fidelity f;
    f.steps = 100;
    const TaskConfig t = task("synthetic", f);
    const Expr swish = parsed("x * sigmoid(beta * x)");
    const EvalResult a = evaluate(swish, t, 7, 1);
    ASSERT_EQ(a.status, EvalStatus::Ok) << a.message;
    expect_same_bits(evaluate(swish, t, 7, 1), a, "repeat");
    EXPECT_NE(evaluate(swish, t, 8, 1).val_loss, a.val_loss);   // the seed does select init and batches

    // Two evaluations at once on other threads (as the search driver runs candidates).
    EvalResult on_thread[2];
    {
        std::thread first([&] { on_thread[0] = evaluate(swish, t, 7, 1); });
        std::thread second([&] { on_thread[1] = evaluate(parsed("relu(x)"), t, 3, 1); });
        first.join();
        second.join();
    }
    expect_same_bits(on_thread[0], a, "beside another evaluation");
    expect_same_bits(on_thread[1], evaluate(parsed("relu(x)"), t, 3, 1), "relu beside swish");
}

// Writes CIFAR-10-format batches of `images` random records (labels 0-9) into a fresh folder.
std::filesystem::path write_small_cifar(const std::string& tag) {
    const auto dir = std::filesystem::temp_directory_path() / ("actsearch-cifar-" + tag + "-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    std::uint32_t state = 12345;
    for (const char* name : {"data_batch_1.bin", "data_batch_5.bin"}) {
        std::ofstream file(dir / name, std::ios::binary);
        std::string record(3073, '\0');
        for (int i = 0; i < 10'000; ++i) {
            for (char& c : record) {
                state = state * 1664525u + 1013904223u;
                c = char(state >> 24);
            }
            record[0] = char(i % 10);
            file << record;
        }
    }
    return dir;
}

// An evaluation is a pure function of (candidate, task, fidelity, seed): the same bits first in a
// fresh thread, after other candidates have run on the same thread (with the allocator's free lists
// stirred, so that buffers land at other alignments), and on another thread. Batch norm once summed
// with Eigen's alignment-peeling reductions, so fmnist-cnn scores depended on what ran before.
TEST(Evaluate, SameBitsWhateverRanBeforeOnEveryTask) {
    const bool have_fmnist = std::filesystem::exists("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz");
    const auto cifar = write_small_cifar("order");
    const Expr candidate = parsed("min(-x, sinc(x)) + beta*x");
    for (const std::string& name : task_names()) {
        const bool is_cifar = name.rfind("cifar10", 0) == 0;
        if (!have_fmnist && name.rfind("fmnist", 0) == 0) continue;
        if (!have_fmnist && name == "resnet-mini") continue;
        Fidelity f;
        f.steps = 3;
        f.batch = 16;
        f.warmup = 0;   // a task's default warm-up may be longer than 3 steps
        f.recal = 2;    // recalibration runs too
        f.val = 256;    // two inference chunks: the order of what ran is what is tested, not the data
        const TaskConfig t = task(name, f, is_cifar ? cifar.string() : "");
        EvalResult first;
        std::thread([&] { first = evaluate(candidate, t, 11, 1); }).join();
        ASSERT_EQ(first.status, EvalStatus::Ok) << name << ": " << first.message;

        EvalResult after_others, other_thread;
        std::thread([&] {
            std::vector<std::vector<float>> stir;
            for (int k = 1; k < 40; ++k) stir.emplace_back(std::size_t(k * 7 + 3), 1.0f);   // odd-sized blocks
            (void)evaluate(parsed("x*sigmoid(beta*x)"), t, 3, 1);
            stir.resize(stir.size() / 3);
            after_others = evaluate(candidate, t, 11, 1);
        }).join();
        std::thread([&] { other_thread = evaluate(candidate, t, 11, 1); }).join();
        expect_same_bits(after_others, first, name + ": after other candidates");
        expect_same_bits(other_thread, first, name + ": on another thread");
    }
    std::filesystem::remove_all(cifar);
}

// fmnist-mlp's GEMMs are big enough to be split between threads (the synthetic ones are not).
TEST(Evaluate, ThreadCountDoesNotChangeTheBits) {
    if (!std::filesystem::exists("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"))
        GTEST_SKIP() << "Fashion-MNIST not installed";
    Fidelity f;
    f.steps = 20;
    const TaskConfig t = task("fmnist-mlp", f);
    const Expr swish = parsed("x * sigmoid(beta * x)");
    const EvalResult one = evaluate(swish, t, 5, 1);
    ASSERT_EQ(one.status, EvalStatus::Ok) << one.message;
    expect_same_bits(evaluate(swish, t, 5, 2), one, "2 threads");
    expect_same_bits(evaluate(swish, t, 5, 3), one, "3 threads");
}

// The conv networks' oneDNN kernels are pinned to one thread per evaluation (conv_dnnl.cpp): --threads
// must not reach them.
TEST(Evaluate, ThreadCountDoesNotChangeTheBitsOfTheConvNetworks) {
    if (!std::filesystem::exists("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"))
        GTEST_SKIP() << "Fashion-MNIST not installed";
    Fidelity f;
    f.steps = 3;
    f.batch = 16;
    f.warmup = 0;
    f.val = 256;
    const Expr swish = parsed("x * sigmoid(beta * x)");
    for (const char* name : {"fmnist-cnn", "fmnist-cnn14", "resnet-mini"}) {
        const TaskConfig t = task(name, f);
        const EvalResult one = evaluate(swish, t, 5, 1);
        ASSERT_EQ(one.status, EvalStatus::Ok) << one.message;
        expect_same_bits(evaluate(swish, t, 5, 2), one, std::string(name) + ": 2 threads");
    }
}

// Precision::Bf16: a key of its own (fp32 keys unchanged), refused for the MLP and on CPUs without
// native bf16, and as deterministic as fp32 (threads, reruns) while giving other bits than fp32.
TEST(Evaluate, Bf16ConvolutionsHaveTheirOwnKeyAndStayDeterministic) {
    Fidelity bf16;
    bf16.precision = Precision::Bf16;
    const auto mlp = resolve_task("fmnist-mlp", bf16);
    ASSERT_TRUE(std::holds_alternative<TaskError>(mlp));
    EXPECT_NE(std::get<TaskError>(mlp).message.find("MLP"), std::string::npos) << std::get<TaskError>(mlp).message;
    EXPECT_EQ(task("fmnist-cnn").fidelity.precision, Precision::Fp32);
    if (!bf16_native()) {
        const auto refused = resolve_task("fmnist-cnn", bf16);
        ASSERT_TRUE(std::holds_alternative<TaskError>(refused));
        GTEST_SKIP() << "this CPU has no native bf16: " << std::get<TaskError>(refused).message;
    }
    EXPECT_EQ(task("fmnist-cnn", bf16).fidelity.key(), task("fmnist-cnn").fidelity.key() + " precision=bf16");
    if (!std::filesystem::exists("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"))
        GTEST_SKIP() << "Fashion-MNIST not installed";
    Fidelity f = bf16;
    f.steps = 3;
    f.batch = 16;
    f.warmup = 0;
    f.val = 256;
    const Expr swish = parsed("x * sigmoid(beta * x)");
    for (const char* name : {"fmnist-cnn", "resnet-mini"}) {
        const TaskConfig t = task(name, f);
        const EvalResult one = evaluate(swish, t, 5, 1);
        ASSERT_EQ(one.status, EvalStatus::Ok) << one.message;
        expect_same_bits(evaluate(swish, t, 5, 1), one, std::string(name) + ": rerun");
        expect_same_bits(evaluate(swish, t, 5, 2), one, std::string(name) + ": 2 threads");
        Fidelity g = f;
        g.precision = Precision::Fp32;
        const EvalResult fp32 = evaluate(swish, task(name, g), 5, 1);
        EXPECT_NE(fp32.train_loss, one.train_loss) << name << ": bf16 trained exactly as fp32";
    }
}

TEST(Evaluate, InvalidCandidateIsRejectedWithoutTraining) {
    const EvalResult r = evaluate(parsed("log(x)"), task("fmnist-mlp"), 1);
    EXPECT_EQ(r.status, EvalStatus::Invalid);
    EXPECT_FALSE(r.message.empty());
    EXPECT_LT(r.seconds, 0.5);   // no data loading, no training
    EXPECT_EQ(evaluate(Expr{}, task("synthetic"), 1).status, EvalStatus::Invalid);
}

TEST(Evaluate, ExplodingActivationDivergesQuickly) {
    Fidelity f;
    f.steps = 100000;   // would take minutes if training did not stop at once
    for (const char* text : {"x * 30", "exp(x) * 20 + x"}) {
        const auto start = std::chrono::steady_clock::now();
        const EvalResult r = evaluate(parsed(text), task("synthetic", f), 1);
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        EXPECT_EQ(r.status, EvalStatus::Diverged) << text << ": " << to_string(r.status) << " " << r.message;
        EXPECT_NE(r.message.find("loss"), std::string::npos) << r.message;
        EXPECT_LT(seconds, 2.0) << text;
    }
}

TEST(Evaluate, ErrorsBecomeStatusesNotExceptions) {
    TaskConfig bogus = task("synthetic");
    bogus.name = "no-such-task";
    const EvalResult unknown = evaluate(parsed("relu(x)"), bogus, 1);
    EXPECT_EQ(unknown.status, EvalStatus::Error);
    EXPECT_NE(unknown.message.find("no-such-task"), std::string::npos);

    const std::string missing = (std::filesystem::temp_directory_path() / "actsearch-no-cifar-here").string();
    for (const std::string& dir : {missing, std::string()}) {
        const EvalResult r = evaluate(parsed("relu(x)"), task("cifar10-cnn", {}, dir), 1);
        EXPECT_EQ(r.status, EvalStatus::Error);
        EXPECT_NE(r.message.find("CIFAR-10 binary version"), std::string::npos) << r.message;
        EXPECT_NE(r.message.find("https://www.cs.toronto.edu/~kriz/cifar.html"), std::string::npos) << r.message;
        EXPECT_EQ(r.message.find('\n'), std::string::npos) << r.message;
        EXPECT_THROW(preload(task("cifar10-cnn", {}, dir)), DataError);
    }
    // A folder with files of the right names but not CIFAR-10's size: named in the message.
    const auto short_dir = std::filesystem::temp_directory_path() / ("actsearch-short-cifar-" + std::to_string(::getpid()));
    std::filesystem::create_directories(short_dir);
    for (const char* name : {"data_batch_1.bin", "data_batch_5.bin"}) {
        std::ofstream file(short_dir / name, std::ios::binary);
        const std::string record(3073, '\1');
        for (int i = 0; i < 3; ++i) file << record;
    }
    const EvalResult short_files = evaluate(parsed("relu(x)"), task("cifar10-resnet", {}, short_dir.string()), 1);
    std::filesystem::remove_all(short_dir);
    EXPECT_EQ(short_files.status, EvalStatus::Error);
    EXPECT_NE(short_files.message.find("data_batch_1.bin' holds 3 images"), std::string::npos) << short_files.message;

    const EvalResult fmnist = evaluate(parsed("relu(x)"), task("fmnist-mlp", {}, missing), 1);
    EXPECT_EQ(fmnist.status, EvalStatus::Error);
    EXPECT_NE(fmnist.message.find(missing), std::string::npos) << fmnist.message;
}

TEST(Evaluate, ShortFashionMnistRunLearns) {
    if (!std::filesystem::exists("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"))
        GTEST_SKIP() << "Fashion-MNIST not installed";
    Fidelity f;
    f.steps = 30;
    std::vector<double> fractions;
    const EvalResult r =
        evaluate(parsed("relu(x)"), task("fmnist-mlp", f), 1, 1, [&](double done) { fractions.push_back(done); });
    ASSERT_EQ(r.status, EvalStatus::Ok) << r.message;
    EXPECT_GT(r.val_acc, 0.6);   // chance is 0.1; 30 steps of SGD reach about 0.7
    ASSERT_FALSE(fractions.empty());
    EXPECT_TRUE(std::is_sorted(fractions.begin(), fractions.end()));
    EXPECT_DOUBLE_EQ(fractions.back(), 1.0);
}

TEST(Trainer, ThreadChooserKeepsThreadsOnlyWhileTheyPay) {
    // Step times in seconds: warm-up, two single-thread probes, two parallel probes, then training.
    const auto run = [](int max_threads, std::vector<double> times) {
        ThreadChooser chooser(max_threads);
        std::vector<int> used;
        for (int step = 0; step < int(times.size()); ++step) {
            used.push_back(chooser.threads_for(step));
            chooser.record(step, times[std::size_t(step)]);
        }
        return std::pair(used, chooser.chosen());
    };
    const auto [probes, faster] = run(4, {9.0, 1.0, 1.0, 0.5, 0.6, 0.5, 0.5});
    EXPECT_EQ(probes, (std::vector<int>{1, 1, 1, 4, 4, 4, 4}));
    EXPECT_EQ(faster, 4);
    EXPECT_EQ(run(4, {9.0, 1.0, 1.0, 3.0, 2.0, 1.0}).second, 1);              // parallel slower: one thread
    EXPECT_EQ(run(4, {9.0, 1.0, 1.0, 0.5, 0.5, 2.0, 2.0, 2.0}).second, 1);    // load arrived: give up
    EXPECT_EQ(run(4, {9.0, 1.0, 1.0, 0.5, 0.5, 2.0, 2.0, 0.5}).second, 4);    // two slow steps are noise
    EXPECT_EQ(run(1, {9.0, 1.0, 1.0, 0.1, 0.1}).first, (std::vector<int>{1, 1, 1, 1, 1}));
}
