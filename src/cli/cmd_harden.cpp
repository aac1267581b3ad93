// actsearch harden EXPR: cheap twins of an activation (substitution and piecewise-linear fits), with
// their error against the origin and their cost, stored as candidates linked to the origin.
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "actsearch/cost/harden.hpp"
#include "actsearch/driver/search_loop.hpp"
#include "actsearch/grammar/print.hpp"
#include "candidate_info.hpp"
#include "cli_util.hpp"
#include "commands.hpp"
#include "cost_tables.hpp"

namespace actsearch::cli {
namespace {

struct HardenCliOptions {
    std::string expr;
    std::string notation = "infix";
    std::vector<int> knots;
    std::vector<int> clamps;
    std::string format = "table";
    std::string db = kDefaultDb;
    bool store = true;
};

std::int64_t store_with_origin(db::Store& store, const Expr& e, std::optional<std::int64_t> origin) {
    const CandidateInfo info = describe(e);
    const std::int64_t id = store_candidate(store, info).candidate;
    if (origin) {   // fills hardened_from when the row has none (an existing row keeps its own)
        db::CandidateRecord rec = *store.candidate(id);
        rec.hardened_from = origin;
        store.upsert_candidate(rec);
    }
    return id;
}

void run_harden(const HardenCliOptions& o) {
    if (o.format != "table" && o.format != "json")
        throw UsageError(fmt::format("unknown format '{}' (table or json)", o.format));
    const Expr origin = canonicalize(parse_or_report(o.expr, notation_from(o.notation)));
    std::unique_ptr<db::Store> store;
    if (o.store) store = std::make_unique<db::Store>(o.db);
    const cost::CostTable table = cost_table_for(store.get());

    cost::HardenOptions ho;
    if (!o.knots.empty() || !o.clamps.empty()) {   // a selection: the family not named gets no fit
        ho.knots = o.knots;
        ho.clamps = o.clamps;
    }
    const std::vector<cost::Twin> twins = cost::harden(origin, ho, table);
    const double origin_cost = cost::expr_cost(origin, table);

    std::optional<std::int64_t> origin_id;
    std::vector<std::int64_t> ids;
    if (store) {
        db::Transaction batch(*store);
        origin_id = store_with_origin(*store, origin, std::nullopt);
        for (const cost::Twin& t : twins) ids.push_back(store_with_origin(*store, t.expr, origin_id));
        batch.commit();
    }

    if (o.format == "json") {
        nlohmann::json j{{"origin", to_infix(origin)}, {"cost", origin_cost}, {"cost_table", table.source},
                         {"twins", nlohmann::json::array()}};
        if (origin_id) j["id"] = *origin_id;
        std::set<std::string> picked;   // what search --harden-top would train of these
        for (const cost::Twin& t : driver::pick_twins(twins, origin_cost)) picked.insert(t.text);
        for (std::size_t i = 0; i < twins.size(); ++i) {
            const cost::Twin& t = twins[i];
            nlohmann::json tj{{"expr", t.text}, {"method", t.method}, {"max_error", t.max_error},
                              {"weighted_error", t.weighted_error}, {"cost", t.cost},
                              {"harden_top", picked.count(t.text) > 0}};
            if (!ids.empty()) tj["id"] = ids[i];
            j["twins"].push_back(tj);
        }
        fmt::print("{}\n", j.dump(2));
        return;
    }
    fmt::print("origin  {}  (cost {:.2f} x relu; costs from the {} table)\n", to_infix(origin), origin_cost,
               table.source);
    if (twins.empty()) {
        fmt::print("no twin: nothing to substitute and no fit differs from the origin\n");
        return;
    }
    fmt::print("errors on [-6, 6] with betas at their initial values; weighted = max |error| * exp(-x^2/2)\n");
    fmt::print("{:>6}  {:>9}  {:>9}  {:>6}  {:<30}  {}\n", "id", "max err", "weighted", "cost", "method",
               "expression");
    for (std::size_t i = 0; i < twins.size(); ++i) {
        const cost::Twin& t = twins[i];
        fmt::print("{:>6}  {:>9.4f}  {:>9.4f}  {:>6.2f}  {:<30}  {}\n", ids.empty() ? std::string("-") : std::to_string(ids[i]),
                   t.max_error, t.weighted_error, t.cost, t.method.size() > 30 ? t.method.substr(0, 27) + "..." : t.method,
                   t.text);
    }
    if (store) fmt::print("stored in '{}' as hardened twins of candidate {}\n", o.db, *origin_id);
}

}  // namespace

void add_harden_command(CLI::App& app) {
    auto opts = std::make_shared<HardenCliOptions>();
    CLI::App* cmd = app.add_subcommand(
        "harden", "Cheap twins of an activation (hard substitutes, piecewise-linear fits) with their error and cost");
    cmd->add_option("expr", opts->expr, "Expression, e.g. 'x*sigmoid(x)'")->required();
    cmd->add_option("--notation", opts->notation, "infix (default) or aquasurf")->capture_default_str();
    cmd->add_option("--segments,--knots", opts->knots,
                    "Free knots K of the piecewise-linear fits a + b*x + sum c*relu(x - k) (K + 1 linear pieces; "
                    "repeatable; default 2..8 and --clamps 1..4; given alone, no hard_tanh fits)")
        ->check(CLI::Range(1, 16));
    cmd->add_option("--clamps", opts->clamps,
                    "Terms K of the fits a + b*x + sum c*hard_tanh(s*x - t) (2K knots, cheaper than relu's; "
                    "repeatable; default 1..4 and --segments 2..8; given alone, no relu fits)")
        ->check(CLI::Range(1, 8));
    cmd->add_option("--format", opts->format, "table or json")->capture_default_str();
    cmd->add_option("--db", opts->db, "Results database the twins are stored in")->capture_default_str();
    cmd->add_flag("!--no-store", opts->store, "Do not store the twins");
    cmd->callback([opts] { run_harden(*opts); });
}

}  // namespace actsearch::cli
