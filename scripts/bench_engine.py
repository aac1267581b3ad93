#!/usr/bin/python3
"""Engine benchmark: actsearch's proxy networks against the same networks in PyTorch, one thread each.

For every candidate activation and task it trains the network once with `actsearch eval` (and, with
--baseline-bin, once more with an older actsearch binary) and once with PyTorch (same architecture,
PyTorch-default initialisation, same data split and normalisation, SGD with momentum 0.9, batches of
128 sampled with replacement; a different random stream), interleaved, and reports per-seed CPU
seconds of training plus validation and the speed ratios; the medians over the candidates are the
headline figures. CPU time, not wall time: the machine may be shared.
  * actsearch: user + system CPU time of the `eval --seeds 1 --threads 1` child process, minus that
    of a run that only loads the data (`eval x --task fmnist-mlp --steps 1`, best of three);
  * PyTorch: time.process_time() around training and validation (data loaded once beforehand).
It then prints bench_layers' per-layer breakdown of both training steps with their GFLOP/s against the
measured single-core FMA peak, the accuracy agreement of relu and swish on fmnist-mlp over 3 seeds, and
the peak RSS of one `actsearch eval`. Output: markdown on stdout, progress on stderr.

A benchmark, not a test: run it with scripts/bench_engine.sh (which installs what is missing and gives
PyTorch OpenBLAS).
"""
import argparse
import datetime
import gzip
import json
import math
import os
import platform
import re
import resource
import shlex
import statistics
import subprocess
import sys
import time

FMNIST_DIR = "/usr/share/datasets/fashion-mnist"
FMNIST_MEAN, FMNIST_STD = 0.2860, 0.3530
TRAIN_COUNT, VAL_BEGIN, VAL_END = 10_000, 55_000, 60_000
BATCH, LR, MOMENTUM = 128, 0.05, 0.9
MLP_WIDTH, MLP_DEPTH, MLP_STEPS = 128, 3, 400
CNN_WIDTH, CNN_STEPS = 16, 200

# (actsearch expression, PyTorch function of (x, beta)); beta broadcasts per channel.
TORCH_FUNCTIONS = {
    "relu(x)": lambda t, x, b: t.relu(x),
    "x*sigmoid(beta*x)": lambda t, x, b: x * t.sigmoid(b * x),
    "hard_swish(x)": lambda t, x, b: t.nn.functional.hardswish(x),
    "sin(x)": lambda t, x, b: t.sin(x),
    "cos(x)-x": lambda t, x, b: t.cos(x) - x,
    "max(x,tanh(x))": lambda t, x, b: t.maximum(x, t.tanh(x)),
    "atan(x)^2-x": lambda t, x, b: t.atan(x) ** 2 - x,
}
# The candidate sets: the medians over these are the headline ratios.
CANDIDATES = {
    "fmnist-cnn": ["relu(x)", "x*sigmoid(beta*x)", "cos(x)-x", "hard_swish(x)"],
    "fmnist-mlp": ["relu(x)", "x*sigmoid(beta*x)", "hard_swish(x)", "sin(x)", "cos(x)-x", "max(x,tanh(x))",
                   "atan(x)^2-x"],
}
QUICK = ["relu(x)", "x*sigmoid(beta*x)"]
TASKS = ["fmnist-mlp", "fmnist-cnn"]
STEPS = {"fmnist-mlp": MLP_STEPS, "fmnist-cnn": CNN_STEPS}
# The recipe the PyTorch side implements (constant lr LR, SGD momentum, no warm-up, clipping or
# batch-norm recalibration): actsearch is told it explicitly, since fmnist-cnn's default recipe adds
# warm-up, cosine decay, clipping and recalibration, which would not be the same work.
SAME_RECIPE = ["--lr", str(LR), "--schedule", "constant", "--warmup", "0", "--clip", "0", "--recal", "0"]

# Multiply-add FLOPs (2 per multiply-add) of the convolutions and dense layers, counted once per image.
def layer_shapes(task):
    """[(flops of the layer's forward pass per image, whether its input gradient is computed)]."""
    if task == "fmnist-mlp":
        dims = [784] + [MLP_WIDTH] * MLP_DEPTH + [10]
        return [(2 * a * b, i > 0) for i, (a, b) in enumerate(zip(dims, dims[1:]))]
    w = CNN_WIDTH
    convs = [(1, w, 28), (w, w, 28), (w, 2 * w, 14), (2 * w, 2 * w, 14)]
    return [(2 * 9 * cin * cout * size * size, i > 0) for i, (cin, cout, size) in enumerate(convs)] + [(2 * 2 * w * 10, True)]


