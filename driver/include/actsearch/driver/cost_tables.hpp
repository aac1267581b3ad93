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

}  // namespace actsearch::driver
