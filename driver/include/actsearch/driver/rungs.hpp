// The rungs of a stored search run, as the leaderboard shows them: each rung's task, fidelity, seeds and
// keep, and the candidates that finished it. A search saves its rungs as the run's "rungs" state when it
// starts (rungs_state); runs of earlier versions are read from their configuration key (the "ladder"
// field), and the members of each rung from the ladder's saved state.
#pragma once

#include <cstdint>
#include <string>
#include <map>
#include <vector>

#include "actsearch/db/store.hpp"
#include "actsearch/driver/search_loop.hpp"

namespace actsearch::driver {

struct RungView {
    std::string task, fidelity;
    int seeds = 1;
    double keep = 0;                    // 0 for the screen
    std::vector<std::int64_t> members;  // candidates that finished the rung, in the order they did
    // The last rung only (search --harden-top): the cheap twins of its best members that were evaluated
    // there, twin -> origin (the twin's stored representative -> the member it was derived from).
    std::map<std::int64_t, std::int64_t> twins;
};

// The state a search saves when it hardens its best (search --harden-top), read by rungs_of_run.
std::string twins_state(const std::vector<HardenedTwin>& twins);

// The state a search saves for rungs_of_run (JSON text).
std::string rungs_state(const std::vector<Rung>& rungs);

// The rungs of `run`: empty when the run is not a search (an `eval` or `fidelity` run) or unknown.
// Throws std::runtime_error on a state it cannot read.
std::vector<RungView> rungs_of_run(db::Store& store, std::int64_t run);

// The latest run (highest id) that is a search; 0 when there is none.
std::int64_t latest_search_run(db::Store& store);

}  // namespace actsearch::driver
