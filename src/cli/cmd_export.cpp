// actsearch export: a found activation as C++, PyTorch, LaTeX, or everything stored about it as JSON.
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include "actsearch/grammar/export.hpp"
#include "candidate_ref.hpp"
#include "commands.hpp"

namespace actsearch::cli {
namespace {

struct ExportOptions {
    std::vector<std::string> exprs;
    std::vector<std::int64_t> ids;
    std::vector<std::string> ranks;
    int top = 0;
    std::string db = kDefaultDb;
    std::optional<std::string> task;
    std::optional<std::int64_t> run;
    int min_seeds = 1;
    std::string format = "cpp";
    std::optional<std::string> name;
    std::optional<std::string> output;
};

// "mean 0.8734 ± 0.0021 over 3 seeds on fmnist-mlp (steps=400 ...)": the score placed above the function.
std::string score_summary(const db::LeaderboardRow& r) {
    return fmt::format("mean val_acc {:.4f} +- {:.4f} over {} seed{} on {} ({})", r.mean, r.stddev, r.seeds,
                       r.seeds == 1 ? "" : "s", r.task, r.fidelity);
}

std::string comment_for(db::Store* store, const CandidateTarget& t, const std::optional<std::string>& task) {
    std::string comment = t.text;
    if (t.rank > 0 && t.row) return fmt::format("rank {}: {}; {}", t.rank, score_summary(*t.row), comment);
    if (store && t.stored) {
        db::LeaderboardQuery q;
        q.candidate = t.stored->id;
        q.task = task;
        q.top = 1;
        const auto rows = store->leaderboard(q);
        if (!rows.empty()) return fmt::format("candidate {}: {}; {}", t.stored->id, score_summary(rows[0]), comment);
        return fmt::format("candidate {}; {}", t.stored->id, comment);
    }
    return comment;
}

void write_output(const std::optional<std::string>& path, const std::string& text, std::size_t count) {
    if (!path) {
        fmt::print("{}", text);
        return;
    }
    const std::filesystem::path file(*path);
    const std::filesystem::path dir = file.parent_path();
    if (!dir.empty() && !std::filesystem::is_directory(dir))
        throw UsageError(fmt::format("cannot write '{}': directory '{}' does not exist", *path, dir.string()));
    std::ofstream out(file, std::ios::binary);
    out << text;
    out.close();
    if (!out) throw std::runtime_error(fmt::format("cannot write '{}'", *path));
    fmt::print("wrote {} function{} to {}\n", count, count == 1 ? "" : "s", *path);
}

void run_export(const ExportOptions& o) {
    if (o.format != "cpp" && o.format != "torch" && o.format != "latex" && o.format != "json")
        throw UsageError(fmt::format("unknown format '{}' (expected cpp, torch, latex or json)", o.format));
    std::vector<std::string> rank_specs = o.ranks;
    if (o.top > 0) rank_specs.push_back(fmt::format("1-{}", o.top));
    const std::vector<int> ranks = parse_rank_specs(rank_specs);
    if (o.exprs.empty() && o.ids.empty() && ranks.empty())
        throw UsageError("nothing to export: give an EXPR, --id ID, --rank N or --top N");

    // An expression alone needs no database (pure grammar); JSON adds what is stored if there is one.
    std::unique_ptr<db::Store> store;
    if (!o.ids.empty() || !ranks.empty() || (o.format == "json" && std::filesystem::exists(o.db)))
        store = open_for_reading(o.db);

    std::vector<CandidateTarget> targets;
    for (const std::string& e : o.exprs) targets.push_back(target_from_expression(e, store.get()));
    for (std::int64_t id : o.ids) targets.push_back(target_from_id(*store, id));
    if (!ranks.empty()) {
        db::LeaderboardQuery q;
        q.task = o.task;
        q.run = o.run;
        q.min_seeds = o.min_seeds;
        for (CandidateTarget& t : targets_from_ranks(*store, ranks, q)) targets.push_back(std::move(t));
    }

    if (o.name) {
        if (targets.size() != 1)
            throw UsageError(fmt::format("--name names one function, but {} are exported", targets.size()));
        if (!is_identifier(*o.name)) throw UsageError(fmt::format("--name '{}' is not a C++ identifier", *o.name));
    }

    std::string text;
    if (o.format == "json") {
        if (targets.size() == 1) {
            text = candidate_json(store.get(), targets[0]);
        } else {
            text = "[\n";
            for (std::size_t i = 0; i < targets.size(); ++i) {
                std::string doc = candidate_json(store.get(), targets[i]);
                doc.pop_back();   // its newline
                text += doc + (i + 1 < targets.size() ? ",\n" : "\n");
            }
            text += "]\n";
        }
    } else {
        std::vector<ExportItem> items;
        std::map<std::string, int> used;   // one header cannot define a name twice
        for (const CandidateTarget& t : targets) {
            std::string name = o.name ? *o.name : default_name(t);
            if (const int n = ++used[name]; n > 1) name += fmt::format("_{}", n);
            items.push_back({name, t.expr, comment_for(store.get(), t, o.task)});
        }
        if (o.format == "cpp") {
            text = export_cpp(items);
        } else if (o.format == "torch") {
            text = export_torch(items);
        } else if (items.size() == 1) {
            text = export_latex(items[0].expr) + "\n";
        } else {
            for (const ExportItem& item : items) text += fmt::format("% {}: {}\n{}\n", item.name, item.comment, export_latex(item.expr));
        }
    }
    write_output(o.output, text, targets.size());
}

}  // namespace

void add_export_command(CLI::App& app) {
    auto opts = std::make_shared<ExportOptions>();
    CLI::App* cmd = app.add_subcommand(
        "export", "Write activations as a C++ header (value and gradient), PyTorch modules, LaTeX, or JSON");
    cmd->add_option("expr", opts->exprs, "Expressions to export (no database needed)");
    cmd->add_option("--id", opts->ids, "Stored candidate ids")->check(CLI::PositiveNumber);
    cmd->add_option("--rank", opts->ranks, "Leaderboard ranks: N or a range A-B (as `actsearch leaderboard` ranks them)");
    cmd->add_option("--top", opts->top, "The top N of the leaderboard")->check(CLI::NonNegativeNumber);
    cmd->add_option("--db", opts->db, "Results database")->capture_default_str();
    cmd->add_option("--task", opts->task, "Rank on this task only");
    cmd->add_option("--run", opts->run, "Rank on this run's evaluations only")->check(CLI::PositiveNumber);
    cmd->add_option("--min-seeds", opts->min_seeds, "Rank only candidates with this many ok seeds")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
    cmd->add_option("--format", opts->format, "cpp, torch, latex or json")->capture_default_str();
    cmd->add_option("--name", opts->name, "Function name (one function only; default: from the expression, or act_rankN)");
    cmd->add_option("-o,--output", opts->output, "Write to this file instead of stdout");
    cmd->callback([opts] { run_export(*opts); });
}

}  // namespace actsearch::cli
