// Uniform sampling without replacement: the baseline every learning strategy has to beat.
#include <unordered_set>

#include "blob.hpp"
#include "strategies.hpp"

namespace actsearch::search {
namespace {

constexpr std::uint32_t kStateVersion = 1;

class RandomSearch final : public Strategy {
public:
    RandomSearch(ChoiceShape shape, std::uint64_t seed) : shape_(std::move(shape)), rng_(seed) {}

    const char* name() const noexcept override { return "random"; }

    std::vector<Choice> propose(std::size_t n) override {
        std::vector<Choice> out;
        while (out.size() < n && proposed_.size() < shape_.count()) {
            // Rejection keeps the draw uniform over the not yet proposed; the expected number of draws
            // is count / (count - proposed), small unless a space is nearly exhausted.
            std::uint64_t index;
            do index = rng_.below(shape_.count());
            while (!proposed_.insert(index).second);
            out.push_back(shape_.decode(index));
        }
        return out;
    }

    void observe(const Choice& c, double reward) override {
        check_observation(shape_, c, reward, "random: observe");
    }

    std::string save() const override {
        BlobWriter out(name(), kStateVersion);
        save_shape(out, shape_);
        out.bytes(rng_.state());
        out.index_set({proposed_.begin(), proposed_.end()});
        return std::move(out).finish();
    }

    void load(const std::string& blob) override {
        BlobReader in(blob, name(), kStateVersion);
        expect_shape(in, shape_);
        Rng rng = read_rng(in, rng_);
        const auto proposed = in.index_set();
        if (!proposed.empty() && proposed.back() >= shape_.count()) in.fail("candidate index outside the space");
        in.expect_end();
        rng_ = rng;
        proposed_ = {proposed.begin(), proposed.end()};
    }

private:
    ChoiceShape shape_;
    Rng rng_;
    std::unordered_set<std::uint64_t> proposed_;
};

}  // namespace

std::unique_ptr<Strategy> make_random(ChoiceShape shape, const StrategyOptions& options) {
    return std::make_unique<RandomSearch>(std::move(shape), options.seed);
}

}  // namespace actsearch::search
