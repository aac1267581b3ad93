// The thread-pool executor: every job once, results one call at a time, stop and errors honoured.
#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <stdexcept>

#include "actsearch/driver/executor.hpp"

namespace actsearch::driver {
namespace {

std::vector<Job> make_jobs(std::size_t n, int task = 0) {
    std::vector<Job> jobs;
    for (std::size_t i = 0; i < n; ++i) jobs.push_back({i, "x", 100 + i, task});
    return jobs;
}

engine::EvalResult score_by_seed(const Job& j) {
    engine::EvalResult r;
    r.status = engine::EvalStatus::Ok;
    r.val_acc = double(j.seed) / 1000.0;
    return r;
}

TEST(LocalExecutor, RunsEveryJobOnceWithItsOwnScorer) {
    auto ex = make_local_executor({score_by_seed, [](const Job&) {
                                       engine::EvalResult r;
                                       r.status = engine::EvalStatus::Diverged;
                                       return r;
                                   }},
                                  3);
    EXPECT_EQ(ex->slots(), 3);
    auto jobs = make_jobs(20);
    for (std::size_t i = 10; i < 20; ++i) jobs[i].task = 1;
    std::set<std::size_t> seen;
    int in_callback = 0, overlap = 0;
    ex->run(jobs, [&](const Job& j, const engine::EvalResult& r) {
        if (in_callback++) ++overlap;
        EXPECT_TRUE(seen.insert(j.id).second);
        if (j.task == 0) {
            EXPECT_EQ(r.status, engine::EvalStatus::Ok);
            EXPECT_DOUBLE_EQ(r.val_acc, double(j.seed) / 1000.0);
        } else {
            EXPECT_EQ(r.status, engine::EvalStatus::Diverged);
        }
        --in_callback;
    }, [] { return false; });
    EXPECT_EQ(seen.size(), 20u);
    EXPECT_EQ(overlap, 0) << "results are delivered one at a time";
}

TEST(LocalExecutor, StopSkipsTheJobsNotStartedAndErrorsReachTheCaller) {
    auto ex = make_local_executor({score_by_seed}, 1);
    std::atomic<int> done{0};
    ex->run(make_jobs(50), [&](const Job&, const engine::EvalResult&) { ++done; }, [&] { return done.load() >= 5; });
    EXPECT_EQ(done.load(), 5);   // one thread: the check before each job sees every result

    auto failing = make_local_executor({[](const Job& j) -> engine::EvalResult {
                                           if (j.id == 3) throw std::runtime_error("scorer failed");
                                           return score_by_seed(j);
                                       }},
                                       2);
    EXPECT_THROW(failing->run(make_jobs(10), [](const Job&, const engine::EvalResult&) {}, [] { return false; }),
                 std::runtime_error);
    EXPECT_THROW(ex->run(make_jobs(3), [](const Job&, const engine::EvalResult&) { throw std::logic_error("store"); },
                         [] { return false; }),
                 std::logic_error);
}

}  // namespace
}  // namespace actsearch::driver
