// The fidelity harness's reference rankings: a CSV file, the built-in one, or a task in the database.
#include "fidelity.hpp"

#include <cmath>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>

#include "actsearch/db/store.hpp"
#include "candidate_info.hpp"
#include "cli_util.hpp"
#include "commands.hpp"

namespace actsearch::cli {

std::string_view builtin_reference_csv();   // generated from data/reference/swish-paper-cifar10.csv

namespace {

std::string trim(std::string_view s) {
    const auto b = s.find_first_not_of(" \t\r");
    if (b == std::string_view::npos) return {};
    const auto e = s.find_last_not_of(" \t\r");
    return std::string(s.substr(b, e - b + 1));
}

// Splits a CSV line on commas outside double quotes and outside parentheses.
std::vector<std::string> split_fields(std::string_view line, const std::string& where) {
    std::vector<std::string> fields;
    std::string field;
    int depth = 0;
    bool quoted = false;
    for (std::size_t i = 0; i < line.size(); ++i) {
        const char c = line[i];
        if (quoted) {
            if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
                field += '"';
                ++i;
            } else if (c == '"') {
                quoted = false;
            } else {
                field += c;
            }
        } else if (c == '"') {
            quoted = true;
        } else if (c == ',' && depth == 0) {
            fields.push_back(trim(field));
            field.clear();
        } else {
            depth += c == '(' ? 1 : c == ')' ? -1 : 0;
            field += c;
        }
    }
    if (quoted) throw UsageError(fmt::format("{}: unterminated quote", where));
    fields.push_back(trim(field));
    return fields;
}

}  // namespace

Reference parse_reference_csv(std::string_view text, const std::string& source) {
    Reference ref;
    ref.source = source;
    std::istringstream in{std::string(text)};
    std::string line;
    int line_no = 0;
    std::vector<std::string> header;
    int expr_col = -1, score_col = -1, label_col = -1;
    while (std::getline(in, line)) {
        ++line_no;
        const std::string t = trim(line);
        if (t.empty() || t[0] == '#') continue;
        const std::string where = fmt::format("{}:{}", source, line_no);
        std::vector<std::string> fields = split_fields(t, where);
        if (header.empty()) {
            header = fields;
            for (int i = 0; i < int(header.size()); ++i) {
                const std::string& h = header[std::size_t(i)];
                if (h == "expr") expr_col = i;
                if (h == "score" || (h == "mean" && score_col < 0)) score_col = i;
                if (h == "paper_name" || h == "name") label_col = i;
            }
            if (expr_col < 0 || score_col < 0)
                throw UsageError(fmt::format("{}: the header must name an 'expr' column and a 'score' (or 'mean') "
                                             "column, found: {}", where, t));
            continue;
        }
        if (fields.size() != header.size())
            throw UsageError(fmt::format("{}: {} fields where the header has {} (quote an expression that holds "
                                         "commas outside parentheses)", where, fields.size(), header.size()));
        ReferenceEntry e;
        e.expr = fields[std::size_t(expr_col)];
        const std::string& score = fields[std::size_t(score_col)];
        try {
            std::size_t used = 0;
            e.score = std::stod(score, &used);
            if (used != score.size() || !std::isfinite(e.score)) throw std::invalid_argument("trailing");
        } catch (const std::exception&) {
            throw UsageError(fmt::format("{}: score '{}' is not a finite number", where, score));
        }
        if (label_col >= 0) e.label = fields[std::size_t(label_col)];
        if (e.expr.empty()) throw UsageError(fmt::format("{}: empty expression", where));
        ref.entries.push_back(std::move(e));
    }
    if (header.empty()) throw UsageError(fmt::format("{}: no header row (expr,score)", source));
    if (ref.entries.size() < 3)
        throw UsageError(fmt::format("{}: {} functions; a rank correlation needs at least 3", source, ref.entries.size()));
    return ref;
}

Reference load_reference_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw UsageError(fmt::format("cannot read reference file '{}'", path));
    std::ostringstream text;
    text << in.rdbuf();
    return parse_reference_csv(text.str(), path);
}

Reference builtin_reference() {
    Reference r = parse_reference_csv(builtin_reference_csv(), "swish-paper-cifar10.csv");
    r.source = "the Swish paper's CIFAR-10 accuracies (mean of ResNet-164, WRN-28-10, DenseNet-100-12)";
    return r;
}

Reference reference_from_store(db::Store& store, const std::vector<ReferenceEntry>& functions, const std::string& task,
                               const std::optional<std::string>& fidelity) {
    Reference ref;
    ref.source = fmt::format("task {}{} in {}", task, fidelity ? " (" + *fidelity + ")" : "", store.path());
    std::string missing;
    for (const ReferenceEntry& f : functions) {
        const CandidateInfo info = describe(parse_or_report(f.expr));
        const auto row = find_candidate(store, info);
        std::vector<double> scores;
        std::string seen_fidelity;
        if (row)
            for (const db::EvaluationRecord& e : store.evaluations_of(row->id)) {
                if (e.task != task || (fidelity && e.fidelity != *fidelity)) continue;
                if (!fidelity && !seen_fidelity.empty() && e.fidelity != seen_fidelity)
                    throw UsageError(fmt::format("task {} has results at several fidelities in '{}' ({} and {}): "
                                                 "choose one with --reference-fidelity",
                                                 task, store.path(), seen_fidelity, e.fidelity));
                seen_fidelity = e.fidelity;
                if (e.status == "ok") scores.push_back(e.val_acc);
                else if (e.status == "diverged") scores.push_back(0.0);
            }
        if (scores.empty()) {
            missing += (missing.empty() ? "" : ", ") + f.expr;
            continue;
        }
        ref.entries.push_back({f.expr, stats::mean(scores), f.label});
    }
    if (ref.entries.size() < 3)
        throw UsageError(fmt::format("{} has results for {} of the {} functions (missing: {}); evaluate them there "
                                     "first, e.g. with actsearch fidelity --task {}",
                                     ref.source, ref.entries.size(), functions.size(), missing, task));
    return ref;
}

}  // namespace actsearch::cli
