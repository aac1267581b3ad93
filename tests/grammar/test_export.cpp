// The exporters. The C++ header is compiled for real (-Wall -Wextra -Werror, T = float and double) with
// a driver, run, and its values and gradients compared with apply_scalar, finite differences and the
// float evaluator.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "actsearch/grammar/export.hpp"
#include "actsearch/grammar/parse.hpp"
#include "actsearch/grammar/program.hpp"
#include "parsed.hpp"

namespace actsearch {
namespace {

namespace fs = std::filesystem;

using test::parsed;

using test::scalar_value;

bool close(double actual, double expected, double rtol, double atol) {
    return std::abs(actual - expected) <= rtol * std::abs(expected) + atol;
}

constexpr double kProbeX[] = {-4.3, -2.9, -1.7, -0.61, -0.13, 0.07, 0.45, 1.3, 2.2, 3.7};
constexpr double kBetas[] = {0.8, 1.3, 0.6};

std::vector<ExportItem> export_items() {
    std::vector<ExportItem> items = {
        {"relu_fn", parsed("relu(x)"), "the baseline"},
        {"swish_beta", parsed("x * sigmoid(beta * x)"), "score 0.91\nsecond line folded into the comment"},
        {"hard_swish_fn", parsed("hard_swish(x)"), ""},
        {"two_units", parsed("max(x, tanh(beta * x)) * sigmoid(beta2 * (x + cos(x)))"), ""},
        {"sinc_fn", parsed("sinc(x)"), ""},
        {"max_min", parsed("min(max(x, beta * x), 2 - x)"), ""},
        {"pow_fn", parsed("x ^ 3 - (x * x + 1) ^ 0.5 + abs(x) ^ 1.5"), ""},
        {"folded_const", parsed("exp(2) * x - 1 / 3"), ""},
        {"beta_only", parsed("beta2 * beta"), ""},
        {"constant", parsed("3"), ""},
        // Parameters with initial values: PReLU, APTx, a negative and a zero start.
        {"prelu", parsed("max(x, 0) + beta(0.25)*min(x, 0)"), ""},
        {"aptx", parsed("(beta(1) + tanh(beta2(1)*x))*beta3(0.5)*x"), ""},
        {"shifted", parsed("x*sigmoid(beta(-1.5)*x) + beta2(0)*x"), ""},
    };
    // Every primitive once, so every helper in the header is instantiated and checked.
    for (const OpInfo& info : all_ops()) {
        if (info.arity == 1 && info.op != Op::Pow)
            items.push_back({fmt::format("op_{}", info.name), make_unary(info.op, make_leaf_x()), ""});
        if (info.arity == 2)
            items.push_back({fmt::format("op_{}", info.name), make_binary(info.op, make_leaf_x(), make_beta()), ""});
    }
    return items;
}

// A driver printing, for each item, x and each precision: value, df/dx, df/dbeta_k; then, as item
// "NAME@init", value and df/dx with every beta left to its default (the initial value).
std::string driver_source(const std::vector<ExportItem>& items) {
    std::string src = "#include <cstdio>\n#include \"activations.hpp\"\n\ntemplate <typename T, typename F, typename G>\n"
                      "void probe(const char* name, double x, F f, G g, int betas) {\n"
                      "    T dbeta[3] = {T(0), T(0), T(0)};\n"
                      "    const T v = f(T(x));\n    const T d = g(T(x), dbeta);\n"
                      "    std::printf(\"%s %d %.17g %.17g %.17g %.17g %.17g %.17g\\n\", name, int(sizeof(T)), x, double(v), double(d),"
                      " double(dbeta[0]), double(dbeta[1]), double(dbeta[2]));\n    (void)betas;\n}\n\nint main() {\n";
    for (const ExportItem& item : items) {
        const int k = item.expr.beta_count();
        std::string beta_args;
        for (int j = 0; j < k; ++j) beta_args += fmt::format(", T({})", kBetas[j]);
        for (const char* type : {"float", "double"}) {
            src += fmt::format("    for (double x : {{{}}}) {{\n", fmt::join(kProbeX, ", "));
            src += fmt::format("        using T = {};\n", type);
            src += fmt::format(
                "        probe<T>(\"{0}\", x, [](T v) {{ return actsearch_export::{0}<T>(v{1}); }},"
                " [](T v, T* db) {{ return actsearch_export::{0}_grad<T>(v{1}, db); }}, {2});\n",
                item.name, beta_args, k);
            src += fmt::format("        (void)actsearch_export::{}_grad<T>(T(x){}, nullptr);\n", item.name, beta_args);
            src += fmt::format(
                "        probe<T>(\"{0}@init\", x, [](T v) {{ return actsearch_export::{0}<T>(v); }},"
                " [](T v, T*) {{ return actsearch_export::{0}_grad<T>(v); }}, {1});\n",
                item.name, k);
            src += "    }\n";
        }
    }
    src += "    return 0;\n}\n";
    return src;
}

struct Row {
    double x, value, dx, dbeta[3];
};

class ExportCpp : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        items_ = new std::vector<ExportItem>(export_items());
        dir_ = new fs::path(fs::temp_directory_path() / fmt::format("actsearch_export_test_{}", ::getpid()));
        fs::create_directories(*dir_);
        std::ofstream(*dir_ / "activations.hpp") << export_cpp(*items_);
        std::ofstream(*dir_ / "driver.cpp") << driver_source(*items_);
        const std::string compile = fmt::format("'{}' -std=c++17 -O1 -Wall -Wextra -Werror -I'{}' '{}' -o '{}' > '{}' 2>&1",
                                                ACTSEARCH_CXX, dir_->string(), (*dir_ / "driver.cpp").string(),
                                                (*dir_ / "driver").string(), (*dir_ / "compile.log").string());
        compile_status_ = std::system(compile.c_str());
        if (compile_status_ != 0) return;
        run_status_ = std::system(fmt::format("'{}' > '{}'", (*dir_ / "driver").string(), (*dir_ / "out.txt").string()).c_str());
        std::ifstream in(*dir_ / "out.txt");
        rows_ = new std::map<std::pair<std::string, int>, std::vector<Row>>();
        // Tokens through strtod: operator>> does not read the "nan" and "inf" that printf writes.
        std::string name, size, x, value, dx, dbeta0, dbeta1, dbeta2;
        auto num = [](const std::string& t) { return std::strtod(t.c_str(), nullptr); };
        while (in >> name >> size >> x >> value >> dx >> dbeta0 >> dbeta1 >> dbeta2)
            (*rows_)[{name, std::stoi(size)}].push_back(
                {num(x), num(value), num(dx), {num(dbeta0), num(dbeta1), num(dbeta2)}});
    }
    static void TearDownTestSuite() {
        if (compile_status_ == 0 && run_status_ == 0) fs::remove_all(*dir_);  // keep the evidence otherwise
        delete items_;
        delete dir_;
        delete rows_;
    }
    static std::string compile_log() {
        std::ifstream in(*dir_ / "compile.log");
        std::stringstream ss;
        ss << in.rdbuf();
        return ss.str().substr(0, 4000);
    }

