// Surrogate-guided search (Bayesian optimisation): a Gaussian process over features computed without
// training (the candidate's values and derivatives on fixed probe points), expected improvement
// weighted by a predicted probability of not diverging, batches by the kriging believer. See
// search/STRATEGIES.md for the details and the choices made.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <unordered_map>
#include <unordered_set>

#include <Eigen/Dense>
#include <fmt/format.h>

#include "actsearch/grammar/fingerprint.hpp"
#include "actsearch/grammar/program.hpp"
#include "blob.hpp"
#include "strategies.hpp"

namespace actsearch::search {
namespace {

constexpr std::uint32_t kStateVersion = 1;
// Random proposals before the model is trusted.
constexpr std::size_t kInitial = 16;
// Spaces up to this size are scored whole every round; larger ones through a random pool.
constexpr std::uint64_t kFullScan = 1u << 15;
constexpr std::size_t kPool = 2048;
constexpr std::size_t kNeighbourhoods = 8;
// Observations the regression keeps: all up to kMaxTrain, else the kMaxTrain / 2 best and the latest.
constexpr std::size_t kMaxTrain = 800;
// Hyperparameters are chosen by marginal likelihood on at most this many (the latest) observations.
constexpr std::size_t kMaxSelect = 300;
constexpr double kExplore = 0.01;  // EI's margin, in standard deviations of the rewards

using Mat = Eigen::MatrixXd;
using Vec = Eigen::VectorXd;

// Features of one candidate of a Space: sign(v) log(1 + |v|) of f and f' at 24 points of [-4, 4],
// betas at their initial values (1 unless written); the fingerprint's hash groups functionally equal candidates.
CandidateFeatures space_features(const Space& space, std::uint64_t index) {
    CandidateFeatures out;
    const Expr e = space.build(space.decode(index));
    const Fingerprint fp = fingerprint(e);
    out.valid = fp.valid;
    out.group = fp.hash;
    if (!fp.valid) return out;
    constexpr int kPoints = 24;
    float x[kPoints], y[kPoints], dy[kPoints], dx[kPoints];
    for (int i = 0; i < kPoints; ++i) {
        x[i] = static_cast<float>(-4.0 + 8.0 * (i + 0.5) / kPoints);  // avoids the kinks at 0 and integers
        dy[i] = 1.0f;
    }
    const Program program(e);
    std::vector<float> beta(program.beta_initial_values());   // where training starts (1 unless written)
    if (beta.empty()) beta.push_back(1.0f);
    std::vector<float> dbeta(beta.size(), 0.0f);
    const ActShape shape{.outer = kPoints, .channels = 1, .inner = 1};
    program.forward(x, y, beta.data(), shape);
    program.backward(x, dy, dx, beta.data(), dbeta.data(), shape);
    auto squash = [](float v) {
        if (!std::isfinite(v)) return std::isnan(v) ? 0.0 : std::copysign(12.0, v);
        return std::clamp(std::copysign(std::log1p(std::fabs(static_cast<double>(v))), static_cast<double>(v)),
                          -12.0, 12.0);
    };
    out.x.reserve(2 * kPoints);
    for (int i = 0; i < kPoints; ++i) out.x.push_back(squash(y[i]));
    for (int i = 0; i < kPoints; ++i) out.x.push_back(squash(dx[i]));
    return out;
}

// Without a Space: one-hot tokens; every candidate valid and its own group.
FeatureFn one_hot_features(const ChoiceShape& shape) {
    return [shape](std::uint64_t index) {
        CandidateFeatures out;
        out.valid = true;
        out.group = index;
        const auto c = shape.decode(index);
        for (std::size_t t = 0; t < shape.tokens(); ++t) {
            if (shape.arity(t) == 1) continue;
            for (std::uint32_t v = 0; v < shape.arity(t); ++v) out.x.push_back(c[t] == v ? 1.0 : 0.0);
        }
        if (out.x.empty()) out.x.push_back(0.0);
        return out;
    };
}

double normal_cdf(double z) { return 0.5 * std::erfc(-z / std::sqrt(2.0)); }
double normal_pdf(double z) { return std::exp(-0.5 * z * z) / std::sqrt(2.0 * M_PI); }

// Squared-exponential kernel on rows of A and B (unit signal variance).
Mat kernel(const Mat& a, const Mat& b, double lengthscale) {
    const Vec na = a.rowwise().squaredNorm(), nb = b.rowwise().squaredNorm();
    Mat d2 = (-2.0 * a * b.transpose()).colwise() + na;
    d2.rowwise() += nb.transpose();
    return (-d2.cwiseMax(0.0) / (2.0 * lengthscale * lengthscale)).array().exp().matrix();
}

// Log marginal likelihood of y under the GP (up to a constant), or -inf when K is not positive definite.
double log_likelihood(const Mat& x, const Vec& y, double lengthscale, double noise) {
    Mat k = kernel(x, x, lengthscale);
    k.diagonal().array() += noise;
    const Eigen::LLT<Mat> llt(k);
    if (llt.info() != Eigen::Success) return -INFINITY;
    const Vec alpha = llt.solve(y);
    const Mat& l = llt.matrixLLT();
    return -0.5 * y.dot(alpha) - l.diagonal().array().log().sum();
}

class Surrogate final : public Strategy {
public:
    Surrogate(ChoiceShape shape, const StrategyOptions& options, FeatureFn features)
        : shape_(std::move(shape)), rng_(options.seed),
          features_(features ? std::move(features) : one_hot_features(shape_)) {}

