// The cost table a command uses, and its conversion to and from database rows.
#pragma once

#include <vector>

#include "actsearch/cost/cost.hpp"
#include "actsearch/db/store.hpp"

namespace actsearch::driver {

// This machine's calibration stored in the database when there is one, the built-in table otherwise.
// store may be null.
cost::CostTable cost_table_for(db::Store* store);

std::vector<db::CostRow> to_rows(const cost::CostTable& t);
cost::CostTable from_rows(const std::string& cpu, const std::vector<db::CostRow>& rows);

// The whole table as JSON text and back: a search keeps the table it started with in its run state, so
// that a resumed run decides --max-cost and --cost-weight as before even after a new calibration.
// from_json throws std::runtime_error on text it cannot read.
std::string to_json(const cost::CostTable& t);
cost::CostTable from_json(const std::string& text);

}  // namespace actsearch::driver