    static inline std::vector<ExportItem>* items_ = nullptr;
    static inline fs::path* dir_ = nullptr;
    static inline std::map<std::pair<std::string, int>, std::vector<Row>>* rows_ = nullptr;
    static inline int compile_status_ = -1;
    static inline int run_status_ = -1;
};

TEST_F(ExportCpp, HeaderCompilesWithWarningsAsErrorsAndRuns) {
    ASSERT_EQ(compile_status_, 0) << "exported header failed to compile:\n" << compile_log();
    ASSERT_EQ(run_status_, 0);
    EXPECT_EQ(rows_->size(), 4 * items_->size());   // float and double, explicit betas and defaults
}

TEST_F(ExportCpp, DoubleValuesAndGradientsMatchReference) {
    ASSERT_EQ(compile_status_, 0) << compile_log();
    for (const ExportItem& item : *items_) {
        const std::vector<double> beta(std::begin(kBetas), std::end(kBetas));
        const auto& rows = (*rows_)[{item.name, 8}];
        ASSERT_EQ(rows.size(), std::size(kProbeX)) << item.name;
        for (const Row& r : rows) {
            const double expected = scalar_value(item.expr, r.x, beta);
            if (!std::isfinite(expected)) {
                EXPECT_EQ(std::isnan(r.value), std::isnan(expected)) << item.name << " at " << r.x;
                continue;
            }
            EXPECT_TRUE(close(r.value, expected, 1e-12, 1e-14)) << item.name << "(" << r.x << ") = " << r.value << ", reference " << expected;
            const double h = 1e-6;
            const double slope = (scalar_value(item.expr, r.x + h, beta) - scalar_value(item.expr, r.x - h, beta)) / (2 * h);
            EXPECT_TRUE(close(r.dx, slope, 1e-6, 1e-7)) << item.name << "'(" << r.x << ") = " << r.dx << ", expected " << slope;
            for (int k = 0; k < item.expr.beta_count(); ++k) {
                std::vector<double> up = beta, down = beta;
                up[k] += h;
                down[k] -= h;
                const double dk = (scalar_value(item.expr, r.x, up) - scalar_value(item.expr, r.x, down)) / (2 * h);
                EXPECT_TRUE(close(r.dbeta[k], dk, 1e-6, 1e-7)) << item.name << " d/dbeta" << k << " at " << r.x;
            }
        }
    }
}