def seed_gflop(task):
    """FLOPs of one seed as both sides run it: STEPS training steps of BATCH images (forward, the weight
    gradient, and the input gradient of every layer but the first) and the validation images' forward."""
    shapes = layer_shapes(task)
    forward = sum(f for f, _ in shapes)
    train = sum(f * (3 if dx else 2) for f, dx in shapes)
    return (STEPS[task] * BATCH * train + (VAL_END - VAL_BEGIN) * forward) / 1e9


def log(message):
    print(message, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------- actsearch

def actsearch_eval(binary, expr, task, seeds=1, steps=None, data_dir=None):
    """Runs `actsearch eval ... --json` and returns its parsed JSON object."""
    cmd = [binary, "eval", expr, "--task", task, "--seeds", str(seeds), "--threads", "1", "--json", "--no-db"]
    if steps:
        cmd += ["--steps", str(steps)]
    if data_dir:
        cmd += ["--data-dir", data_dir]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    start = out.index("{")
    return json.loads(out[start:out.rindex("}") + 1])


def peak_rss_mib(binary, data_dir):
    cmd = ["/usr/bin/time", "-v", binary, "eval", "relu(x)", "--task", "fmnist-mlp", "--seeds", "1", "--threads", "1",
           "--json", "--no-db"] + (["--data-dir", data_dir] if data_dir else [])
    err = subprocess.run(cmd, check=True, capture_output=True, text=True).stderr
    kib = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", err).group(1))
    return kib / 1024.0


def child_cpu_seconds(cmd):
    """Runs cmd; returns (its stdout, user + system CPU seconds of the child)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return out, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def actsearch_cpu(binary, expr, task, data_dir, overhead, extra=()):
    """(per-seed CPU seconds of training + validation, the seed's JSON result)."""
    cmd = [binary, "eval", expr, "--task", task, "--seeds", "1", "--threads", "1", "--json", "--no-db",
           "--steps", str(STEPS[task]), "--data-dir", data_dir] + SAME_RECIPE + list(extra)
    out, cpu = child_cpu_seconds(cmd)
    result = json.loads(out[out.index("{"):out.rindex("}") + 1])["seeds"][0]
    return cpu - overhead, result


def load_overhead(binary, data_dir):
    """CPU seconds of an eval that loads the data and trains one MLP step: what actsearch_cpu subtracts."""
    cmd = [binary, "eval", "x", "--task", "fmnist-mlp", "--seeds", "1", "--threads", "1", "--json", "--no-db",
           "--steps", "1", "--data-dir", data_dir]
    return min(child_cpu_seconds(cmd)[1] for _ in range(3))


def layer_breakdown(layers_bin):
    if not os.access(layers_bin, os.X_OK):
        return f"(no per-layer breakdown: {layers_bin} is missing; build it with `cmake --build build --target bench_layers`)\n"
    return subprocess.run([layers_bin], check=True, capture_output=True, text=True).stdout


def target_arithmetic(implied, peak):
    """What the speed targets ask of the hardware: each side's FLOP rate over a whole seed (median
    seconds over the candidates), and the rate a target ratio would need from actsearch."""
    targets = {"fmnist-cnn": 3.0, "fmnist-mlp": 2.0}
    out = ["## What the targets ask of this CPU\n",
           "FLOPs of a seed: the convolutions' and dense layers' multiply-adds (2 FLOPs each) of its training steps "
           "(forward, weight gradient, input gradient except the first layer's) and of the forward pass over the "
           f"{VAL_END - VAL_BEGIN:,} validation images; rates are over the median seconds of a seed above, so they include "
           "everything else a seed does (batch norm, activation, pooling, loss, optimiser, batch gathering).\n",
           "| task | GFLOP a seed | side | median s a seed | GFLOP/s over the seed | share of the FMA peak |",
           "|---|---:|---|---:|---:|---:|"]
    notes = []
    for task, sides in implied.items():
        gflop = seed_gflop(task)
        for side, seconds in sides.items():
            rate = gflop / seconds
            out.append(f"| {task} | {gflop:.0f} | {side} | {seconds:.2f} | {rate:.0f} | {100 * rate / peak:.0f}% |")
        if "PyTorch" in sides:
            need = targets[task] * gflop / sides["PyTorch"]
            notes.append(f"- {task}: {targets[task]:.0f}x PyTorch needs actsearch at {need:.0f} GFLOP/s over the whole seed, "
                         f"**{100 * need / peak:.0f}% of the {peak:.0f} GFLOP/s FMA peak** (fp32, same FLOPs).")
    return "\n".join(out) + "\n\n" + "\n".join(notes) + "\n"


# ------------------------------------------------------------------------------------------ PyTorch

def load_idx(torch, path, header_ints):
    with gzip.open(path, "rb") as f:
        data = f.read()
    return torch.frombuffer(bytearray(data[4 * header_ints:]), dtype=torch.uint8)


def load_fmnist(torch, data_dir):
    images = load_idx(torch, os.path.join(data_dir, "train-images-idx3-ubyte.gz"), 4).view(-1, 1, 28, 28)
    labels = load_idx(torch, os.path.join(data_dir, "train-labels-idx1-ubyte.gz"), 2).long()

    def normalise(x):
        return (x.float() / 255.0 - FMNIST_MEAN) / FMNIST_STD

    return (normalise(images[:TRAIN_COUNT]), labels[:TRAIN_COUNT],
            normalise(images[VAL_BEGIN:VAL_END]), labels[VAL_BEGIN:VAL_END])


def make_torch_net(torch, task, fn):
    nn = torch.nn

    class Act(nn.Module):
        def __init__(self, channels, conv):
            super().__init__()
            self.beta = nn.Parameter(torch.ones(channels))   # per channel, initialised to 1
            self.conv = conv

        def forward(self, x):
            beta = self.beta.view(1, -1, 1, 1) if self.conv else self.beta
            return fn(torch, x, beta)

    if task == "fmnist-mlp":
        layers, width = [nn.Flatten()], 784
        for _ in range(MLP_DEPTH):
            layers += [nn.Linear(width, MLP_WIDTH), Act(MLP_WIDTH, False)]
            width = MLP_WIDTH
        return nn.Sequential(*layers, nn.Linear(width, 10))
    if task == "fmnist-cnn":
        w = CNN_WIDTH

        def unit(cin, cout):
            return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), Act(cout, True)]

        return nn.Sequential(*unit(1, w), *unit(w, w), nn.MaxPool2d(2), *unit(w, 2 * w), *unit(2 * w, 2 * w),
                             nn.MaxPool2d(2), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2 * w, 10))
    raise ValueError(f"no PyTorch network for task {task}")


