// Where evaluations run: in this process on an OpenMP pool (here), or on MPI worker ranks (src/cli/
// mpi_executor.cpp). The search loop
// hands a batch of jobs to an Executor and gets each result back as soon as it is done (the calls are
// serialised), so it can be stored at once: a killed search loses only what was still training.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "actsearch/engine/evaluate.hpp"
#include "actsearch/grammar/expr.hpp"

namespace actsearch::driver {

struct Job {
    std::size_t id = 0;        // the driver's index, returned with the result
    std::string expr;          // canonical infix text: all a remote rank needs besides the task
    std::uint64_t seed = 0;
    int task = 0;              // which ScoreFn of the executor's list: the rung (0 = screening)
};

// Scores one job. The engine's evaluate() for a proxy task; a database lookup for table:FILE.db.
using ScoreFn = std::function<engine::EvalResult(const Job&)>;
using ResultFn = std::function<void(const Job&, const engine::EvalResult&)>;
using StopFn = std::function<bool()>;   // true: start no further job (Ctrl-C, time limit)

class Executor {
public:
    virtual ~Executor() = default;
    // Runs every job (those not yet started once `stop` returns true are skipped) and calls on_result
    // for each finished one, one call at a time. An exception from a job or from on_result stops the
    // remaining jobs and is rethrown here, on the calling thread.
    virtual void run(const std::vector<Job>& jobs, const ResultFn& on_result, const StopFn& stop) = 0;
    // Number of jobs that can run at once: a good batch size is a small multiple of it.
    virtual int slots() const = 0;
};

// `threads` candidates at once, one thread each.
std::unique_ptr<Executor> make_local_executor(std::vector<ScoreFn> scorers, int threads);

}  // namespace actsearch::driver
