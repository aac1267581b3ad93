// actsearch parse EXPR: what the grammar makes of an expression.
#include <array>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "actsearch/cost/cost.hpp"
#include "actsearch/grammar/fingerprint.hpp"
#include "actsearch/grammar/print.hpp"
#include "actsearch/grammar/program.hpp"
#include "cli_util.hpp"
#include "commands.hpp"
#include "table_format.hpp"

namespace actsearch::cli {
namespace {

Cell to_cell(const Json& v) { return v.is_null() ? Cell{} : Cell{v.get<double>()}; }

struct ParseOptions {
    std::string expr;
    std::string notation = "infix";
    std::string format = "table";
};

void run_parse(const ParseOptions& o) {
    const Expr e = parse_or_report(o.expr, notation_from(o.notation));
    const Expr canon = canonicalize(e);
    const std::string canon_text = to_infix(canon);
    const std::uint64_t hash = structural_hash(canon);
    const Fingerprint fp = fingerprint(e);

    const Program program(canon);
    const int nbeta = program.beta_count();
    const std::vector<float>& betas = program.beta_initial_values();   // where training starts
    const std::vector<double> initial = canon.beta_initial_values();
    constexpr std::array<float, 7> xs{-3.0f, -1.0f, -0.5f, 0.0f, 0.5f, 1.0f, 3.0f};
    std::array<float, xs.size()> ys{}, dys{};
    program.eval(xs.data(), ys.data(), xs.size(), betas.data());
    std::array<float, xs.size()> ones{};
    ones.fill(1.0f);
    std::vector<float> dbeta(static_cast<std::size_t>(nbeta), 0.0f);
    program.backward(xs.data(), ones.data(), dys.data(), betas.data(), nbeta ? dbeta.data() : nullptr,
                     ActShape{xs.size(), 1, 1});

    // Built-in cost table (measured on the development machine); `actsearch calibrate` measures this one.
    const double cost = cost::expr_cost(canon), training_cost = cost::expr_cost(canon, cost::default_table(), true);

    // f and f' in single precision, written in their shortest float form (as the table shows them).
    auto real = [](float v) { return std::isfinite(v) ? Json(std::stod(fmt::format("{}", v))) : Json(nullptr); };
    const OutputFormat format = output_format_from(o.format);
    if (format == OutputFormat::Json) {
        Json doc = {{"input", o.expr},
                    {"canonical", canon_text},
                    {"structural_hash", fmt::format("{:016x}", hash)},
                    {"fingerprint", fmt::format("{:016x}", fp.hash)},
                    {"valid", fp.valid},
                    {"invalid_reason", fp.reason},
                    {"betas", nbeta},
                    {"beta_initial", initial},
                    {"cost", cost},
                    {"training_cost", training_cost}};
        Json& samples = doc["samples"] = Json::array();
        for (std::size_t i = 0; i < xs.size(); ++i) samples.push_back({{"x", real(xs[i])}, {"f", real(ys[i])}, {"df", real(dys[i])}});
        fmt::print("{}", json_text(doc));
        return;
    }
    if (format == OutputFormat::Csv) {   // one row per sample point, the expression's fields repeated
        Table t;
        t.columns = {{"input"}, {"canonical"}, {"structural_hash"}, {"fingerprint"}, {"valid"},
                     {"betas"}, {"x"},         {"f"},               {"df"}};
        for (std::size_t i = 0; i < xs.size(); ++i)
            t.add_row({o.expr, canon_text, fmt::format("{:016x}", hash), fmt::format("{:016x}", fp.hash), fp.valid,
                       std::int64_t{nbeta}, to_cell(real(xs[i])), to_cell(real(ys[i])), to_cell(real(dys[i]))});
        fmt::print("{}", render_csv(t));
        return;
    }
    fmt::print("input        {}\n", o.expr);
    fmt::print("canonical    {}\n", canon_text);
    fmt::print("hash         {:016x}\n", hash);
    fmt::print("fingerprint  {:016x}{}\n", fp.hash, fp.valid ? "" : "  (INVALID: " + fp.reason + ")");
    fmt::print("betas        {}{}\n", nbeta,
               nbeta ? fmt::format(" (trainable per channel, initial {}; shown there)", fmt::join(initial, ", ")) : "");
    fmt::print("cost         {:.2f} x relu per element (training step {:.2f} x relu's)\n", cost, training_cost);
    fmt::print("\n{:>8}  {:>12}  {:>12}\n", "x", "f(x)", "f'(x)");
    for (std::size_t i = 0; i < xs.size(); ++i) fmt::print("{:>8}  {:>12.6g}  {:>12.6g}\n", xs[i], ys[i], dys[i]);
}

}  // namespace

void add_parse_command(CLI::App& app) {
    auto opts = std::make_shared<ParseOptions>();
    CLI::App* cmd = app.add_subcommand(
        "parse", "Parse an expression: canonical form, structural hash, fingerprint, sample values");
    cmd->add_option("expr", opts->expr, "Expression, e.g. 'x*sigmoid(beta*x)' or 'min(square(x),selu(x))'")
        ->required();
    cmd->add_option("--notation", opts->notation, "infix (default) or aquasurf (Act-Bench prefix names)")
        ->capture_default_str();
    add_format_option(cmd, opts->format, "table, csv (one row per sample point) or json (one object)");
    cmd->callback([opts] { run_parse(*opts); });
}

}  // namespace actsearch::cli