def torch_eval(torch, data, task, fn, seed):
    """Trains and validates like actsearch's evaluate(); returns (status, val_acc, CPU seconds)."""
    train_x, train_y, val_x, val_y = data
    steps = STEPS[task]
    start = time.process_time()
    torch.manual_seed(seed)
    net = make_torch_net(torch, task, fn)
    opt = torch.optim.SGD(net.parameters(), lr=LR, momentum=MOMENTUM)
    sampler = torch.Generator().manual_seed(seed)
    first = None
    net.train()
    for _ in range(steps):
        idx = torch.randint(0, train_x.shape[0], (BATCH,), generator=sampler)
        loss = torch.nn.functional.cross_entropy(net(train_x[idx]), train_y[idx])
        value = loss.item()
        first = value if first is None else first
        if not math.isfinite(value) or value > 20 * first or value > 1e3:   # actsearch's divergence rule
            return "diverged", 0.0, time.process_time() - start
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    net.eval()
    correct = 0
    with torch.no_grad():
        for begin in range(0, val_x.shape[0], 1000):
            logits = net(val_x[begin:begin + 1000])
            correct += (logits.argmax(1) == val_y[begin:begin + 1000]).sum().item()
    return "ok", correct / val_x.shape[0], time.process_time() - start


def torch_blas_library():
    """The BLAS shared object PyTorch actually loaded (after a product has run)."""
    with open("/proc/self/maps") as maps:
        paths = {line.split()[-1] for line in maps if "blas" in line.rsplit("/", 1)[-1]}
    return ", ".join(sorted(os.path.realpath(p) for p in paths)) or "unknown"


def torch_mm_gflops(torch):
    a, b = torch.rand(512, 512), torch.rand(512, 512)
    torch.mm(a, b)
    best = 1e9
    for _ in range(7):
        t0 = time.process_time()
        for _ in range(10):
            torch.mm(a, b)
        best = min(best, (time.process_time() - t0) / 10)
    return 2 * 512 ** 3 / best / 1e9


# ------------------------------------------------------------------------------------------- report

