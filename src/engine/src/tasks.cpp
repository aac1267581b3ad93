#include "tasks.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <mutex>
#include <stdexcept>
#include <tuple>

#include <fmt/format.h>

#include "actsearch/numeric/hash.hpp"

namespace actsearch::engine {
namespace {

// The built-in tasks: tasks/*.task, compiled into the binary. A file that does not parse is a build bug.
const std::vector<std::shared_ptr<const TaskDefinition>>& builtin_tasks() {
    static const std::vector<std::shared_ptr<const TaskDefinition>> tasks = [] {
        std::vector<std::shared_ptr<const TaskDefinition>> out;
        for (const auto& [name, text] : builtin_task_texts()) {
            auto r = parse_task_file(text, fmt::format("{}.task (built in)", name));
            if (auto* e = std::get_if<TaskFileError>(&r)) throw std::logic_error(e->message);
            auto def = std::make_shared<TaskDefinition>(std::get<TaskDefinition>(std::move(r)));
            def->path.clear();
            if (def->name != name) throw std::logic_error(fmt::format("built-in task {} is named {}", name, def->name));
            out.push_back(std::move(def));
        }
        return out;
    }();
    return tasks;
}

std::shared_ptr<const TaskDefinition> builtin_task(const std::string& name) {
    for (const auto& t : builtin_tasks())
        if (t->name == name) return t;
    return nullptr;
}

// Task files resolved in this process, by their database name (name@hash).
std::mutex registry_mutex;
std::map<std::string, std::shared_ptr<const TaskDefinition>>& registry() {
    static std::map<std::string, std::shared_ptr<const TaskDefinition>> tasks;
    return tasks;
}

std::string locate(const TaskDefinition& def, const std::string& dir, const std::string& file) {
    const std::string how = def.help.empty() ? std::string() : ": " + def.help;
    std::filesystem::path path(file);
    if (path.is_relative()) {
        if (dir.empty()) throw DataError(fmt::format("{} needs a data directory (--data-dir){}", def.name, how));
        path = std::filesystem::path(dir) / path;
    }
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec))
        throw DataError(fmt::format("data file '{}' not found{}", path.string(), how));
    return path.string();
}

// A split's examples as loaded from its files, before rows are applied.
Dataset load_files(const TaskDefinition& def, const SplitSpec& split, const std::string& dir) {
    std::vector<std::string> files;
    for (const std::string& f : split.files) files.push_back(locate(def, dir, f));
    switch (def.format) {
        case DataFormat::Idx: return load_idx(files.at(0), files.at(1), def.classes);
        case DataFormat::Cifar: return load_cifar_bin(files, def.shape, def.classes);
        case DataFormat::Npy: return load_npy(files.at(0), files.at(1), def.shape, def.classes);
        case DataFormat::Csv: return load_csv(files.at(0), def.csv, def.shape, def.classes);
        case DataFormat::Spirals: return make_spirals(std::size_t(split.points), def.classes, split.seed);
    }
    throw std::logic_error("unknown data format");
}

Dataset finish_split(const TaskDefinition& def, const SplitSpec& spec, const SplitSpec& files_from,
                     const std::string& dir, Dataset d, const char* which) {
    const auto names = [&] {   // the images file of an idx or npy pair, every file of the other formats
        std::string s;
        const bool pair = def.format == DataFormat::Idx || def.format == DataFormat::Npy;
        for (std::size_t i = 0; i < (pair ? std::min<std::size_t>(1, files_from.files.size()) : files_from.files.size()); ++i)
            s += (s.empty() ? "'" : ", '") + (dir.empty() ? std::filesystem::path(files_from.files[i])
                                                          : std::filesystem::path(dir) / files_from.files[i]).string() + "'";
        return s.empty() ? std::string("the generated data") : s;
    };
    if (d.shape.channels != def.shape.channels || d.shape.height != def.shape.height || d.shape.width != def.shape.width)
        throw DataError(fmt::format("{} holds examples of {}x{}x{}: the task's shape is [{}, {}, {}]", names(),
                                    d.shape.channels, d.shape.height, d.shape.width, def.shape.channels,
                                    def.shape.height, def.shape.width));
    if (spec.rows) {
        const auto [first, last] = *spec.rows;
        if (last > d.size())
            throw DataError(fmt::format("{} holds {} images; the task's {} split reads rows [{}, {})", names(), d.size(),
                                        which, first, last));
        d = slice(d, std::size_t(first), std::size_t(last));
    }
    if (d.size() == 0) throw DataError(fmt::format("the {} split ({}) is empty", which, names()));
    d.mean = def.mean;
    d.std = def.std;
    return d;
}

