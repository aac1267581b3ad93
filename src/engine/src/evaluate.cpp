#include "actsearch/engine/evaluate.hpp"

#include <omp.h>

#include <chrono>
#include <cmath>
#include <exception>

#include <fmt/format.h>

#include <oneapi/dnnl/dnnl.hpp>

#include "actsearch/grammar/fingerprint.hpp"
#include "actsearch/grammar/program.hpp"
#include "actsearch/engine/detail/layers.hpp"
#include "actsearch/engine/detail/rng.hpp"
#include "tasks.hpp"
#include "actsearch/engine/detail/trainer.hpp"

namespace actsearch::engine {
namespace {

// Independent streams derived from the evaluation seed.
constexpr std::uint64_t kInitStream = 1, kBatchStream = 2, kRecalibrationStream = 3;

std::string check_fidelity(const Fidelity& f) {
    if (f.steps <= 0 || f.width <= 0 || f.depth <= 0 || f.batch <= 0 || !(f.lr > 0.0) || !std::isfinite(f.lr) ||
        f.schedule == Schedule::Default || f.warmup < 0 || f.wd < 0 || f.clip < 0 || f.recal < 0 ||
        f.downsample < 1 || f.val < 0 || f.precision == Precision::Default)
        return fmt::format("fidelity not resolved ({}): use resolve_task", f.key());
    return {};
}

// Why the candidate cannot be trained, or empty. The grammar's fingerprint probes values and
// derivatives (to x and every beta) on a fixed set of points.
std::string invalid_reason(const Expr& e) {
    if (e.empty()) return "empty expression";
    const Fingerprint fp = fingerprint(e);
    return fp.valid ? std::string() : (fp.reason.empty() ? "non-finite on the probe points" : fp.reason);
}

EvalResult evaluate_or_throw(const Expr& e, const TaskConfig& task, std::uint64_t seed, int threads,
                             const std::function<void(double)>& progress) {
    EvalResult result;
    const std::shared_ptr<const TaskDefinition> spec = find_task(task.name);
    if (spec == nullptr) {
        result.message = fmt::format("unknown task '{}'", task.name);
        return result;
    }
    if (std::string bad = check_fidelity(task.fidelity); !bad.empty()) {
        result.message = std::move(bad);
        return result;
    }
    if (std::string reason = invalid_reason(e); !reason.empty()) {
        result.status = EvalStatus::Invalid;
        result.message = std::move(reason);
        return result;
    }

    const std::shared_ptr<const TaskData> data = task_data(*spec, task.data_dir, task.fidelity.downsample);
    const Program activation(e);

    // Threads go to explicit, deterministic GEMM blocks (layers.cpp), when the trainer finds that they
    // pay (ThreadChooser). Called from inside the search driver's parallel loop with threads > 1,
    // those blocks need one more active OpenMP level.
    if (threads > 1 && omp_in_parallel() && omp_get_max_active_levels() <= omp_get_active_level())
        omp_set_max_active_levels(omp_get_active_level() + 1);

    NetworkConfig cfg;
    cfg.input = data->train.shape;
    cfg.classes = data->train.classes;
    cfg.width = task.fidelity.width;
    cfg.depth = task.fidelity.depth;
    cfg.init_seed = derive_seed(seed, kInitStream);
    cfg.bf16 = task.fidelity.precision == Precision::Bf16;
    const std::unique_ptr<Network> net = make_network(*spec, cfg, activation);

    TrainOptions options;
    options.steps = task.fidelity.steps;
    options.batch = task.fidelity.batch;
    options.lr = task.fidelity.lr;
    options.momentum = task.momentum;
    options.schedule = task.fidelity.schedule;
    options.warmup = task.fidelity.warmup;
    options.weight_decay = task.fidelity.wd;
    options.clip = task.fidelity.clip;
    options.recalibration_batches = task.fidelity.recal;
    options.recalibration_seed = derive_seed(seed, kRecalibrationStream);
    options.sampling_seed = derive_seed(seed, kBatchStream);
    options.progress = progress;
    options.max_threads = threads;
    const TrainOutcome trained = train(*net, data->train, options);
    if (trained.status != EvalStatus::Ok) {
        result.status = trained.status;
        result.message = trained.message;
        return result;
    }
    result.train_loss = trained.train_loss;

    const ScopedEngineThreads validation_threads(trained.threads);
    const Validation v = validate(*net, data->validation, task.fidelity.batch, std::size_t(task.fidelity.val));
    if (!v.finite) {
        result.status = EvalStatus::Diverged;
        result.message = "non-finite logits on the validation set";
        return result;
    }
    result.status = EvalStatus::Ok;
    result.val_acc = v.accuracy;
    result.val_loss = v.loss;
    return result;
}

}  // namespace

const std::string& identity() {
    static const std::string id = [] {
        const dnnl_version_t* v = dnnl_version();
        return fmt::format("engine {}, oneDNN {}.{}.{}", kEngineRevision, v->major, v->minor, v->patch);
    }();
    return id;
}

EvalResult evaluate(const Expr& e, const TaskConfig& task, std::uint64_t seed, int threads,
                    const std::function<void(double)>& progress) {
    const auto start = std::chrono::steady_clock::now();
    EvalResult result;
    try {
        result = evaluate_or_throw(e, task, seed, threads, progress);
    } catch (const std::bad_alloc&) {
        result = {};
        result.message = "out of memory";
    } catch (const std::exception& ex) {
        result = {};
        result.message = ex.what();
    } catch (...) {
        result = {};
        result.message = "unknown internal error";
    }
    if (result.status != EvalStatus::Ok) result.val_acc = result.val_loss = result.train_loss = 0.0;
    result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return result;
}

}  // namespace actsearch::engine
