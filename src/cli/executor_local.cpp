#include <omp.h>

#include <mutex>

#include "executor.hpp"

namespace actsearch::cli {
namespace {

class LocalExecutor final : public Executor {
public:
    LocalExecutor(std::vector<ScoreFn> scorers, int threads) : scorers_(std::move(scorers)), threads_(threads) {}

    void run(const std::vector<Job>& jobs, const ResultFn& on_result, const std::atomic<bool>& stop) override {
        std::mutex mutex;
        const int n = static_cast<int>(jobs.size());
        // One candidate per thread; dynamic scheduling balances fast and slow candidates.
#pragma omp parallel for num_threads(threads_) schedule(dynamic, 1)
        for (int i = 0; i < n; ++i) {
            if (stop.load()) continue;
            const Job& job = jobs[static_cast<std::size_t>(i)];
            const engine::EvalResult r = scorers_.at(static_cast<std::size_t>(job.task))(job, 1);
            std::lock_guard lock(mutex);
            on_result(job, r);
        }
    }

    int slots() const override { return threads_; }

private:
    std::vector<ScoreFn> scorers_;
    int threads_;
};

}  // namespace

std::unique_ptr<Executor> make_local_executor(std::vector<ScoreFn> scorers, int threads) {
    return std::make_unique<LocalExecutor>(std::move(scorers), threads);
}

}  // namespace actsearch::cli