TaskData load_task_data(const TaskDefinition& def, const std::string& dir) {
    // The validation split reads the training split's files when it names none.
    const bool shared = def.format != DataFormat::Spirals && def.validation.files.empty();
    Dataset train_files = load_files(def, def.train, dir);
    TaskData data;
    data.train = finish_split(def, def.train, def.train, dir, shared ? train_files : std::move(train_files), "training");
    data.validation = finish_split(def, def.validation, shared ? def.train : def.validation, dir,
                                   shared ? std::move(train_files) : load_files(def, def.validation, dir), "validation");
    return data;
}

// The digest of a data set's content, for a task file's identity.
void digest(numeric::Fnv64& hash, const Dataset& d) {
    hash.bytes(d.pixels.data(), d.pixels.size());
    hash.bytes(d.values.data(), d.values.size() * sizeof(float));
    hash.bytes(d.labels.data(), d.labels.size() * sizeof(std::int32_t));
}

// Where a task's relative data file names are found: --data-dir, else [data] dir (relative to the task
// file's folder), else the task file's folder (none for a built-in task without dir).
std::string data_directory(const TaskDefinition& def, const std::string& data_dir) {
    if (def.format == DataFormat::Spirals) return {};
    if (!data_dir.empty()) return data_dir;
    if (!def.dir.empty()) {
        const std::filesystem::path dir(def.dir);
        return dir.is_absolute() || def.folder.empty() ? def.dir : (std::filesystem::path(def.folder) / dir).string();
    }
    return def.folder;
}

bool looks_like_file(const std::string& name) {
    return name.ends_with(".task") || name.find('/') != std::string::npos;
}

}  // namespace

std::string Fidelity::key() const {
    std::string k = fmt::format("steps={} width={} depth={} lr={} batch={}", steps, width, depth, lr, batch);
    if (schedule == Schedule::Cosine) k += " schedule=cosine";
    if (warmup > 0) k += fmt::format(" warmup={}", warmup);
    if (wd > 0) k += fmt::format(" wd={}", wd);
    if (clip > 0) k += fmt::format(" clip={}", clip);
    if (recal > 0) k += fmt::format(" recal={}", recal);
    if (downsample > 1) k += fmt::format(" downsample={}", downsample);
    if (val > 0) k += fmt::format(" val={}", val);
    if (precision == Precision::Bf16) k += " precision=bf16";
    return k;
}

const char* to_string(Schedule s) noexcept {
    switch (s) {
        case Schedule::Default: return "default";
        case Schedule::Constant: return "constant";
        case Schedule::Cosine: return "cosine";
    }
    return "unknown";
}

const char* to_string(Precision p) noexcept {
    switch (p) {
        case Precision::Default: return "default";
        case Precision::Fp32: return "fp32";
        case Precision::Bf16: return "bf16";
    }
    return "unknown";
}

const char* to_string(EvalStatus s) noexcept {
    switch (s) {
        case EvalStatus::Ok: return "ok";
        case EvalStatus::Diverged: return "diverged";
        case EvalStatus::Invalid: return "invalid";
        case EvalStatus::Timeout: return "timeout";
        case EvalStatus::Error: return "error";
    }
    return "unknown";
}

EvalStatus status_from_string(std::string_view s) noexcept {
    for (EvalStatus v : {EvalStatus::Ok, EvalStatus::Diverged, EvalStatus::Invalid, EvalStatus::Timeout})
        if (s == to_string(v)) return v;
    return EvalStatus::Error;
}

std::shared_ptr<const TaskDefinition> find_task(const std::string& name) {
    if (auto t = builtin_task(name)) return t;
    const std::lock_guard lock(registry_mutex);
    const auto it = registry().find(name);
    return it == registry().end() ? nullptr : it->second;
}

std::vector<std::string> task_names() {
    std::vector<std::string> names;
    for (const auto& t : builtin_tasks()) names.push_back(t->name);
    return names;
}