    const char* name() const noexcept override { return "surrogate"; }

    std::vector<Choice> propose(std::size_t n) override {
        std::vector<std::uint64_t> pool = candidate_pool();
        std::vector<std::uint64_t> picks;
        if (n > 0 && !pool.empty()) {
            if (observed_.size() < kInitial || ok_count() < 3) {
                // Warm-up: uniform over the raw indices, one per functional group.
                std::unordered_set<std::uint64_t> groups;
                while (picks.size() < n && !pool.empty()) {
                    const auto k = rng_.below(pool.size());
                    const auto index = pool[k];
                    pool[k] = pool.back();
                    pool.pop_back();
                    if (groups.insert(feature(index).group).second) picks.push_back(index);
                }
            } else {
                picks = model_picks(pool, n);
            }
        }
        std::vector<Choice> out;
        for (auto index : picks) {
            proposed_.insert(index);
            covered_.insert(feature(index).group);
            pending_.push_back(index);
            out.push_back(shape_.decode(index));
        }
        return out;
    }

    void observe(const Choice& c, double reward) override {
        check_observation(shape_, c, reward, "surrogate: observe");
        const auto index = shape_.encode(c);
        const auto it = std::find(pending_.begin(), pending_.end(), index);
        if (it == pending_.end()) throw std::invalid_argument("surrogate: observe: the choice is not awaiting a reward");
        pending_.erase(it);
        observed_.push_back({index, reward});
    }

    std::string save() const override {
        BlobWriter out(name(), kStateVersion);
        save_shape(out, shape_);
        out.bytes(rng_.state());
        out.u64(observed_.size());
        for (const auto& o : observed_) {
            out.u64(o.index);
            out.f64(o.reward);
        }
        out.u64(pending_.size());
        for (auto index : pending_) out.u64(index);
        return std::move(out).finish();
    }

    void load(const std::string& blob) override {
        BlobReader in(blob, name(), kStateVersion);
        expect_shape(in, shape_);
        Rng rng = read_rng(in, rng_);
        std::unordered_set<std::uint64_t> seen;
        auto read_index = [&] {
            const auto index = in.u64();
            if (index >= shape_.count()) in.fail("candidate index outside the space");
            if (!seen.insert(index).second) in.fail("a candidate recorded twice");
            return index;
        };
        std::vector<Observation> observed(in.count(shape_.count()));
        for (auto& o : observed) {
            o.index = read_index();
            o.reward = in.f64();
            if (!std::isfinite(o.reward)) in.fail("non-finite reward");
        }
        std::vector<std::uint64_t> pending(in.count(shape_.count()));
        for (auto& index : pending) index = read_index();
        in.expect_end();
        rng_ = rng;
        observed_ = std::move(observed);
        pending_ = std::move(pending);
        proposed_ = std::move(seen);
        covered_.clear();
        for (auto index : proposed_) covered_.insert(feature(index).group);
    }

private:
    struct Observation {
        std::uint64_t index = 0;
        double reward = 0.0;
    };

    const CandidateFeatures& feature(std::uint64_t index) {
        auto it = cache_.find(index);
        if (it == cache_.end()) it = cache_.emplace(index, features_(index)).first;
        return it->second;
    }

    std::size_t ok_count() const {
        return static_cast<std::size_t>(
            std::count_if(observed_.begin(), observed_.end(), [](const Observation& o) { return o.reward > 0.0; }));
    }

    bool eligible(std::uint64_t index) {
        if (proposed_.contains(index)) return false;
        const auto& f = feature(index);
        return f.valid && !covered_.contains(f.group);
    }

