// The accuracy/cost Pareto front.
#pragma once

#include <cstddef>
#include <vector>

namespace actsearch::cost {

struct ScoreCost {
    double score = 0;   // higher is better
    double cost = 0;    // lower is better
};

// Indices of the non-dominated points, cheapest first (ties in cost: higher score first, then index).
// A point is dominated when another has score >= and cost <= with one of them strict; equal points
// are both kept. Points with a non-finite score or cost are never on the front. O(n log n).
std::vector<std::size_t> pareto_front(const std::vector<ScoreCost>& points);

}  // namespace actsearch::cost
