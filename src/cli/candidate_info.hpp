// The candidate helpers of the search loop's resolve step (driver/), under the names the commands use.
#pragma once

#include "actsearch/driver/candidate.hpp"

namespace actsearch::cli {

using driver::CandidateInfo;
using driver::describe;
using driver::find_candidate;
using driver::make_evaluation;
using driver::record_candidate;
using driver::result_of;
using driver::store_candidate;
using driver::StoredCandidate;

}  // namespace actsearch::cli
