#include "actsearch/cost/pareto.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace actsearch::cost {

std::vector<std::size_t> pareto_front(const std::vector<ScoreCost>& points) {
    std::vector<std::size_t> idx;
    for (std::size_t i = 0; i < points.size(); ++i)
        if (std::isfinite(points[i].score) && std::isfinite(points[i].cost)) idx.push_back(i);
    std::sort(idx.begin(), idx.end(), [&](std::size_t a, std::size_t b) {
        if (points[a].cost != points[b].cost) return points[a].cost < points[b].cost;
        if (points[a].score != points[b].score) return points[a].score > points[b].score;
        return a < b;
    });
    // Sweep by cost: a point is on the front when its score beats every cheaper point's; points equal
    // to the last one kept are kept too.
    std::vector<std::size_t> front;
    for (std::size_t i : idx) {
        if (front.empty()) {
            front.push_back(i);
            continue;
        }
        const ScoreCost& last = points[front.back()];
        const ScoreCost& p = points[i];
        if (p.score > last.score || (p.score == last.score && p.cost == last.cost)) front.push_back(i);
    }
    return front;
}

}  // namespace actsearch::cost
