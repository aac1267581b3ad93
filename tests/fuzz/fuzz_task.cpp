// Fuzzes the task-file parser (parse_task_file, as `--task FILE.task` reads a file before its data).
// Invariants (beyond "no crash, no sanitizer report, no exception"):
//   - an error is one non-empty line "fuzz.task:LINE:COL: message";
//   - a parsed task is consistent: a fully resolved recipe within the documented bounds, one mean and
//     one positive std per channel, a cnn whose layers start with a convolution and never pool twice
//     in a row, splits that select examples;
//   - its canonical text (the identity's input) names its format and shape.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <regex>
#include <string>
#include <string_view>
#include <variant>

#include <fmt/format.h>

#include "actsearch/engine/task_file.hpp"
#include "fuzz_check.hpp"

using namespace actsearch::engine;
using actsearch::fuzz::fail;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    auto result = parse_task_file(text, "fuzz.task");
    if (const auto* error = std::get_if<TaskFileError>(&result)) {
        static const std::regex positioned("^fuzz\\.task:[0-9]+:[0-9]+: .+");
        if (error->message.find('\n') != std::string::npos || !std::regex_search(error->message, positioned))
            fail("a task-file error is one line 'fuzz.task:LINE:COL: message'", text, error->message);
        return 0;
    }
    const TaskDefinition& d = std::get<TaskDefinition>(result);
    const Fidelity& f = d.defaults;
    if (f.steps < 1 || f.width < 1 || f.depth < 1 || f.batch < 1 || !(f.lr > 0) || !std::isfinite(f.lr) ||
        f.schedule == Schedule::Default || f.warmup < 0 || f.warmup >= f.steps || f.wd < 0 || f.clip < 0 ||
        f.recal < 0 || f.downsample < 1 || f.val < 0)
        fail("a parsed recipe is resolved and within bounds", text, f.key());
    if (d.name.empty() || d.shape.channels < 1 || d.shape.height < 1 || d.shape.width < 1 || d.classes < 2)
        fail("a parsed task has a name, a shape and at least two classes", text);
    if (d.mean.size() != std::size_t(d.shape.channels) || d.std.size() != d.mean.size())
        fail("one mean and one std per channel", text);
    for (const float s : d.std)
        if (!(s > 0) || !std::isfinite(s)) fail("every std is positive and finite", text);
    if (d.network == NetworkKind::Cnn) {
        if (d.cnn_layers.empty() || d.cnn_layers.front() <= 0) fail("a cnn starts with a convolution", text);
        for (std::size_t i = 1; i < d.cnn_layers.size(); ++i)
            if (d.cnn_layers[i] == 0 && d.cnn_layers[i - 1] == 0) fail("a cnn never pools twice in a row", text);
    }
    for (const SplitSpec* s : {&d.train, &d.validation})
        if (s->rows && s->rows->second <= s->rows->first) fail("rows select at least one example", text);
    if (d.format != DataFormat::Spirals && d.train.files.empty()) fail("the training split names its files", text);
    // The identity text names the format and the shape it was given.
    const std::string canonical = d.canonical(false);
    if (canonical.find(std::string("format=") + to_string(d.format)) == std::string::npos ||
        canonical.find(fmt::format("shape={}x{}x{}", d.shape.channels, d.shape.height, d.shape.width)) == std::string::npos)
        fail("the canonical text holds the format and shape", text, canonical);
    return 0;
}
