// The accuracy/cost Pareto front of a leaderboard: `leaderboard --pareto` and `plot --pareto`.
#pragma once

#include <string>
#include <vector>

#include "actsearch/db/store.hpp"
#include "table_format.hpp"

namespace actsearch::cli {

struct ParetoPoint {
    db::LeaderboardRow row;
    double cost = 0;                 // the stored cost, or computed from the expression when NULL
    std::string label;               // "relu", "swish", ... when functionally equal to a named function
};

struct ParetoGroup {
    std::string task, fidelity;
    std::vector<ParetoPoint> points;   // every scored candidate of the group, best score first
    std::vector<std::size_t> front;    // indices into points, cheapest first
};

// One group per (task, fidelity) among the leaderboard rows of q (q.top is ignored: the front needs
// every row). Rows without an ok evaluation are left out.
std::vector<ParetoGroup> pareto_groups(db::Store& store, db::LeaderboardQuery q);

// The fronts as a table (one caption per group), CSV or JSON (task and fidelity as columns).
std::string render_pareto(const std::vector<ParetoGroup>& groups, OutputFormat format);

// Score against cost (log scale): every candidate faint, the front highlighted and joined, the named
// functions labelled.
std::string render_pareto_svg(const ParetoGroup& g);

}  // namespace actsearch::cli