std::variant<TaskConfig, TaskError> resolve_task(const std::string& name, const Fidelity& overrides,
                                                 const std::string& data_dir) {
    std::shared_ptr<const TaskDefinition> spec = builtin_task(name);
    bool from_file = false;
    if (spec == nullptr) {
        if (!looks_like_file(name))
            return TaskError{fmt::format("unknown task '{}' (known: {}, or a task file FILE.task)", name,
                                         fmt::join(task_names(), ", "))};
        auto loaded = load_task_file(name);
        if (auto* e = std::get_if<TaskFileError>(&loaded)) return TaskError{e->message};
        auto def = std::make_shared<const TaskDefinition>(std::get<TaskDefinition>(std::move(loaded)));
        // A file that says what a built-in task says (the shipped copy, say) is that task.
        const auto builtin = builtin_task(def->name);
        if (builtin && builtin->canonical(true) == def->canonical(true)) spec = builtin;
        else spec = std::move(def), from_file = true;
    }
    if (overrides.steps < 0 || overrides.width < 0 || overrides.depth < 0 || overrides.lr < 0 || overrides.batch < 0 ||
        !std::isfinite(overrides.lr))
        return TaskError{"steps, width, depth, lr and batch must be positive"};
    if (overrides.warmup < -1 || overrides.recal < -1 || overrides.downsample < 0 || overrides.val < -1 || (overrides.wd < 0 && overrides.wd != -1.0) ||
        (overrides.clip < 0 && overrides.clip != -1.0) || !std::isfinite(overrides.wd) || !std::isfinite(overrides.clip))
        return TaskError{"warmup, wd, clip, recal, downsample and val must be zero or positive"};
    if (spec->network == NetworkKind::Cnn && overrides.depth != 0 && overrides.depth != spec->defaults.depth)
        return TaskError{from_file ? fmt::format("{}: a cnn's depth is fixed by its [network] layers (depth {})",
                                                 spec->path, spec->defaults.depth)
                                   : fmt::format("{} has a fixed depth of {} conv layers per stage; use resnet-mini or "
                                                 "cifar10-resnet to vary depth", name, spec->defaults.depth)};
    TaskConfig task;
    task.name = spec->name;
    task.momentum = spec->momentum;
    const Fidelity& d = spec->defaults;
    task.fidelity.steps = overrides.steps ? overrides.steps : d.steps;
    task.fidelity.width = overrides.width ? overrides.width : d.width;
    task.fidelity.depth = overrides.depth ? overrides.depth : d.depth;
    task.fidelity.lr = overrides.lr ? overrides.lr : d.lr;
    task.fidelity.batch = overrides.batch ? overrides.batch : d.batch;
    task.fidelity.schedule = overrides.schedule != Schedule::Default ? overrides.schedule : d.schedule;
    task.fidelity.warmup = overrides.warmup >= 0 ? overrides.warmup : d.warmup;
    task.fidelity.wd = overrides.wd >= 0 ? overrides.wd : d.wd;
    task.fidelity.clip = overrides.clip >= 0 ? overrides.clip : d.clip;
    task.fidelity.recal = overrides.recal >= 0 ? overrides.recal : d.recal;
    task.fidelity.downsample = overrides.downsample > 0 ? overrides.downsample : d.downsample;
    task.fidelity.val = overrides.val >= 0 ? overrides.val : d.val;
    task.fidelity.precision = overrides.precision != Precision::Default ? overrides.precision
                              : d.precision != Precision::Default      ? d.precision
                                                                       : Precision::Fp32;
    if (task.fidelity.precision == Precision::Bf16) {
        if (spec->network == NetworkKind::Mlp)
            return TaskError{fmt::format("precision bf16 applies to the convolutions, and {} is an MLP (fp32 only)",
                                         spec->name)};
        if (!bf16_native())
            return TaskError{"precision bf16 needs a CPU that runs bf16 natively (AVX512-BF16 or AMX); this one "
                             "would emulate it, slower than fp32"};
    }
    if (spec->format == DataFormat::Spirals && task.fidelity.downsample != 1)
        return TaskError{fmt::format("the {} task's points cannot be downsampled", spec->name)};
    const int halvings = spec->network == NetworkKind::Cnn
                             ? int(std::count(spec->cnn_layers.begin(), spec->cnn_layers.end(), 0))
                         : spec->network == NetworkKind::ResNet ? spec->resnet_stages - 1 : 0;
    if (spec->network != NetworkKind::Mlp && task.fidelity.downsample > 1 &&
        std::min(spec->shape.height, spec->shape.width) / task.fidelity.downsample < (1 << halvings))
        return TaskError{fmt::format("downsample {} leaves images smaller than the conv networks' {}x{} minimum",
                                     task.fidelity.downsample, 1 << halvings, 1 << halvings)};
    if (task.fidelity.warmup >= task.fidelity.steps)
        return TaskError{fmt::format("warmup ({} steps) must be shorter than training ({} steps)",
                                     task.fidelity.warmup, task.fidelity.steps)};
    task.data_dir = data_directory(*spec, data_dir);
    if (from_file) {
        // A task file's results are stored under name@hash: the hash covers what decides results apart
        // from the fidelity key, the data's content included, so that two different files (or data) never
        // share results and a renamed or moved file keeps them.
        numeric::Fnv64 hash;
        hash.text(spec->canonical(false));
        try {
            const std::shared_ptr<const TaskData> data = task_data(*spec, task.data_dir);
            digest(hash, data->train);
            digest(hash, data->validation);
        } catch (const DataError& e) {
            return TaskError{fmt::format("{}: {}", spec->path, e.what())};
        } catch (const std::bad_alloc&) {
            return TaskError{fmt::format("{}: out of memory loading the data", spec->path)};
        }
        task.name = fmt::format("{}@{:012x}", spec->name, hash.value() >> 16);
        const std::lock_guard lock(registry_mutex);
        registry()[task.name] = spec;
    }
    return task;
}

