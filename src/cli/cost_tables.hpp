// The cost table a command uses (driver/): this machine's calibration from the database, or the
// built-in table.
#pragma once

#include "actsearch/driver/cost_tables.hpp"

namespace actsearch::cli {
using driver::cost_table_for;
using driver::from_rows;
using driver::to_rows;
}  // namespace actsearch::cli