TEST_F(ExportCpp, FloatValuesMatchTheEvaluator) {
    ASSERT_EQ(compile_status_, 0) << compile_log();
    for (const ExportItem& item : *items_) {
        const Program program(item.expr);
        const float beta[3] = {static_cast<float>(kBetas[0]), static_cast<float>(kBetas[1]), static_cast<float>(kBetas[2])};
        for (const Row& r : (*rows_)[{item.name, 4}]) {
            const float x = static_cast<float>(r.x);
            float y = 0.0f, dx = 0.0f, dbeta[3] = {0.0f, 0.0f, 0.0f};
            const float dy = 1.0f;
            program.eval(&x, &y, 1, beta);
            program.backward(&x, &dy, &dx, beta, dbeta, ActShape{});
            if (std::isnan(y)) {
                EXPECT_TRUE(std::isnan(r.value)) << item.name << " at " << r.x;
                continue;
            }
            EXPECT_TRUE(close(r.value, y, 1e-5, 1e-6)) << item.name << "(" << x << "): header " << r.value << ", evaluator " << y;
            EXPECT_TRUE(close(r.dx, dx, 1e-4, 1e-5)) << item.name << "'(" << x << "): header " << r.dx << ", evaluator " << dx;
            for (int k = 0; k < item.expr.beta_count(); ++k)
                EXPECT_TRUE(close(r.dbeta[k], dbeta[k], 1e-4, 1e-5)) << item.name << " dbeta" << k << " at " << x;
        }
    }
}

// Called without betas, each function starts where training starts: its betas' defaults are their
// initial values (beta(0.25) -> T beta = T(0.25)), checked against the evaluator at those values.
TEST_F(ExportCpp, BetaDefaultsAreTheInitialValues) {
    ASSERT_EQ(compile_status_, 0) << compile_log();
    int with_values = 0;
    for (const ExportItem& item : *items_) {
        const Program program(item.expr);
        const std::vector<double> initial = item.expr.beta_initial_values();
        with_values += std::any_of(initial.begin(), initial.end(), [](double v) { return v != 1.0; });
        const auto& doubles = (*rows_)[{item.name + "@init", 8}];
        const auto& floats = (*rows_)[{item.name + "@init", 4}];
        ASSERT_EQ(doubles.size(), std::size(kProbeX)) << item.name;
        ASSERT_EQ(floats.size(), std::size(kProbeX)) << item.name;
        for (const Row& r : doubles) {
            const double expected = scalar_value(item.expr, r.x, initial);
            if (std::isfinite(expected)) {
                EXPECT_TRUE(close(r.value, expected, 1e-12, 1e-14)) << item.name << "@init(" << r.x << ")";
            }
        }
        for (const Row& r : floats) {
            const float x = static_cast<float>(r.x);
            float y = 0.0f, dx = 0.0f;
            const float dy = 1.0f;
            std::vector<float> dbeta(initial.size(), 0.0f);
            program.eval(&x, &y, 1, program.beta_initial_values().data());
            program.backward(&x, &dy, &dx, program.beta_initial_values().data(), dbeta.empty() ? nullptr : dbeta.data(),
                             ActShape{});
            if (std::isnan(y)) continue;
            EXPECT_TRUE(close(r.value, y, 1e-5, 1e-6)) << item.name << "@init(" << x << "): header " << r.value << ", evaluator " << y;
            EXPECT_TRUE(close(r.dx, dx, 1e-4, 1e-5)) << item.name << "@init'(" << x << "): header " << r.dx << ", evaluator " << dx;
        }
    }
    EXPECT_EQ(with_values, 3);   // prelu, aptx, shifted
}

