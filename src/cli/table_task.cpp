#include "table_task.hpp"

#include <filesystem>

#include <fmt/format.h>

#include "actsearch/db/store.hpp"
#include "actsearch/grammar/parse.hpp"
#include "candidate_info.hpp"
#include "commands.hpp"

namespace actsearch::cli {

bool is_table_task(const std::string& task) { return task.rfind("table:", 0) == 0; }
std::string table_path(const std::string& task) { return task.substr(6); }

TableTask::TableTask(const std::string& path) {
    if (!std::filesystem::exists(path)) throw UsageError(fmt::format("no table database at '{}'", path));
    store_ = std::make_unique<db::Store>(path, /*read_only=*/true);
}

TableTask::~TableTask() = default;

engine::EvalResult TableTask::score(const std::string& expr) {
    engine::EvalResult r;
    auto parsed = parse(expr);
    if (!parsed.ok()) {
        r.message = "cannot parse '" + expr + "'";
        return r;
    }
    const CandidateInfo info = describe(parsed.expr());
    std::lock_guard lock(mutex_);
    auto cand = store_->candidate_by_expr(info.text);
    if (!cand && info.fingerprint.valid) cand = store_->candidate_by_fingerprint(info.fingerprint.hash);
    if (!cand) {
        r.message = "not in table";
        return r;
    }
    double sum = 0, loss = 0;
    int ok = 0, bad = 0;
    for (const auto& e : store_->evaluations_of(cand->representative.value_or(cand->id))) {
        if (e.status == "ok") {
            sum += e.val_acc;
            loss += e.val_loss;
            ++ok;
        } else {
            ++bad;
        }
    }
    if (ok == 0) {
        r.status = bad ? engine::EvalStatus::Diverged : engine::EvalStatus::Error;
        r.message = bad ? "not ok in table" : "not in table";
        return r;
    }
    r.status = engine::EvalStatus::Ok;
    r.val_acc = sum / ok;
    r.val_loss = loss / ok;
    return r;
}

}  // namespace actsearch::cli
