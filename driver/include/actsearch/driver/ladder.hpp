// The fidelity ladder's bookkeeping: which candidates finished which rung with which reward, and which
// are waiting to be evaluated on the next rung. No training, no storage: the search loop feeds it
// results in a deterministic order (proposal order, then admission order) and asks what to run next.
//
// Rung 0 screens every candidate. A later rung r admits candidates of rung r-1 by its `keep`:
//  - a fraction (0 < keep < 1): asynchronous successive halving (ASHA). Each time a candidate finishes
//    rung r-1, the best floor(n * keep) of the n candidates finished there so far are admitted (those not
//    admitted yet), so promotions start long before the screen is over and workers never wait for a rung
//    to fill up;
//  - a count (keep >= 1): the best `keep` of rung r-1, once rung r-1 is closed (no candidate can still
//    reach it): "the best few", decided on complete information.
// Ranking: reward (mean over the rung's seeds, 0 for a seed that did not train) descending, then the
// order in which candidates finished the rung. A candidate with no successful seed is never admitted.
#pragma once

#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <tuple>
#include <unordered_set>
#include <utility>
#include <vector>

namespace actsearch::driver {

struct RungRule {
    int seeds = 1;
    double keep = 0;   // ignored for rung 0; (0, 1): fraction, ASHA; >= 1: count, after the rung below closes
    bool asynchronous() const noexcept { return keep > 0 && keep < 1; }
};

class Ladder {
public:
    struct Member {
        std::int64_t id = 0;
        double reward = 0;
        bool ok = false;   // at least one seed trained successfully
    };
    struct Pending {
        std::size_t rung = 0;
        std::int64_t id = 0;
    };

    // Throws std::invalid_argument for an empty ladder, seeds < 1, or a later rung without a valid keep.
    explicit Ladder(std::vector<RungRule> rungs);

    std::size_t size() const noexcept { return rules_.size(); }
    const RungRule& rule(std::size_t rung) const { return rules_.at(rung); }

    // Candidate `id` finished `rung` (rung 0: it was screened). A second call for the same (rung, id) is
    // ignored (returns false). May admit candidates to rung + 1 (ASHA).
    bool finish(std::size_t rung, std::int64_t id, double reward, bool ok);

    // No further candidate will be screened (space exhausted or budget spent). Admits the best of each
    // count rung whose lower rung is now closed; call after every finish() once the screen is closed.
    void close_screen();
    void advance();

    // Candidates admitted to a rung and not finished there yet, by rung, then in order of admission.
    std::vector<Pending> pending() const;
    bool done() const;                               // screen closed, nothing pending, every rung closed
    bool closed(std::size_t rung) const;
    const std::vector<Member>& members(std::size_t rung) const { return rungs_.at(rung).members; }
    bool admitted(std::size_t rung, std::int64_t id) const;   // rung >= 1: pending or finished there
    bool screen_closed() const noexcept { return screen_closed_; }

    // Everything but screen_closed (which the loop re-derives on resume), as JSON text; load() throws
    // std::runtime_error on text it cannot read. A saved state with more or fewer rungs than this ladder
    // keeps the rungs both have.
    std::string save() const;
    void load(const std::string& json);

private:
    struct Rung {
        std::vector<Member> members;
        std::unordered_set<std::int64_t> finished;
        // (-reward, arrival, id) of the promotable members: begin() is the best.
        std::set<std::tuple<double, std::size_t, std::int64_t>> ranking;
        std::vector<std::int64_t> pending;
        std::unordered_set<std::int64_t> admitted;   // pending or finished
        bool count_done = false;
    };
    void admit(std::size_t rung, std::int64_t id);
    void admit_best(std::size_t rung, std::size_t k);   // the best k of rung - 1 that are not admitted

    std::vector<RungRule> rules_;
    std::vector<Rung> rungs_;
    bool screen_closed_ = false;
};

}  // namespace actsearch::driver