TEST(ExportCppText, CommentsFormulaAndRejectsBadNames) {
    const std::string header = export_cpp({{"swish_beta", parsed("x * sigmoid(beta * x)"), "score 0.91"}});
    EXPECT_NE(header.find("#pragma once"), std::string::npos);
    EXPECT_NE(header.find("// score 0.91\n"), std::string::npos);
    EXPECT_NE(header.find("inline T swish_beta(T x, T beta = T(1))"), std::string::npos);
    EXPECT_NE(header.find("inline T swish_beta_grad(T x, T beta = T(1), T* dbeta = nullptr)"), std::string::npos);
    const std::string aptx = export_cpp({{"aptx", parsed("(beta(1) + tanh(beta2(1)*x))*beta3(0.5)*x"), ""}});
    EXPECT_NE(aptx.find("inline T aptx(T x, T beta = T(1), T beta2 = T(1), T beta3 = T(0.5))"), std::string::npos) << aptx;
    EXPECT_NE(aptx.find("// f(x) = (beta + tanh(beta2*x))*beta3(0.5)*x\n"), std::string::npos) << aptx;
    const std::string negative = export_cpp({{"f", parsed("beta(-2.5e-7)*x"), ""}});
    EXPECT_NE(negative.find("inline T f(T x, T beta = T(-2.5e-07))"), std::string::npos) << negative;
    EXPECT_THROW(export_cpp({{"2bad", make_leaf_x(), ""}}), std::invalid_argument);
    EXPECT_THROW(export_cpp({{"a", make_leaf_x(), ""}, {"a", make_leaf_x(), ""}}), std::invalid_argument);
    EXPECT_THROW(export_cpp({{"ok", make_leaf_x(1), ""}}), std::invalid_argument);
    EXPECT_THROW(export_cpp({{"ok", Expr{}, ""}}), std::invalid_argument);
}

// Headers exported one at a time (two `actsearch export` calls) can be included in one translation unit:
// the primitives' math they both carry is guarded.
TEST(ExportCppText, TwoHeadersInOneTranslationUnit) {
    const fs::path dir = fs::temp_directory_path() / fmt::format("actsearch_export_two_{}", ::getpid());
    fs::create_directories(dir);
    std::ofstream(dir / "swish.hpp") << export_cpp({{"swish", parsed("x*sigmoid(x)"), ""}});
    std::ofstream(dir / "prelu.hpp") << export_cpp({{"prelu", parsed("max(x, 0) + beta(0.25)*min(x, 0)"), ""}});
    std::ofstream(dir / "main.cpp") << "#include \"swish.hpp\"\n#include \"prelu.hpp\"\n#include \"swish.hpp\"\n"
                                       "int main() { return actsearch_export::swish(0.0) == 0.0 && "
                                       "actsearch_export::prelu(-4.0) == -1.0 ? 0 : 1; }\n";
    const std::string compile = fmt::format("'{}' -std=c++17 -Wall -Wextra -Werror -I'{}' '{}' -o '{}' > '{}' 2>&1",
                                            ACTSEARCH_CXX, dir.string(), (dir / "main.cpp").string(),
                                            (dir / "main").string(), (dir / "compile.log").string());
    ASSERT_EQ(std::system(compile.c_str()), 0) << [&] {
        std::ifstream in(dir / "compile.log");
        std::stringstream ss;
        ss << in.rdbuf();
        return ss.str().substr(0, 3000);
    }();
    EXPECT_EQ(std::system((dir / "main").string().c_str()), 0);
    fs::remove_all(dir);
}

