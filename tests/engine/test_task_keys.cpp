// The regression oracle of the built-in tasks' database keys. Existing databases (scripts/results/*.db,
// users' runs) store results under (task, fidelity key): these strings were computed from main at
// 33e11f0, before the built-in tasks became task files, and must never change.
#include <string>
#include <variant>
#include <vector>

#include <gtest/gtest.h>

#include "actsearch/engine/evaluate.hpp"

using namespace actsearch::engine;

namespace {

struct Oracle {
    std::string task;
    Fidelity overrides;
    std::string data_dir;
    std::string key;
    std::string resolved_data_dir;
};

Fidelity with(int steps, double lr, Schedule schedule, int warmup, double clip, int recal) {
    Fidelity f;
    f.steps = steps;
    f.lr = lr;
    f.schedule = schedule;
    f.warmup = warmup;
    f.clip = clip;
    f.recal = recal;
    return f;
}

std::vector<Oracle> oracle() {
    const std::string fmnist = "/usr/share/datasets/fashion-mnist";
    Fidelity resnet;
    resnet.depth = 2;
    resnet.wd = 5e-4;
    resnet.val = 1000;
    Fidelity mlp;
    mlp.steps = 20;
    mlp.lr = 0.1;
    mlp.width = 64;
    mlp.batch = 32;
    Fidelity screen;
    screen.steps = 60;
    screen.warmup = 6;
    Fidelity full_size;
    full_size.downsample = 1;
    return {
        {"fmnist-mlp", {}, "", "steps=400 width=128 depth=3 lr=0.05 batch=128", fmnist},
        {"fmnist-cnn", {}, "", "steps=200 width=16 depth=2 lr=0.1 batch=128 schedule=cosine warmup=20 clip=5 recal=20",
         fmnist},
        {"fmnist-cnn14", {}, "",
         "steps=100 width=8 depth=2 lr=0.1 batch=64 schedule=cosine warmup=10 clip=5 recal=10 downsample=2", fmnist},
        {"resnet-mini", {}, "", "steps=200 width=16 depth=1 lr=0.05 batch=128", fmnist},
        {"cifar10-cnn", {}, "", "steps=200 width=16 depth=2 lr=0.05 batch=128", ""},
        {"cifar10-resnet", {}, "", "steps=200 width=16 depth=1 lr=0.05 batch=128", ""},
        {"synthetic", {}, "", "steps=300 width=32 depth=2 lr=0.1 batch=64", ""},
        // Overrides, as stored in scripts/results/fidelity.db and by the README's commands.
        {"fmnist-cnn", with(0, 0.05, Schedule::Constant, 0, 0, 0), "", "steps=200 width=16 depth=2 lr=0.05 batch=128",
         fmnist},
        {"fmnist-cnn", with(0, 0.05, Schedule::Constant, 0, 0, 20), "",
         "steps=200 width=16 depth=2 lr=0.05 batch=128 recal=20", fmnist},
        {"fmnist-cnn14", screen, "",
         "steps=60 width=8 depth=2 lr=0.1 batch=64 schedule=cosine warmup=6 clip=5 recal=10 downsample=2", fmnist},
        {"fmnist-cnn14", full_size, "", "steps=100 width=8 depth=2 lr=0.1 batch=64 schedule=cosine warmup=10 clip=5 recal=10",
         fmnist},
        {"resnet-mini", resnet, "/data/fm", "steps=200 width=16 depth=2 lr=0.05 batch=128 wd=0.0005 val=1000", "/data/fm"},
        {"fmnist-mlp", mlp, "", "steps=20 width=64 depth=3 lr=0.1 batch=32", fmnist},
        {"cifar10-resnet", {}, "/data/cifar", "steps=200 width=16 depth=1 lr=0.05 batch=128", "/data/cifar"},
        {"synthetic", with(5, 0, Schedule::Cosine, 1, 1.5, 0), "", "steps=5 width=32 depth=2 lr=0.1 batch=64 "
         "schedule=cosine warmup=1 clip=1.5", ""},
    };
}

}  // namespace

TEST(TaskKeys, BuiltInTasksKeepTheirNamesAndKeys) {
    for (const Oracle& o : oracle()) {
        const auto r = resolve_task(o.task, o.overrides, o.data_dir);
        ASSERT_TRUE(std::holds_alternative<TaskConfig>(r)) << o.task << ": " << std::get<TaskError>(r).message;
        const TaskConfig& t = std::get<TaskConfig>(r);
        EXPECT_EQ(t.name, o.task);
        EXPECT_EQ(t.fidelity.key(), o.key) << o.task;
        EXPECT_EQ(t.momentum, 0.9) << o.task;
        EXPECT_EQ(t.data_dir, o.resolved_data_dir) << o.task;
    }
}

TEST(TaskKeys, BuiltInTaskNamesAndOrder) {
    const std::vector<std::string> expected{"fmnist-mlp",  "fmnist-cnn",     "fmnist-cnn14", "resnet-mini",
                                            "cifar10-cnn", "cifar10-resnet", "synthetic"};
    EXPECT_EQ(task_names(), expected);
}
