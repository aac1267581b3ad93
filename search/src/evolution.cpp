// Regularized (aging) evolution, Real et al. 2019 (AutoML-Zero uses the same loop): a population of
// the P most recently evaluated candidates; each proposal is a one-token mutation of the best of T
// members drawn at random; the oldest member dies, whatever its reward, when a child is observed.
// Ageing keeps the search moving: a lucky candidate cannot hold the population forever.
#include <algorithm>
#include <cmath>
#include <deque>
#include <unordered_set>

#include <fmt/format.h>

#include "blob.hpp"
#include "strategies.hpp"

namespace actsearch::search {
namespace {

constexpr std::uint32_t kStateVersion = 1;
// Mutations of the tournament winner tried before a candidate proposed earlier is accepted again:
// enough to escape a crowded neighbourhood, few enough to keep a proposal cheap.
constexpr int kMutationAttempts = 8;

class Evolution final : public Strategy {
public:
    Evolution(ChoiceShape shape, const StrategyOptions& options)
        : shape_(std::move(shape)), population_size_(options.population), tournament_size_(options.tournament),
          rng_(options.seed) {
        for (std::size_t t = 0; t < shape_.tokens(); ++t)
            if (shape_.arity(t) > 1) mutable_tokens_.push_back(t);
    }

    const char* name() const noexcept override { return "evolution"; }

    std::vector<Choice> propose(std::size_t n) override {
        std::vector<Choice> out;
        while (out.size() < n && proposed_.size() < shape_.count()) {
            // Until P candidates have been observed there is no population to select from: sample.
            // Proposals issued while earlier ones are still out only select among observed members.
            Choice c = population_.size() < population_size_ || mutable_tokens_.empty() ? random_unproposed()
                                                                                         : mutate_winner();
            proposed_.insert(shape_.encode(c));
            pending_.push_back(c);
            out.push_back(std::move(c));
        }
        return out;
    }

    void observe(const Choice& c, double reward) override {
        check_observation(shape_, c, reward, "evolution: observe");
        const auto it = std::find(pending_.begin(), pending_.end(), c);
        if (it == pending_.end())
            throw std::invalid_argument("evolution: observe: the choice is not awaiting a reward");
        pending_.erase(it);
        population_.push_back({c, reward});
        if (population_.size() > population_size_) population_.pop_front();
    }

    std::string save() const override {
        BlobWriter out(name(), kStateVersion);
        save_shape(out, shape_);
        out.u64(population_size_);
        out.u64(tournament_size_);
        out.bytes(rng_.state());
        out.u64(population_.size());  // oldest first: the order is the members' age
        for (const auto& m : population_) {
            out.u64(shape_.encode(m.choice));
            out.f64(m.reward);
        }
        out.u64(pending_.size());
        for (const auto& c : pending_) out.u64(shape_.encode(c));
        out.index_set({proposed_.begin(), proposed_.end()});
        return std::move(out).finish();
    }

    void load(const std::string& blob) override {
        BlobReader in(blob, name(), kStateVersion);
        expect_shape(in, shape_);
        if (in.u64() != population_size_ || in.u64() != tournament_size_)
            in.fail("it was saved with another population or tournament size");
        Rng rng = read_rng(in, rng_);
        auto read_choice = [&] {
            const auto index = in.u64();
            if (index >= shape_.count()) in.fail("candidate index outside the space");
            return shape_.decode(index);
        };
        std::deque<Member> population(in.count(population_size_));
        for (auto& m : population) {
            m.choice = read_choice();
            m.reward = in.f64();
            if (!std::isfinite(m.reward)) in.fail("non-finite reward");
        }
        std::vector<Choice> pending(in.count(shape_.count()));
        for (auto& c : pending) c = read_choice();
        const auto proposed = in.index_set();
        if (!proposed.empty() && proposed.back() >= shape_.count()) in.fail("candidate index outside the space");
        in.expect_end();
        rng_ = rng;
        population_ = std::move(population);
        pending_ = std::move(pending);
        proposed_ = {proposed.begin(), proposed.end()};
    }

private:
    struct Member {
        Choice choice;
        double reward = 0.0;
    };

    Choice random_unproposed() {
        std::uint64_t index;
        do index = rng_.below(shape_.count());
        while (proposed_.contains(index));
        return shape_.decode(index);
    }

    // Tournament with replacement (as in AutoML-Zero); ties go to the first drawn.
    const Member& tournament_winner() {
        const Member* best = nullptr;
        for (std::size_t i = 0; i < tournament_size_; ++i) {
            const Member& m = population_[rng_.below(population_.size())];
            if (!best || m.reward > best->reward) best = &m;
        }
        return *best;
    }

    // One token replaced by a different allowed value.
    Choice mutate(const Choice& parent) {
        Choice child = parent;
        const auto t = mutable_tokens_[rng_.below(mutable_tokens_.size())];
        const auto shift = 1 + rng_.below(shape_.arity(t) - 1);
        child[t] = static_cast<std::uint32_t>((child[t] + shift) % shape_.arity(t));
        return child;
    }

    Choice mutate_winner() {
        const Choice parent = tournament_winner().choice;  // copy: population_ is not touched below
        Choice child;
        for (int attempt = 0; attempt < kMutationAttempts; ++attempt) {
            child = mutate(parent);
            if (!proposed_.contains(shape_.encode(child))) break;
        }
        return child;  // possibly proposed before: re-evaluation is cheap for the driver (stored reward)
    }

    ChoiceShape shape_;
    std::size_t population_size_;
    std::size_t tournament_size_;
    std::vector<std::size_t> mutable_tokens_;  // tokens with more than one allowed value
    Rng rng_;
    std::deque<Member> population_;  // oldest first
    std::vector<Choice> pending_;    // proposed, reward not yet observed (a multiset: order kept)
    std::unordered_set<std::uint64_t> proposed_;
};

}  // namespace

std::unique_ptr<Strategy> make_evolution(ChoiceShape shape, const StrategyOptions& options) {
    if (options.population == 0) throw std::invalid_argument("evolution: population must be at least 1");
    if (options.tournament == 0) throw std::invalid_argument("evolution: tournament size must be at least 1");
    return std::make_unique<Evolution>(std::move(shape), options);
}

}  // namespace actsearch::search
