// Every candidate of the space once, in index order: the baseline for small spaces and the way to
// build a complete table of a space (functionally equal candidates are merged by the driver).
#include <algorithm>

#include "blob.hpp"
#include "strategies.hpp"

namespace actsearch::search {
namespace {

constexpr std::uint32_t kStateVersion = 1;

class Exhaustive final : public Strategy {
public:
    explicit Exhaustive(ChoiceShape shape) : shape_(std::move(shape)) {}

    const char* name() const noexcept override { return "exhaustive"; }

    std::vector<Choice> propose(std::size_t n) override {
        const auto take = std::min<std::uint64_t>(n, shape_.count() - next_);
        std::vector<Choice> out;
        out.reserve(static_cast<std::size_t>(take));
        for (std::uint64_t i = 0; i < take; ++i) out.push_back(shape_.decode(next_++));
        return out;
    }

    void observe(const Choice& c, double reward) override {
        check_observation(shape_, c, reward, "exhaustive: observe");
    }

    std::string save() const override {
        BlobWriter out(name(), kStateVersion);
        save_shape(out, shape_);
        out.u64(next_);
        return std::move(out).finish();
    }

    void load(const std::string& blob) override {
        BlobReader in(blob, name(), kStateVersion);
        expect_shape(in, shape_);
        const auto next = in.u64();
        if (next > shape_.count()) in.fail("next index beyond the end of the space");
        in.expect_end();
        next_ = next;
    }

private:
    ChoiceShape shape_;
    std::uint64_t next_ = 0;
};

}  // namespace

std::unique_ptr<Strategy> make_exhaustive(ChoiceShape shape, const StrategyOptions&) {
    return std::make_unique<Exhaustive>(std::move(shape));
}

}  // namespace actsearch::search