    // The unproposed candidates to score: all of a small space, a random sample of a large one.
    std::vector<std::uint64_t> candidate_pool() {
        std::vector<std::uint64_t> pool;
        if (shape_.count() <= kFullScan) {
            for (std::uint64_t i = 0; i < shape_.count(); ++i)
                if (eligible(i)) pool.push_back(i);
            return pool;
        }
        std::unordered_set<std::uint64_t> drawn;
        // One-token neighbours of the best observed candidates (a random sample alone would almost never
        // hold the neighbourhood of a good candidate in a large space), then uniform draws.
        std::vector<const Observation*> best;
        for (const auto& o : observed_) best.push_back(&o);
        const std::size_t top = std::min<std::size_t>(kNeighbourhoods, best.size());
        std::partial_sort(best.begin(), best.begin() + top, best.end(), [](auto* a, auto* b) {
            return a->reward != b->reward ? a->reward > b->reward : a->index < b->index;
        });
        for (std::size_t b = 0; b < top; ++b) {
            const Choice c = shape_.decode(best[b]->index);
            for (std::size_t t = 0; t < shape_.tokens(); ++t)
                for (std::uint32_t v = 0; v < shape_.arity(t); ++v) {
                    if (v == c[t]) continue;
                    Choice n = c;
                    n[t] = v;
                    const auto index = shape_.encode(n);
                    if (drawn.insert(index).second && eligible(index)) pool.push_back(index);
                }
        }
        for (std::size_t attempt = 0; attempt < 20 * kPool && pool.size() < 2 * kPool; ++attempt) {
            const auto index = rng_.below(shape_.count());
            if (drawn.insert(index).second && eligible(index)) pool.push_back(index);
        }
        if (cache_.size() > 64 * kPool)  // keep the cache bounded: drop features of unproposed candidates
            std::erase_if(cache_, [&](const auto& kv) { return !proposed_.contains(kv.first); });
        return pool;
    }

    Mat rows(const std::vector<std::uint64_t>& indices) {
        const std::size_t d = feature(indices.front()).x.size();
        Mat m(indices.size(), d);
        for (std::size_t i = 0; i < indices.size(); ++i) {
            const auto& x = feature(indices[i]).x;
            m.row(i) = Eigen::Map<const Vec>(x.data(), d);
        }
        return m;
    }