Dataset downsample(const Dataset& d, int factor) {
    if (factor <= 1) return d;
    Dataset out;
    out.classes = d.classes;
    out.mean = d.mean;
    out.std = d.std;
    out.labels = d.labels;
    const int h = d.shape.height / factor, w = d.shape.width / factor;
    if (h < 1 || w < 1)
        throw DataError(fmt::format("downsample {} of {}x{} images leaves nothing", factor, d.shape.height, d.shape.width));
    out.shape = ImageShape{d.shape.channels, h, w};
    const std::size_t in_image = d.shape.size(), out_image = out.shape.size();
    const int area = factor * factor;
    const auto pool = [&](const auto* in, auto* pooled, auto zero, auto mean_of) {
        for (std::size_t n = 0; n < d.size(); ++n)
            for (int c = 0; c < d.shape.channels; ++c) {
                const auto* src = in + n * in_image + std::size_t(c) * d.shape.height * d.shape.width;
                auto* dst = pooled + n * out_image + std::size_t(c) * h * w;
                for (int y = 0; y < h; ++y)
                    for (int x = 0; x < w; ++x) {
                        decltype(zero) sum = zero;
                        for (int dy = 0; dy < factor; ++dy)
                            for (int dx = 0; dx < factor; ++dx)
                                sum += src[std::size_t(y * factor + dy) * d.shape.width + std::size_t(x * factor + dx)];
                        dst[std::size_t(y) * w + x] = mean_of(sum);
                    }
            }
    };
    if (d.is_float()) {
        out.values.resize(d.size() * out_image);
        pool(d.values.data(), out.values.data(), 0.0, [&](double sum) { return float(sum / area); });
    } else {
        out.pixels.resize(d.size() * out_image);
        pool(d.pixels.data(), out.pixels.data(), 0,
             [&](int sum) { return std::uint8_t((sum + area / 2) / area); });   // rounded mean
    }
    return out;
}

std::shared_ptr<const TaskData> task_data(const TaskDefinition& def, const std::string& data_dir, int factor) {
    // One mutex over the whole cache: loads are rare and a second caller for the same data must wait
    // for the first anyway. Failed loads are not cached, so a fixed path works on the next call. Tasks
    // that read the same data (fmnist-mlp, fmnist-cnn, ...) share one copy.
    static std::mutex mutex;
    static std::map<std::tuple<std::string, std::string, int>, std::shared_ptr<const TaskData>> cache;
    const std::string dir = def.format == DataFormat::Spirals ? std::string() : data_dir;
    // The key: what the data are, and the size and modification time of each file, so that a file
    // changed while the process runs is read again.
    std::string key = def.canonical_data(true);
    for (const SplitSpec* split : {&def.train, &def.validation})
        for (const std::string& f : split->files) {
            std::error_code ec;
            const std::filesystem::path path = std::filesystem::path(dir) / f;
            const auto size = std::filesystem::file_size(path, ec);
            const auto time = std::filesystem::last_write_time(path, ec);
            key += fmt::format("\n{} {} {}", f, ec ? 0 : size, ec ? 0 : time.time_since_epoch().count());
        }
    if (factor <= 1) {
        const std::lock_guard lock(mutex);
        auto& slot = cache[{key, dir, 1}];
        if (!slot) slot = std::make_shared<const TaskData>(load_task_data(def, dir));
        return slot;
    }
    const std::shared_ptr<const TaskData> full = task_data(def, dir, 1);
    const std::lock_guard lock(mutex);
    auto& slot = cache[{key, dir, factor}];
    if (!slot) slot = std::make_shared<const TaskData>(TaskData{downsample(full->train, factor), downsample(full->validation, factor)});
    return slot;
}

void preload(const TaskConfig& task) {
    const auto def = find_task(task.name);
    if (def == nullptr) throw DataError(fmt::format("unknown task '{}'", task.name));
    task_data(*def, task.data_dir, task.fidelity.downsample);
}

std::unique_ptr<Network> make_network(const TaskDefinition& def, const NetworkConfig& base, const Program& activation) {
    NetworkConfig cfg = base;
    switch (def.network) {
        case NetworkKind::Mlp: return make_mlp(cfg, activation);
        case NetworkKind::Cnn: cfg.cnn_layers = def.cnn_layers; return make_cnn(cfg, activation);
        case NetworkKind::ResNet: cfg.resnet_stages = def.resnet_stages; return make_resnet(cfg, activation);
    }
    return nullptr;
}

}  // namespace actsearch::engine
