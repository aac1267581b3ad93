#include "actsearch/driver/ladder.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace actsearch::driver {

Ladder::Ladder(std::vector<RungRule> rungs) : rules_(std::move(rungs)), rungs_(rules_.size()) {
    if (rules_.empty()) throw std::invalid_argument("a ladder needs at least one rung");
    for (std::size_t r = 0; r < rules_.size(); ++r) {
        if (rules_[r].seeds < 1) throw std::invalid_argument(fmt::format("rung {}: seeds must be at least 1", r + 1));
        const double keep = rules_[r].keep;
        if (r > 0 && !(keep > 0 && (keep < 1 || keep == std::floor(keep)) && std::isfinite(keep)))
            throw std::invalid_argument(
                fmt::format("rung {}: keep must be a fraction between 0 and 1 or a whole count, not {}", r + 1, keep));
    }
}

bool Ladder::admitted(std::size_t rung, std::int64_t id) const { return rungs_.at(rung).admitted.count(id) > 0; }

void Ladder::admit(std::size_t rung, std::int64_t id) {
    Rung& R = rungs_[rung];
    if (!R.admitted.insert(id).second) return;
    R.pending.push_back(id);
}

void Ladder::admit_best(std::size_t rung, std::size_t k) {
    const Rung& below = rungs_[rung - 1];
    std::size_t seen = 0;
    for (auto it = below.ranking.begin(); it != below.ranking.end() && seen < k; ++it, ++seen)
        admit(rung, std::get<2>(*it));
}

bool Ladder::finish(std::size_t rung, std::int64_t id, double reward, bool ok) {
    Rung& R = rungs_.at(rung);
    if (!R.finished.insert(id).second) return false;
    if (!std::isfinite(reward)) reward = 0, ok = false;
    const std::size_t arrival = R.members.size();
    R.members.push_back({id, reward, ok});
    if (ok) R.ranking.emplace(-reward, arrival, id);
    if (rung > 0) {
        R.admitted.insert(id);   // a result at this rung counts even if this ladder did not admit it
        auto p = std::find(R.pending.begin(), R.pending.end(), id);
        if (p != R.pending.end()) R.pending.erase(p);
    }
    const std::size_t up = rung + 1;
    if (up < rules_.size() && rules_[up].asynchronous()) {
        const double k = std::floor(static_cast<double>(R.members.size()) * rules_[up].keep + 1e-9);
        admit_best(up, static_cast<std::size_t>(k));
    }
    return true;
}

bool Ladder::closed(std::size_t rung) const {
    if (!screen_closed_) return false;
    for (std::size_t r = 1; r <= rung; ++r) {
        const Rung& R = rungs_[r];
        if (!R.pending.empty()) return false;
        if (!rules_[r].asynchronous() && !R.count_done) return false;
    }
    return true;
}

void Ladder::close_screen() {
    screen_closed_ = true;
    advance();
}

void Ladder::advance() {
    for (std::size_t r = 1; r < rules_.size(); ++r) {
        if (rules_[r].asynchronous() || rungs_[r].count_done || !closed(r - 1)) continue;
        admit_best(r, static_cast<std::size_t>(rules_[r].keep));
        rungs_[r].count_done = true;
    }
}

std::vector<Ladder::Pending> Ladder::pending() const {
    std::vector<Pending> out;
    for (std::size_t r = 1; r < rungs_.size(); ++r)
        for (std::int64_t id : rungs_[r].pending) out.push_back({r, id});
    return out;
}

bool Ladder::done() const { return closed(rules_.size() - 1); }

std::string Ladder::save() const {
    nlohmann::json rungs = nlohmann::json::array();
    for (const Rung& R : rungs_) {
        nlohmann::json members = nlohmann::json::array();
        for (const Member& m : R.members) members.push_back({m.id, m.reward, m.ok});
        rungs.push_back({{"members", members}, {"pending", R.pending}, {"count_done", R.count_done}});
    }
    return nlohmann::json{{"rungs", rungs}}.dump();
}

void Ladder::load(const std::string& text) {
    std::vector<Rung> fresh(rules_.size());
    try {
        const auto doc = nlohmann::json::parse(text);
        const auto& rungs = doc.at("rungs");
        for (std::size_t r = 0; r < std::min(rungs.size(), fresh.size()); ++r) {
            Rung& R = fresh[r];
            for (const auto& m : rungs[r].at("members")) {
                const Member member{m.at(0).get<std::int64_t>(), m.at(1).get<double>(), m.at(2).get<bool>()};
                if (!R.finished.insert(member.id).second) continue;
                if (member.ok) R.ranking.emplace(-member.reward, R.members.size(), member.id);
                R.members.push_back(member);
                if (r > 0) R.admitted.insert(member.id);
            }
            for (const auto& id : rungs[r].at("pending")) {
                const auto v = id.get<std::int64_t>();
                if (R.admitted.insert(v).second) R.pending.push_back(v);
            }
            R.count_done = rungs[r].at("count_done").get<bool>();
        }
    } catch (const nlohmann::json::exception& e) {
        throw std::runtime_error(std::string("unreadable ladder state: ") + e.what());
    }
    rungs_ = std::move(fresh);
}

}  // namespace actsearch::driver