TEST(ExportTorch, ModulePerItemWithChannelParameters) {
    const std::string py = export_torch({{"swish_beta", parsed("x * sigmoid(beta * x)"), "best"},
                                         {"two", parsed("beta * relu(x) + beta2 * sinc(x)"), ""},
                                         {"none", parsed("beta"), ""},
                                         {"plain_relu", parsed("relu(x)"), ""},
                                         {"plainRelu", parsed("relu(x) + 0"), ""},
                                         {"aptx", parsed("(beta(1) + tanh(beta2(1)*x))*beta3(0.5)*x"), ""}});
    EXPECT_NE(py.find("import torch"), std::string::npos);
    EXPECT_NE(py.find("class SwishBeta(nn.Module):"), std::string::npos) << py;  // CapWords
    EXPECT_NE(py.find("def __init__(self, num_channels: int, channel_dim: int = 1):"), std::string::npos);
    EXPECT_NE(py.find("self.beta = nn.Parameter(torch.ones(num_channels))"), std::string::npos);
    EXPECT_NE(py.find("self.beta2 = nn.Parameter(torch.ones(num_channels))"), std::string::npos);
    // Initial values other than 1: the parameter starts there.
    const auto aptx = py.find("class Aptx(nn.Module):");
    ASSERT_NE(aptx, std::string::npos);
    EXPECT_NE(py.find("self.beta3 = nn.Parameter(torch.full((num_channels,), 0.5))", aptx), std::string::npos) << py;
    EXPECT_NE(py.find("f(x) = (beta + tanh(beta2*x))*beta3(0.5)*x", aptx), std::string::npos) << py;
    EXPECT_NE(py.find("beta = _per_channel(self.beta, x, self.channel_dim)"), std::string::npos);
    EXPECT_NE(py.find("return (x * torch.sigmoid((beta * x)))"), std::string::npos) << py;
    EXPECT_NE(py.find("torch.sinc(x / math.pi)"), std::string::npos);  // torch.sinc is normalised
    EXPECT_NE(py.find("class None_(nn.Module):"), std::string::npos);   // Python keyword
    EXPECT_NE(py.find("+ torch.zeros_like(x)"), std::string::npos);      // beta alone keeps x's shape
    // Without beta there is nothing to size: no num_channels.
    const auto plain = py.find("class PlainRelu(nn.Module):");
    ASSERT_NE(plain, std::string::npos);
    EXPECT_EQ(py.find("def __init__(self):", plain), py.find("def __init__", plain));
    EXPECT_NE(py.find("class PlainRelu2(nn.Module):"), std::string::npos);  // same CapWords name, made unique
    EXPECT_EQ(py.find("*(["), std::string::npos);  // no starred unpacking (torch.jit.script rejects it)
}

// ---- The PyTorch modules, run in Debian's python3-torch -------------------------------------------

struct TorchLayout {
    std::string tag;
    std::vector<int> shape;
    int channel_dim;
    ActShape act;  // the same tensor as the evaluator sees it
};

const std::vector<TorchLayout>& torch_layouts() {
    static const std::vector<TorchLayout> layouts = {
        {"vec", {24}, 1, {.outer = 1, .channels = 24, .inner = 1}},  // 1-D: its own channel dimension
        {"nc", {4, 6}, 1, {.outer = 4, .channels = 6, .inner = 1}},
        {"nchw", {2, 3, 4, 5}, 1, {.outer = 2, .channels = 3, .inner = 20}},
        {"btc", {2, 5, 3}, -1, {.outer = 10, .channels = 3, .inner = 1}},  // [B, T, C], channels last
    };
    return layouts;
}

// An item with the class name export_torch must give it: CapWords (PEP 8), written out by hand.
struct TorchItem {
    ExportItem item;
    std::string class_name;
};

// The expected class of the module "op_NAME" of every primitive, by NAME.
const std::map<std::string, std::string>& op_class_names() {
    static const std::map<std::string, std::string> names = {
        {"neg", "OpNeg"},           {"abs", "OpAbs"},
        {"square", "OpSquare"},     {"cube", "OpCube"},
        {"sqrt", "OpSqrt"},         {"log_abs", "OpLogAbs"},
        {"exp", "OpExp"},           {"sin", "OpSin"},
        {"cos", "OpCos"},           {"sinh", "OpSinh"},
        {"cosh", "OpCosh"},         {"tanh", "OpTanh"},
        {"asinh", "OpAsinh"},       {"atan", "OpAtan"},
        {"sinc", "OpSinc"},         {"relu", "OpRelu"},
        {"min0", "OpMin0"},         {"sigmoid", "OpSigmoid"},
        {"softplus", "OpSoftplus"}, {"gaussian", "OpGaussian"},
        {"erf", "OpErf"},           {"erfc", "OpErfc"},
        {"relu6", "OpRelu6"},       {"hard_sigmoid", "OpHardSigmoid"},
        {"hard_swish", "OpHardSwish"}, {"keras_hard_sigmoid", "OpKerasHardSigmoid"},
        {"leaky_relu", "OpLeakyRelu"}, {"elu", "OpElu"},
        {"selu", "OpSelu"},         {"gelu", "OpGelu"},
        {"swish", "OpSwish"},       {"mish", "OpMish"},
        {"softsign", "OpSoftsign"}, {"log_sigmoid", "OpLogSigmoid"},
        {"expm1", "OpExpm1"},       {"reciprocal", "OpReciprocal"},
        {"log", "OpLog"},           {"hard_tanh", "OpHardTanh"},
        {"add", "OpAdd"},           {"sub", "OpSub"},
        {"mul", "OpMul"},           {"div", "OpDiv"},
        {"max", "OpMax"},           {"min", "OpMin"},
    };
    return names;
}