    std::vector<std::uint64_t> model_picks(const std::vector<std::uint64_t>& pool, std::size_t n) {
        // The regression's training set: the non-diverged observations (bounded, see kMaxTrain).
        std::vector<const Observation*> ok;
        for (const auto& o : observed_)
            if (o.reward > 0.0) ok.push_back(&o);
        if (ok.size() > kMaxTrain) {
            std::vector<const Observation*> by_reward = ok;
            std::stable_sort(by_reward.begin(), by_reward.end(),
                             [](auto* a, auto* b) { return a->reward > b->reward; });
            std::unordered_set<const Observation*> keep(by_reward.begin(), by_reward.begin() + kMaxTrain / 2);
            for (auto it = ok.rbegin(); it != ok.rend() && keep.size() < kMaxTrain; ++it) keep.insert(*it);
            std::erase_if(ok, [&](auto* o) { return !keep.contains(o); });
        }
        std::vector<std::uint64_t> train_index;
        Vec y(ok.size());
        for (std::size_t i = 0; i < ok.size(); ++i) {
            train_index.push_back(ok[i]->index);
            y[i] = ok[i]->reward;
        }
        const double y_mean = y.mean();
        const double y_std = std::max(1e-6, std::sqrt((y.array() - y_mean).square().mean()));
        y = (y.array() - y_mean) / y_std;
        const Mat x = rows(train_index);
        const std::size_t d = static_cast<std::size_t>(x.cols());

        // Hyperparameters: lengthscale (relative to sqrt(d)) and noise by marginal likelihood on a grid.
        const std::size_t s = std::min(ok.size(), kMaxSelect);
        const Mat xs = x.bottomRows(s);
        const Vec ys = y.tail(s);
        double best_ll = -INFINITY, lengthscale = std::sqrt(static_cast<double>(d)), noise = 0.1;
        for (double l : {0.1, 0.2, 0.4, 0.8, 1.6})
            for (double nz : {0.02, 0.1, 0.3}) {
                const double ll = log_likelihood(xs, ys, l * std::sqrt(static_cast<double>(d)), nz);
                if (ll > best_ll) {
                    best_ll = ll;
                    lengthscale = l * std::sqrt(static_cast<double>(d));
                    noise = nz;
                }
            }

        Mat k = kernel(x, x, lengthscale);
        k.diagonal().array() += noise + 1e-8;
        const Eigen::LLT<Mat> llt(k);
        const Vec alpha = llt.solve(y);

        // Rows scored: the pool, then the proposals still awaiting rewards (believed at their mean).
        std::vector<std::uint64_t> all = pool;
        all.insert(all.end(), pending_.begin(), pending_.end());
        const Mat xc = rows(all);
        const Mat kc = kernel(xc, x, lengthscale);   // m x n
        const Vec mean = kc * alpha;
        const Mat v = llt.matrixL().solve(kc.transpose());  // n x m
        Vec var = (1.0 - v.colwise().squaredNorm().transpose().array()).cwiseMax(1e-12).matrix();

        // Probability of not diverging: a GP regression of the 0/1 outcome over all observations.
        Vec p_ok = Vec::Ones(static_cast<Eigen::Index>(all.size()));
        if (ok.size() < observed_.size()) {
            std::vector<std::uint64_t> obs_index;
            Vec label(observed_.size());
            for (std::size_t i = 0; i < observed_.size(); ++i) {
                obs_index.push_back(observed_[i].index);
                label[i] = observed_[i].reward > 0.0 ? 1.0 : 0.0;
            }
            if (obs_index.size() > 2 * kMaxTrain) {  // the latest
                obs_index.erase(obs_index.begin(), obs_index.end() - 2 * kMaxTrain);
                label = label.tail(2 * kMaxTrain).eval();
            }
            const double prior = label.mean();
            const Mat xo = rows(obs_index);
            Mat ko = kernel(xo, xo, lengthscale);
            ko.diagonal().array() += 0.1;
            const Vec beta = Eigen::LLT<Mat>(ko).solve((label.array() - prior).matrix());
            p_ok = ((kernel(xc, xo, lengthscale) * beta).array() + prior).cwiseMax(0.02).cwiseMin(1.0).matrix();
        }

        const double best = y.maxCoeff();
        auto acquisition = [&](Eigen::Index i) {
            const double sd = std::sqrt(var[i]);
            const double gain = mean[i] - best - kExplore;
            const double z = gain / sd;
            return p_ok[i] * (gain * normal_cdf(z) + sd * normal_pdf(z));
        };

        // Kriging believer: each pending or picked row is a pseudo-observation at its mean, which leaves
        // the means unchanged and shrinks the variances of correlated rows (sequential conditioning).
        std::vector<Vec> factors;  // u_j over all rows
        auto condition_on = [&](Eigen::Index j) {
            Vec cov = kernel(xc, xc.row(j), lengthscale) - v.transpose() * v.col(j);
            for (const auto& u : factors) cov -= u * u[j];
            const double denom = std::sqrt(std::max(cov[j], 0.0) + noise);
            factors.push_back(cov / denom);
            var = (var.array() - factors.back().array().square()).cwiseMax(1e-12).matrix();
        };
        const auto m = static_cast<Eigen::Index>(pool.size());
        for (Eigen::Index j = m; j < static_cast<Eigen::Index>(all.size()); ++j) condition_on(j);

        std::vector<std::uint64_t> picks;
        std::vector<char> taken(pool.size(), 0);
        std::unordered_set<std::uint64_t> groups;
        while (picks.size() < n) {
            Eigen::Index arg = -1;
            double top = -INFINITY;
            for (Eigen::Index i = 0; i < m; ++i) {
                if (taken[i]) continue;
                const double a = acquisition(i);
                if (a > top) {  // ties: the lowest index
                    top = a;
                    arg = i;
                }
            }
            if (arg < 0) break;
            taken[arg] = 1;
            if (!groups.insert(feature(pool[arg]).group).second) continue;
            picks.push_back(pool[arg]);
            condition_on(arg);
        }
        return picks;
    }

    ChoiceShape shape_;
    Rng rng_;
    FeatureFn features_;
    std::vector<Observation> observed_;   // in observation order
    std::vector<std::uint64_t> pending_;  // proposed, reward not yet observed
    std::unordered_set<std::uint64_t> proposed_;
    std::unordered_set<std::uint64_t> covered_;  // functional groups already proposed
    std::unordered_map<std::uint64_t, CandidateFeatures> cache_;
};

}  // namespace

FeatureFn candidate_features(const Space& space) {
    return [space](std::uint64_t index) { return space_features(space, index); };
}

std::unique_ptr<Strategy> make_surrogate(ChoiceShape shape, const StrategyOptions& options, FeatureFn features) {
    return std::make_unique<Surrogate>(std::move(shape), options, std::move(features));
}

}  // namespace actsearch::search
