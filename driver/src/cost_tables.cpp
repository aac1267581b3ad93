#include "actsearch/driver/cost_tables.hpp"

#include <stdexcept>

#include <nlohmann/json.hpp>

namespace actsearch::driver {
namespace {
constexpr const char* kPass = "(pass)";
}

std::vector<db::CostRow> to_rows(const cost::CostTable& t) {
    std::vector<db::CostRow> rows;
    for (const auto& [dir, d] : {std::pair{"forward", &t.forward}, std::pair{"training", &t.backward}}) {
        rows.push_back({dir, kPass, d->pass, ""});
        for (const auto& [name, c] : d->ops) rows.push_back({dir, name, c, ""});
    }
    return rows;
}

cost::CostTable from_rows(const std::string& cpu, const std::vector<db::CostRow>& rows) {
    cost::CostTable t;
    t.cpu = cpu;
    for (const db::CostRow& r : rows) {
        cost::Direction& d = r.direction == "forward" ? t.forward : t.backward;
        if (r.primitive == kPass)
            d.pass = r.cost;
        else
            d.ops[r.primitive] = r.cost;
        t.source = "calibrated " + r.created.substr(0, 10);
    }
    return t;
}

std::string to_json(const cost::CostTable& t) {
    auto direction = [](const cost::Direction& d) { return nlohmann::json{{"pass", d.pass}, {"ops", d.ops}}; };
    return nlohmann::json{{"cpu", t.cpu},          {"source", t.source},
                          {"forward", direction(t.forward)}, {"training", direction(t.backward)},
                          {"relu_ns", t.relu_ns},  {"relu_training_ns", t.relu_training_ns}}
        .dump();
}

cost::CostTable from_json(const std::string& text) {
    try {
        const auto j = nlohmann::json::parse(text);
        auto direction = [](const nlohmann::json& d) {
            cost::Direction out;
            out.pass = d.at("pass").get<double>();
            out.ops = d.at("ops").get<std::map<std::string, double>>();
            return out;
        };
        cost::CostTable t;
        t.cpu = j.at("cpu").get<std::string>();
        t.source = j.at("source").get<std::string>();
        t.forward = direction(j.at("forward"));
        t.backward = direction(j.at("training"));
        t.relu_ns = j.value("relu_ns", 0.0);
        t.relu_training_ns = j.value("relu_training_ns", 0.0);
        return t;
    } catch (const nlohmann::json::exception& e) {
        throw std::runtime_error(std::string("unreadable cost table: ") + e.what());
    }
}

cost::CostTable cost_table_for(db::Store* store) {
    if (store != nullptr) {
        const std::string cpu = cost::cpu_name();
        if (auto rows = store->calibration(cpu); !rows.empty()) return from_rows(cpu, rows);
    }
    return cost::default_table();
}

}  // namespace actsearch::driver