std::vector<TorchItem> torch_items() {
    std::vector<TorchItem> items = {
        {{"swish_beta", parsed("x * sigmoid(beta * x)"), ""}, "SwishBeta"},
        {{"two_units", parsed("max(x, tanh(beta * x)) * sigmoid(beta2 * (x + cos(x)))"), ""}, "TwoUnits"},
        {{"clipped", parsed("min(max(x, -1.5), beta)"), ""}, "Clipped"},
        {{"powers", parsed("x ^ 3 - abs(x) ^ 1.5 + 1 / (x * x + 1)"), ""}, "Powers"},
        {{"beta_only", parsed("beta2 * beta"), ""}, "BetaOnly"},
        {{"constant", parsed("3"), ""}, "Constant"},
        {{"prelu", parsed("max(x, 0) + beta(0.25)*min(x, 0)"), ""}, "Prelu"},
        {{"aptx", parsed("(beta(1) + tanh(beta2(1)*x))*beta3(0.5)*x"), ""}, "Aptx"},
    };
    for (const OpInfo& info : all_ops()) {
        if (!((info.arity == 1 && info.op != Op::Pow) || info.arity == 2)) continue;
        const auto expected = op_class_names().find(std::string(info.name));
        if (expected == op_class_names().end()) {
            ADD_FAILURE() << "no expected class name for primitive " << info.name << ": add it to op_class_names()";
            continue;
        }
        const Expr e = info.arity == 1 ? make_unary(info.op, make_leaf_x()) : make_binary(info.op, make_leaf_x(), make_beta());
        items.push_back({{fmt::format("op_{}", info.name), e, ""}, expected->second});
    }
    return items;
}

std::vector<ExportItem> export_items_of(const std::vector<TorchItem>& items) {
    std::vector<ExportItem> out;
    for (const TorchItem& t : items) out.push_back(t.item);
    return out;
}

// Every module is a class of the expected name: CapWords, whatever the primitive (runs without torch).
TEST(ExportTorch, ClassNamesAreCapWords) {
    const std::vector<TorchItem> items = torch_items();
    const std::string py = export_torch(export_items_of(items));
    for (const TorchItem& t : items)
        EXPECT_NE(py.find(fmt::format("\nclass {}(nn.Module):", t.class_name)), std::string::npos)
            << t.item.name << " should be class " << t.class_name;
}

