// The fidelity harness: how well does a proxy task rank a reference set of functions, how noisy is
// it, and what does it cost? `actsearch fidelity` prints what run_fidelity() measures.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "actsearch/engine/evaluate.hpp"
#include "actsearch/stats/rank.hpp"
#include "task_options.hpp"

#include "actsearch/db/store.hpp"

namespace actsearch::cli {

// A reference ranking: functions with a score each (higher is better).
struct ReferenceEntry {
    std::string expr;    // as written in the reference
    double score = 0;
    std::string label;   // e.g. the paper's name for it; may be empty
};
struct Reference {
    std::string source;  // where it came from, for the report
    std::vector<ReferenceEntry> entries;
};

// A CSV with a header row naming an `expr` column and a score column (`score`, else `mean`); an
// optional `paper_name` or `name` column gives labels. Lines starting with '#' are comments. Fields may
// be double-quoted; an unquoted expression may contain commas inside parentheses (`max(x, tanh(x))`).
// Throws UsageError naming the source and line on a malformed file.
Reference parse_reference_csv(std::string_view text, const std::string& source);
Reference load_reference_file(const std::string& path);
// The Swish paper's CIFAR-10 accuracies of 16 well-known functions (data/reference/, in the binary).
Reference builtin_reference();
// Mean score of each candidate evaluated on `task` (and `fidelity`, when given) in the store, over ok
// seeds with diverged seeds counted as 0, for the functions of `functions` that it has: a user's own
// expensive rung as the reference of a cheap one.
Reference reference_from_store(db::Store& store, const std::vector<ReferenceEntry>& functions, const std::string& task,
                               const std::optional<std::string>& fidelity);

struct FidelityOptions {
    TaskOptions task;
    int seeds = 3;
    std::uint64_t seed = 0;
    int threads = 1;
    std::string db;             // empty: store nothing
    bool quiet = false;
};

struct FunctionResult {
    std::string expr;           // the reference's spelling
    std::string canonical;
    double reference = 0;
    std::vector<std::uint64_t> seeds;
    std::vector<engine::EvalResult> results;   // per seed
    double score = 0;           // mean over seeds, a non-ok seed counting as 0 (the search's reward)
    double ok_mean = 0, ok_std = 0;   // over ok seeds (std: n - 1; NaN below 2 ok seeds)
    int ok = 0, diverged = 0, other = 0;
};

struct FidelityReport {
    std::string task, fidelity, reference_source;
    int seeds = 0;
    std::vector<FunctionResult> functions;
    double spearman = 0;
    stats::Interval spearman_ci;       // 95% percentile bootstrap over functions
    double median_seed_std = 0;        // median over functions of the ok seeds' std (needs >= 2 ok seeds)
    double diverged_share = 0;         // of all candidate-seeds
    int trained = 0, reused = 0;       // candidate-seeds trained now / answered from the store
    double cpu_seconds_per_eval = 0;   // CPU time per candidate-seed trained now (NaN when none)
    double wall_seconds_per_eval = 0;  // median wall time of every candidate-seed, stored ones included
    // The engines (engine::identity(), "" where a stored row does not record it) behind the trained
    // (ok or diverged) candidate-seeds, with how many each: more than one means the ranking mixes
    // different engines' rounding.
    std::vector<db::EngineCount> engines;
};

// Evaluates every reference function for `seeds` seeds on the task (reusing what the store already
// has), storing each result as it comes, and computes the report.
FidelityReport run_fidelity(const Reference& reference, const FidelityOptions& options);

}  // namespace actsearch::cli
