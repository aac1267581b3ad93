#include "actsearch/driver/rungs.hpp"

#include <stdexcept>

#include <nlohmann/json.hpp>

namespace actsearch::driver {

std::string rungs_state(const std::vector<Rung>& rungs) {
    nlohmann::json out = nlohmann::json::array();
    for (const Rung& r : rungs)
        out.push_back({{"task", r.scorer.task}, {"fidelity", r.scorer.fidelity}, {"seeds", r.rule.seeds},
                       {"keep", r.rule.keep}});
    return out.dump();
}

std::string twins_state(const std::vector<HardenedTwin>& twins) {
    nlohmann::json out = nlohmann::json::array();
    for (const HardenedTwin& t : twins) out.push_back({{"twin", t.target}, {"origin", t.origin}});
    return out.dump();
}

namespace {

RungView rung_from(const nlohmann::json& j) {
    RungView v;
    v.task = j.at("task").get<std::string>();
    v.fidelity = j.at("fidelity").get<std::string>();
    v.seeds = j.value("seeds", 1);
    v.keep = j.value("keep", 0.0);
    return v;
}

// Runs saved before the "rungs" state: the screen and any ladder are in the run's configuration key.
std::vector<RungView> rungs_from_key(const std::string& config_json) {
    const auto key = nlohmann::json::parse(config_json, nullptr, /*allow_exceptions=*/false);
    if (!key.is_object() || !key.contains("space") || !key.contains("strategy") || !key.contains("task") ||
        !key.contains("fidelity"))
        return {};
    std::vector<RungView> out{rung_from(key)};
    if (auto it = key.find("ladder"); it != key.end() && it->is_array())
        for (const auto& r : *it) out.push_back(rung_from(r));
    return out;
}

}  // namespace

std::vector<RungView> rungs_of_run(db::Store& store, std::int64_t run) {
    const auto info = store.run(run);
    if (!info) return {};
    try {
        std::vector<RungView> out;
        if (auto saved = store.load_state(run, "rungs")) {
            for (const auto& r : nlohmann::json::parse(*saved)) out.push_back(rung_from(r));
        } else {
            out = rungs_from_key(info->config_json);
        }
        if (auto ladder = store.load_state(run, "ladder")) {
            const auto rungs = nlohmann::json::parse(*ladder).at("rungs");
            for (std::size_t r = 0; r < std::min(rungs.size(), out.size()); ++r)
                for (const auto& m : rungs[r].at("members")) out[r].members.push_back(m.at(0).get<std::int64_t>());
        }
        if (auto twins = store.load_state(run, "twins"); twins && !out.empty())
            for (const auto& t : nlohmann::json::parse(*twins))
                out.back().twins.emplace(t.at("twin").get<std::int64_t>(), t.at("origin").get<std::int64_t>());
        return out;
    } catch (const nlohmann::json::exception& e) {
        throw std::runtime_error("run " + std::to_string(run) + ": unreadable rung state: " + e.what());
    }
}

std::int64_t latest_search_run(db::Store& store) {
    const auto runs = store.list_runs();
    for (auto it = runs.rbegin(); it != runs.rend(); ++it)
        if (!rungs_of_run(store, it->id).empty()) return it->id;
    return 0;
}

}  // namespace actsearch::driver
