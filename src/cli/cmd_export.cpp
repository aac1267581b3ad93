// actsearch export: a found activation as C++, PyTorch, LaTeX, or everything stored about it as JSON.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include "actsearch/grammar/export.hpp"
#include "candidate_ref.hpp"
#include "cli_util.hpp"
#include "commands.hpp"
#include "table_format.hpp"

namespace actsearch::cli {
namespace {

struct ExportOptions {
    CandidateSelection selection;
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
    check_output_folder(*path);
    write_text_file(*path, text);
    fmt::print("wrote {} function{} to {}\n", count, count == 1 ? "" : "s", *path);
}

void run_export(const ExportOptions& o) {
    // An expression alone needs no database (pure grammar); JSON adds what is stored if there is one.
    std::unique_ptr<db::Store> store;
    const std::vector<CandidateTarget> targets = select_targets(o.selection, store, o.format == "json", "export");

    if (o.name) {
        if (targets.size() != 1)
            throw UsageError(fmt::format("--name names one function, but {} are exported", targets.size()));
        if (!is_identifier(*o.name)) throw UsageError(fmt::format("--name '{}' is not a C++ identifier", *o.name));
    }

    std::string text;
    if (o.format == "json") {
        if (targets.size() == 1) {
            text = json_text(candidate_json(store.get(), targets[0]));
        } else {
            Json all = Json::array();
            for (const CandidateTarget& t : targets) all.push_back(candidate_json(store.get(), t));
            text = json_text(all);
        }
    } else {
        std::vector<ExportItem> items;
        std::map<std::string, int> used;   // one header cannot define a name twice
        for (const CandidateTarget& t : targets) {
            std::string name = o.name ? *o.name : default_name(t);
            if (const int n = ++used[name]; n > 1) name += fmt::format("_{}", n);
            items.push_back({name, t.expr, comment_for(store.get(), t, o.selection.task)});
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
    add_selection_options(cmd, opts->selection);
    cmd->add_option("--format", opts->format, "cpp, torch, latex or json")
        ->capture_default_str()
        ->check(CLI::IsMember({"cpp", "torch", "latex", "json"}));
    cmd->add_option("--name", opts->name, "Function name (one function only; default: from the expression, or act_rankN)");
    cmd->add_option("-o,--output", opts->output, "Write to this file instead of stdout");
    cmd->callback([opts] { run_export(*opts); });
}

}  // namespace actsearch::cli