// Runs every module eagerly, scripted and traced on every layout; writes x, the incoming gradient g, y,
// dx and dbeta_k per (class, layout, variant), or a SHAPE / ERROR line.
std::string torch_driver(const std::vector<TorchItem>& items, const fs::path& dir) {
    std::string py = fmt::format("import math\nimport sys\nimport traceback\nsys.path.insert(0, '{}')\n", dir.string());
    py += "import torch\nimport activations as A\n\ntorch.set_num_threads(1)\nlayouts = [\n";
    for (const TorchLayout& l : torch_layouts())
        py += fmt::format("    ('{}', [{}], {}, {}),\n", l.tag, fmt::join(l.shape, ", "), l.channel_dim, l.act.channels);
    py += "]\nitems = [\n";
    for (const TorchItem& t : items) py += fmt::format("    ('{}', {}),\n", t.class_name, t.item.expr.beta_count());
    py += R"(]
out = open(sys.argv[1], "w")

def dump(key, kind, t):
    out.write(key + " " + kind + " " + " ".join(repr(float(v)) for v in t.reshape(-1).tolist()) + "\n")

for name, betas in items:
    for tag, shape, channel_dim, channels in layouts:
        if betas == 0 and tag not in ("vec", "nchw"):
            continue  # without betas the channel layout does not matter: rank 1 and rank 4 suffice
        n = math.prod(shape)
        x0 = torch.tensor([3.1 * math.sin(0.71 * i + 0.3) for i in range(n)], dtype=torch.float32).reshape(shape)
        g0 = torch.tensor([math.cos(0.37 * i) for i in range(n)], dtype=torch.float32).reshape(shape)
        for variant in ("eager", "script", "trace"):
            key = name + " " + tag + " " + variant
            try:
                cls = getattr(A, name)
                m = cls(channels, channel_dim) if betas else cls()
                for k, p in enumerate(m.parameters()):
                    dump(key, "init%d" % k, p.detach())  # what the module starts at
                with torch.no_grad():
                    for k, p in enumerate(m.parameters()):
                        p.copy_(torch.tensor([0.5 + 0.25 * k + 0.1 * c for c in range(channels)]))
                if variant == "script":
                    m = torch.jit.script(m)
                elif variant == "trace":
                    m = torch.jit.trace(m, (x0,), check_trace=False)
                x = x0.clone().requires_grad_(True)
                y = m(x)
                if list(y.shape) != shape:
                    out.write("SHAPE " + key + " " + str(list(y.shape)) + "\n")
                    continue
                if y.requires_grad:  # a constant function has no graph: all gradients are 0
                    y.backward(g0)
                dump(key, "x", x0)
                dump(key, "g", g0)
                dump(key, "y", y.detach())
                dump(key, "dx", x.grad if x.grad is not None else torch.zeros_like(x0))
                for k, p in enumerate(m.parameters()):
                    dump(key, "dbeta%d" % k, p.grad if p.grad is not None else torch.zeros_like(p))
            except Exception as e:
                out.write("ERROR " + key + " " + repr(e).replace("\n", " ")[:300] + "\n")
out.close()
)";
    return py;
}

bool torch_available() { return std::system("/usr/bin/python3 -c 'import torch' > /dev/null 2>&1") == 0; }

TEST(ExportTorchRun, ScriptTraceShapesValuesAndGradientsMatchTheEvaluator) {
    if (!torch_available()) GTEST_SKIP() << "/usr/bin/python3 has no torch (Debian's python3-torch)";
    const std::vector<TorchItem> items = torch_items();
    const fs::path dir = fs::temp_directory_path() / fmt::format("actsearch_torch_test_{}", ::getpid());
    fs::create_directories(dir);
    std::ofstream(dir / "activations.py") << export_torch(export_items_of(items));
    std::ofstream(dir / "driver.py") << torch_driver(items, dir);
    const int status = std::system(fmt::format("/usr/bin/python3 '{}' '{}' > '{}' 2>&1", (dir / "driver.py").string(),
                                               (dir / "out.txt").string(), (dir / "python.log").string())
                                       .c_str());
    ASSERT_EQ(status, 0) << "python failed, see " << (dir / "python.log");

    std::map<std::string, std::vector<double>> data;  // "Class layout variant kind" -> values
    std::ifstream in(dir / "out.txt");
    std::string line;
    int problems = 0;
    while (std::getline(in, line)) {
        if (line.starts_with("SHAPE") || line.starts_with("ERROR")) {
            ADD_FAILURE() << line;
            ++problems;
            continue;
        }
        std::istringstream ss(line);
        std::string cls, tag, variant, kind, token;
        ss >> cls >> tag >> variant >> kind;
        std::vector<double>& values = data[cls + " " + tag + " " + variant + " " + kind];
        while (ss >> token) values.push_back(std::strtod(token.c_str(), nullptr));
    }

    int compared = 0;
    for (const TorchItem& t : items) {
        const ExportItem& item = t.item;
        const Program program(item.expr);
        const int betas = item.expr.beta_count();
        for (const TorchLayout& layout : torch_layouts()) {
            if (betas == 0 && layout.tag != "vec" && layout.tag != "nchw") continue;  // as the driver
            const std::size_t n = layout.act.size(), channels = layout.act.channels;
            std::vector<float> beta(betas * channels);
            for (int k = 0; k < betas; ++k)
                for (std::size_t c = 0; c < channels; ++c)
                    beta[k * channels + c] = static_cast<float>(0.5 + 0.25 * k + 0.1 * static_cast<double>(c));
            for (const char* variant : {"eager", "script", "trace"}) {
                const std::string key = fmt::format("{} {} {} ", t.class_name, layout.tag, variant);
                const auto& xs = data[key + "x"];
                const auto& gs = data[key + "g"];
                if (xs.size() != n || gs.size() != n) {
                    ADD_FAILURE() << key << ": no output";
                    continue;
                }
                std::vector<float> x(xs.begin(), xs.end()), g(gs.begin(), gs.end()), y(n), dx(n), dbeta(beta.size(), 0.0f);
                program.forward(x.data(), y.data(), betas ? beta.data() : nullptr, layout.act);
                program.backward(x.data(), g.data(), dx.data(), betas ? beta.data() : nullptr,
                                 betas ? dbeta.data() : nullptr, layout.act);
                auto check = [&](const std::string& kind, const std::vector<float>& ours, double rtol, double atol) {
                    const auto& theirs = data[key + kind];
                    ASSERT_EQ(theirs.size(), ours.size()) << key << kind;
                    int bad = 0;
                    for (std::size_t i = 0; i < ours.size() && bad < 3; ++i) {
                        const bool ok = std::isnan(theirs[i]) ? std::isnan(ours[i]) : close(ours[i], theirs[i], rtol, atol);
                        if (!ok) ++bad;
                        EXPECT_TRUE(ok) << key << kind << "[" << i << "] at x = " << (kind.starts_with("dbeta") ? 0.0f : x[i])
                                        << ": evaluator " << ours[i] << ", torch " << theirs[i];
                    }
                    ++compared;
                };
                const std::vector<float>& initial = program.beta_initial_values();
                for (int k = 0; k < betas; ++k)   // every channel starts at the initial value
                    check(fmt::format("init{}", k), std::vector<float>(channels, initial[k]), 0.0, 0.0);
                check("y", y, 1e-4, 1e-5);
                check("dx", dx, 1e-4, 1e-5);
                for (int k = 0; k < betas; ++k)
                    check(fmt::format("dbeta{}", k),
                          std::vector<float>(dbeta.begin() + k * channels, dbeta.begin() + (k + 1) * channels), 1e-4, 1e-4);
            }
        }
    }
    EXPECT_GE(compared, static_cast<int>(items.size() * 2 * 3 * 2));  // y and dx, >= 2 layouts, 3 variants
    if (!HasFailure() && problems == 0) fs::remove_all(dir);
}

