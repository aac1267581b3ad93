#include <omp.h>

#include <atomic>
#include <exception>
#include <mutex>

#include "actsearch/driver/executor.hpp"

namespace actsearch::driver {
namespace {

class LocalExecutor final : public Executor {
public:
    LocalExecutor(std::vector<ScoreFn> scorers, int threads) : scorers_(std::move(scorers)), threads_(threads) {}

    void run(const std::vector<Job>& jobs, const ResultFn& on_result, const StopFn& stop) override {
        std::mutex mutex;
        std::exception_ptr error;
        std::atomic<bool> failed{false};
        const int n = static_cast<int>(jobs.size());
        // One candidate per thread; dynamic scheduling balances fast and slow candidates. An exception
        // must not leave the parallel region (that would terminate the process): keep the first one.
#pragma omp parallel for num_threads(threads_) schedule(dynamic, 1)
        for (int i = 0; i < n; ++i) {
            if (failed.load()) continue;
            try {
                if (stop()) continue;
                const Job& job = jobs[static_cast<std::size_t>(i)];
                const engine::EvalResult r = scorers_.at(static_cast<std::size_t>(job.task))(job);
                std::lock_guard lock(mutex);
                on_result(job, r);
            } catch (...) {
                std::lock_guard lock(mutex);
                if (!error) error = std::current_exception();
                failed.store(true);
            }
        }
        if (error) std::rethrow_exception(error);
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

}  // namespace actsearch::driver
