#include "table_task.hpp"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "actsearch/db/store.hpp"
#include "actsearch/grammar/parse.hpp"
#include "candidate_info.hpp"
#include "candidate_ref.hpp"
#include "commands.hpp"

namespace actsearch::cli {

bool is_table_task(const std::string& task) { return task.rfind("table:", 0) == 0; }
std::string table_path(const std::string& task) { return task.substr(6); }

TableTask::TableTask(const std::string& path) : store_(open_for_reading(path)) {
    std::map<std::pair<std::string, std::string>, std::size_t> scored;
    db::LeaderboardQuery all;
    all.top = 0;
    all.min_seeds = 0;
    for (const auto& row : store_->leaderboard(all))
        if (!is_table_task(row.task)) ++scored[{row.task, row.fidelity}];
    if (scored.empty()) throw UsageError(fmt::format("table '{}' holds no trained evaluations", path));
    const auto best = std::max_element(scored.begin(), scored.end(),
                                       [](const auto& a, const auto& b) { return a.second < b.second; });
    task_ = best->first.first;
    fidelity_ = best->first.second;
}

TableTask::~TableTask() = default;

std::string TableTask::fidelity_key() const { return "table:" + task_ + " " + fidelity_; }

engine::EvalResult TableTask::score(const std::string& expr) {
    engine::EvalResult r;
    auto parsed = parse(expr);
    if (!parsed.ok()) {
        r.message = "cannot parse '" + expr + "'";
        return r;
    }
    const CandidateInfo info = describe(parsed.expr());
    std::lock_guard lock(mutex_);
    const auto cand = find_candidate(*store_, info);
    if (!cand) {
        r.message = "not in table";
        return r;
    }
    db::LeaderboardQuery q;
    q.task = task_;
    q.fidelity = fidelity_;
    q.candidate = cand->id;
    q.min_seeds = 0;
    q.top = 1;
    const auto rows = store_->leaderboard(q);
    if (rows.empty() || rows[0].n_ok + rows[0].n_diverged == 0) {
        r.message = "not in table";
        return r;
    }
    if (rows[0].n_ok == 0) {
        r.status = engine::EvalStatus::Diverged;
        r.message = "diverged in table";
        return r;
    }
    // What a search with the table's seeds would reward (SearchLoop::reward): the mean over the seeds
    // with a diverged one counted as 0. The row's mean is over the ok seeds.
    r.status = engine::EvalStatus::Ok;
    r.val_acc = rows[0].mean * double(rows[0].n_ok) / double(rows[0].n_ok + rows[0].n_diverged);
    return r;
}

}  // namespace actsearch::cli
