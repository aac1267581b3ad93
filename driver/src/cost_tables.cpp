#include "actsearch/driver/cost_tables.hpp"

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

cost::CostTable cost_table_for(db::Store* store) {
    if (store != nullptr) {
        const std::string cpu = cost::cpu_name();
        if (auto rows = store->calibration(cpu); !rows.empty()) return from_rows(cpu, rows);
    }
    return cost::default_table();
}

}  // namespace actsearch::driver