TEST(ExportLatex, Notation) {
    EXPECT_EQ(export_latex(parsed("x * sigmoid(beta * x)")), "x \\cdot \\sigma\\left(\\beta \\cdot x\\right)");
    EXPECT_EQ(export_latex(parsed("relu(x) / (1 + x)")), "\\frac{\\operatorname{relu}\\left(x\\right)}{1 + x}");
    EXPECT_EQ(export_latex(parsed("hard_swish(x)")), "\\operatorname{hard\\_swish}\\left(x\\right)");
    EXPECT_EQ(export_latex(parsed("x - (x - beta2)")), "x - \\left(x - \\beta_{2}\\right)");
    EXPECT_EQ(export_latex(parsed("(x + 1) * x")), "\\left(x + 1\\right) \\cdot x");
    EXPECT_EQ(export_latex(parsed("x ^ 2")), "x^{2}");
    EXPECT_THROW(export_latex(Expr{}), std::invalid_argument);
}

TEST(ExportIdentifiers, IsAndMakeIdentifier) {
    for (const char* ok : {"swish", "swish_beta2", "_private", "f1"}) EXPECT_TRUE(is_identifier(ok)) << ok;
    for (const char* bad : {"", "1f", "a-b", "a b", "double", "x", "__x", "_X", "a__b", "std"})
        EXPECT_FALSE(is_identifier(bad)) << bad;
    EXPECT_EQ(make_identifier("x * sigmoid(beta * x)"), "x_sigmoid_beta_x");
    EXPECT_EQ(make_identifier("3rd best!"), "f_3rd_best");
    EXPECT_EQ(make_identifier("double"), "double_fn");
    EXPECT_EQ(make_identifier("***"), "activation");
    for (const char* text : {"x * sigmoid(beta * x)", "3rd best!", "double", "***", "__a__", "x"})
        EXPECT_TRUE(is_identifier(make_identifier(text))) << text << " -> " << make_identifier(text);
}

}  // namespace
}  // namespace actsearch