def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", default="build/actsearch", help="actsearch binary (default: build/actsearch)")
    parser.add_argument("--baseline-bin", help="an older actsearch binary to measure beside --bin (before/after)")
    parser.add_argument("--layers-bin", default="build/tests/bench_layers", help="per-layer breakdown program")
    parser.add_argument("--tasks", default=",".join(TASKS), help="comma-separated subset of " + ",".join(TASKS))
    parser.add_argument("--quick", action="store_true", help="two candidates, no accuracy agreement")
    parser.add_argument("--bf16", action="store_true",
                        help="also time --bin with --precision bf16 on the convolutional task (needs native bf16)")
    parser.add_argument("--data-dir", default=FMNIST_DIR, help="Fashion-MNIST directory")
    parser.add_argument("--rounds", "--repeat", type=int, default=1,
                        help="interleaved rounds per candidate; medians are reported")
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    tasks = [t for t in args.tasks.split(",") if t]
    for t in tasks:
        if t not in TASKS:
            parser.error(f"unknown task {t!r}: choose from {', '.join(TASKS)}")
    for b in [args.bin] + ([args.baseline_bin] if args.baseline_bin else []):
        if not os.access(b, os.X_OK):
            parser.error(f"{b} is not an executable: build it (cmake --build build --target actsearch) or pass --bin")

    import torch
    torch.set_num_threads(1)

    cpu = next((line.split(":", 1)[1].strip() for line in subprocess.run(["lscpu"], capture_output=True, text=True)
                .stdout.splitlines() if line.startswith("Model name")), platform.processor())
    print("# actsearch engine benchmark\n")
    print(f"- date: {datetime.datetime.now().astimezone().isoformat(timespec='seconds')}")
    print(f"- CPU: {cpu}, {os.cpu_count()} logical CPUs; load average at start {os.getloadavg()[0]:.2f}")
    command = os.environ.get("ACTSEARCH_BENCH_COMMAND") or " ".join(shlex.quote(a) for a in sys.argv)
    print(f"- command: `{command}`")
    mm = torch_mm_gflops(torch)
    print(f"- PyTorch {torch.__version__}, 1 thread, BLAS {torch_blas_library()} (torch.mm 512^3: {mm:.1f} GFLOP/s); "
          "actsearch `--threads 1`" + (f"; before = `{args.baseline_bin}`, after = `{args.bin}`" if args.baseline_bin else ""))
    print(f"- seconds: CPU seconds (user + system) of training plus validation of one seed, data loading excluded on "
          f"both sides; median of {args.rounds} interleaved round(s); ratio = PyTorch seconds / actsearch seconds\n")

    log("loading Fashion-MNIST for PyTorch")
    data = load_fmnist(torch, args.data_dir)
    binaries = [("after", args.bin)] + ([("before", args.baseline_bin)] if args.baseline_bin else [])
    overhead = {name: load_overhead(path, args.data_dir) for name, path in binaries}
    log(f"data-loading overhead subtracted: {overhead}")

    implied = {}
    for task in tasks:
        candidates = [c for c in CANDIDATES[task] if not args.quick or c in QUICK]
        bf16 = args.bf16 and task != "fmnist-mlp"   # the MLP has no convolutions: fp32 only
        print(f"## {task}\n")
        before_cols = "before s | " if args.baseline_bin else ""
        bf16_cols = "bf16 s | " if bf16 else ""
        print(f"| candidate | {before_cols}after s | {bf16_cols}PyTorch s | {'speed-up | ' if args.baseline_bin else ''}"
              f"PyTorch / after | {'PyTorch / bf16 | ' if bf16 else ''}after val_acc | "
              f"{'bf16 val_acc | ' if bf16 else ''}PyTorch val_acc |")
        print("|---|" + ("---:|" * (4 + (2 if args.baseline_bin else 0) + (3 if bf16 else 0))) + "---:|")
        ratios, speedups, bf16_ratios = [], [], []
        seconds_by_side = {"actsearch": [], "PyTorch": [], "actsearch bf16": []}
        for expr in candidates:
            fn = TORCH_FUNCTIONS[expr]
            times = {"after": [], "before": [], "bf16": [], "torch": []}
            ours, ours_bf16, theirs = None, None, None
            for round_ in range(args.rounds):
                log(f"{task}: {expr} (round {round_ + 1}/{args.rounds})")
                # Rotate the order every round so that no side always runs first.
                sides = [name for name, _ in binaries] + (["bf16"] if bf16 else []) + ["torch"]
                sides = sides[round_ % len(sides):] + sides[:round_ % len(sides)]
                for side in sides:
                    if side == "torch":
                        theirs = torch_eval(torch, data, task, fn, seed=1)
                        times["torch"].append(theirs[2])
                    elif side == "bf16":
                        seconds, ours_bf16 = actsearch_cpu(args.bin, expr, task, args.data_dir, overhead["after"],
                                                           ["--precision", "bf16"])
                        times["bf16"].append(seconds)
                    else:
                        seconds, result = actsearch_cpu(dict(binaries)[side], expr, task, args.data_dir, overhead[side])
                        times[side].append(seconds)
                        if side == "after":
                            ours = result
            t_after, t_torch = statistics.median(times["after"]), statistics.median(times["torch"])
            seconds_by_side["actsearch"].append(t_after)
            seconds_by_side["PyTorch"].append(t_torch)
            if bf16:
                seconds_by_side["actsearch bf16"].append(statistics.median(times["bf16"]))
            ratio = t_torch / t_after
            ratios.append(ratio)
            cells = [f"`{expr}`"]
            if args.baseline_bin:
                t_before = statistics.median(times["before"])
                speedups.append(t_before / t_after)
                cells.append(f"{t_before:.2f}")
            cells.append(f"{t_after:.2f}")
            if bf16:
                t_bf16 = statistics.median(times["bf16"])
                bf16_ratios.append(t_torch / t_bf16)
                cells.append(f"{t_bf16:.2f}")
            cells.append(f"{t_torch:.2f}")
            if args.baseline_bin:
                cells.append(f"{t_before / t_after:.2f}x")
            cells.append(f"{ratio:.2f}x")
            if bf16:
                cells.append(f"{t_torch / t_bf16:.2f}x")
            cells.append(f"{ours['val_acc']:.4f}" if ours["status"] == "ok" else ours["status"])
            if bf16:
                cells.append(f"{ours_bf16['val_acc']:.4f}" if ours_bf16["status"] == "ok" else ours_bf16["status"])
            cells.append(f"{theirs[1]:.4f}" if theirs[0] == "ok" else theirs[0])
            print("| " + " | ".join(cells) + " |", flush=True)
        print(f"\nMedian over the candidates on {task}: PyTorch / actsearch **{statistics.median(ratios):.2f}x**"
              + (f"; after / before speed-up **{statistics.median(speedups):.2f}x**" if speedups else "")
              + (f"; PyTorch / actsearch bf16 **{statistics.median(bf16_ratios):.2f}x** (PyTorch in fp32)"
                 if bf16_ratios else "") + "\n")
        implied[task] = {side: statistics.median(v) for side, v in seconds_by_side.items() if v}

    print("## Where the time goes\n")
    log("per-layer breakdown")
    breakdown = layer_breakdown(args.layers_bin)
    print(breakdown)
    peak = re.search(r"FMA peak, measured[^*]*\*\*(\d+) GFLOP/s\*\*", breakdown)
    if peak and implied:
        print(target_arithmetic(implied, float(peak.group(1))))

    if "fmnist-mlp" in tasks and not args.quick:
        print("## Accuracy agreement on fmnist-mlp (3 seeds)\n")
        print("| candidate | actsearch mean val_acc | PyTorch mean val_acc | difference (points) |")
        print("|---|---:|---:|---:|")
        for expr in ["relu(x)", "x*sigmoid(beta*x)"]:
            log(f"accuracy: {expr}")
            ours = actsearch_eval(args.bin, expr, "fmnist-mlp", seeds=3, steps=MLP_STEPS, data_dir=args.data_dir)
            ours_mean = statistics.mean(s["val_acc"] for s in ours["seeds"])
            theirs = statistics.mean(torch_eval(torch, data, "fmnist-mlp", TORCH_FUNCTIONS[expr], seed)[1]
                                     for seed in (1, 2, 3))
            print(f"| `{expr}` | {ours_mean:.4f} | {theirs:.4f} | {100 * (ours_mean - theirs):+.2f} |", flush=True)
        print()

        log("peak RSS")
        print(f"Peak RSS of `actsearch eval 'relu(x)' --task fmnist-mlp --seeds 1 --threads 1` "
              f"(/usr/bin/time -v, maximum resident set size): **{peak_rss_mib(args.bin, args.data_dir):.0f} MiB**")


if __name__ == "__main__":
    main()
