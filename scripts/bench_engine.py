#!/usr/bin/python3
"""Engine benchmark: actsearch's proxy networks against the same networks in PyTorch, one thread each.

For every candidate activation and task it trains the network once with `actsearch eval` and once
with PyTorch (same architecture, PyTorch-default initialisation, same data split and normalisation,
SGD with momentum 0.9, batches of 128 sampled with replacement; a different random stream) and reports
seconds, validation accuracy and the speed ratio. It also measures actsearch's training-step GEMM rate
on fmnist-mlp against the machine's single-core SGEMM rate, the accuracy agreement of relu and swish
over 3 seeds, and the peak RSS of one `actsearch eval`. Output: markdown on stdout, progress on stderr.

A benchmark, not a test: run it with scripts/bench_engine.sh (which installs what is missing).
"""
import argparse
import datetime
import gzip
import json
import math
import os
import platform
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import time

FMNIST_DIR = "/usr/share/datasets/fashion-mnist"
FMNIST_MEAN, FMNIST_STD = 0.2860, 0.3530
TRAIN_COUNT, VAL_BEGIN, VAL_END = 10_000, 55_000, 60_000
BATCH, LR, MOMENTUM = 128, 0.05, 0.9
MLP_WIDTH, MLP_DEPTH, MLP_STEPS = 128, 3, 400
CNN_WIDTH, CNN_STEPS = 16, 200

# (actsearch expression, PyTorch function of (x, beta)); beta broadcasts per channel.
CANDIDATES = [
    ("relu(x)", lambda t, x, b: t.relu(x)),
    ("x*sigmoid(beta*x)", lambda t, x, b: x * t.sigmoid(b * x)),
    ("hard_swish(x)", lambda t, x, b: t.nn.functional.hardswish(x)),
    ("x", lambda t, x, b: x),
    ("sin(x)", lambda t, x, b: t.sin(x)),
    ("cos(x)-x", lambda t, x, b: t.cos(x) - x),
    ("max(x,tanh(x))", lambda t, x, b: t.maximum(x, t.tanh(x))),
    ("max(x,sigmoid(x))*tanh(x+cos(x))", lambda t, x, b: t.maximum(x, t.sigmoid(x)) * t.tanh(x + t.cos(x))),
]
QUICK = ["relu(x)", "x*sigmoid(beta*x)", "max(x,sigmoid(x))*tanh(x+cos(x))"]
TASKS = ["fmnist-mlp", "fmnist-cnn"]

SGEMM_SOURCE = r"""
#include <chrono>
#include <cstdio>
#include <Eigen/Core>
int main() {
    Eigen::setNbThreads(1);
    const int n = 512;
    Eigen::MatrixXf a = Eigen::MatrixXf::Random(n, n), b = Eigen::MatrixXf::Random(n, n), c(n, n);
    c.noalias() = a * b;
    double best = 1e9;
    for (int rep = 0; rep < 7; ++rep) {
        const auto t0 = std::chrono::steady_clock::now();
        for (int i = 0; i < 10; ++i) c.noalias() = a * b;
        best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / 10);
    }
    std::printf("%.3f %g\n", 2.0 * n * n * n / best / 1e9, c(0, 0));
}
"""


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


def step_seconds(binary, data_dir, repeats=3):
    """Seconds per fmnist-mlp training step: the difference of a long and a short run, so that
    network construction and validation cancel out."""
    short, long_ = MLP_STEPS, 3 * MLP_STEPS
    t_short = min(actsearch_eval(binary, "relu(x)", "fmnist-mlp", steps=short, data_dir=data_dir)["seeds"][0]["seconds"]
                  for _ in range(repeats))
    t_long = min(actsearch_eval(binary, "relu(x)", "fmnist-mlp", steps=long_, data_dir=data_dir)["seeds"][0]["seconds"]
                 for _ in range(repeats))
    return (t_long - t_short) / (long_ - short)


def sgemm_gflops_eigen():
    with tempfile.TemporaryDirectory() as tmp:
        src, exe = os.path.join(tmp, "sgemm.cpp"), os.path.join(tmp, "sgemm")
        with open(src, "w") as f:
            f.write(SGEMM_SOURCE)
        cxx = os.environ.get("CXX", "g++")
        subprocess.run([cxx, "-O3", "-march=native", "-std=c++17", "-I/usr/include/eigen3", src, "-o", exe], check=True)
        return float(subprocess.run([exe], check=True, capture_output=True, text=True).stdout.split()[0])


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
    """Trains and validates like actsearch's evaluate(); returns (status, val_acc, seconds)."""
    train_x, train_y, val_x, val_y = data
    steps = MLP_STEPS if task == "fmnist-mlp" else CNN_STEPS
    start = time.perf_counter()
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
            return "diverged", 0.0, time.perf_counter() - start
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    net.eval()
    correct = 0
    with torch.no_grad():
        for begin in range(0, val_x.shape[0], 1000):
            logits = net(val_x[begin:begin + 1000])
            correct += (logits.argmax(1) == val_y[begin:begin + 1000]).sum().item()
    return "ok", correct / val_x.shape[0], time.perf_counter() - start


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
        t0 = time.perf_counter()
        for _ in range(10):
            torch.mm(a, b)
        best = min(best, (time.perf_counter() - t0) / 10)
    return 2 * 512 ** 3 / best / 1e9


# ------------------------------------------------------------------------------------------- report

def flops_per_step():
    """GEMM FLOPs of one fmnist-mlp training step: (brief's count, FLOPs actually performed).
    The brief counts forward 2*B*in*out per layer and backward twice that; the first layer's input
    gradient is never computed, so the performed count is lower by 2*B*784*128."""
    dims = [784] + [MLP_WIDTH] * MLP_DEPTH + [10]
    forward = sum(2 * BATCH * a * b for a, b in zip(dims, dims[1:]))
    return 3 * forward, 3 * forward - 2 * BATCH * dims[0] * dims[1]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", default="build/actsearch", help="actsearch binary (default: build/actsearch)")
    parser.add_argument("--tasks", default=",".join(TASKS), help="comma-separated subset of " + ",".join(TASKS))
    parser.add_argument("--quick", action="store_true", help="three candidates, fewer repeats")
    parser.add_argument("--data-dir", default=FMNIST_DIR, help="Fashion-MNIST directory")
    parser.add_argument("--repeat", type=int, default=1, help="runs per candidate and side; the fastest is reported")
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    tasks = [t for t in args.tasks.split(",") if t]
    for t in tasks:
        if t not in TASKS:
            parser.error(f"unknown task {t!r}: choose from {', '.join(TASKS)}")
    if not os.access(args.bin, os.X_OK):
        parser.error(f"{args.bin} is not an executable: build it (cmake --build build --target actsearch) or pass --bin")
    candidates = [c for c in CANDIDATES if not args.quick or c[0] in QUICK]

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
          "actsearch `--threads 1`")
    print(f"- seconds: training plus validation of one candidate (data loading excluded on both sides), fastest of "
          f"{args.repeat} run(s); ratio = PyTorch seconds / actsearch seconds\n")

    log("loading Fashion-MNIST for PyTorch")
    data = load_fmnist(torch, args.data_dir)

    for task in tasks:
        print(f"## {task}\n")
        print("| candidate | actsearch s | PyTorch s | ratio | actsearch val_acc | PyTorch val_acc |")
        print("|---|---:|---:|---:|---:|---:|")
        ratios = []
        for expr, fn in candidates:
            log(f"{task}: {expr}")
            # Best of --repeat runs on both sides: the same work each time, so the minimum is the
            # least disturbed by whatever else the machine runs.
            runs = [actsearch_eval(args.bin, expr, task, data_dir=args.data_dir)["seeds"][0] for _ in range(args.repeat)]
            ours = min(runs, key=lambda r: r["seconds"])
            torch_runs = [torch_eval(torch, data, task, fn, seed=1) for _ in range(args.repeat)]
            status, acc, seconds = min(torch_runs, key=lambda r: r[2])
            ratio = seconds / ours["seconds"] if ours["seconds"] > 0 else float("nan")
            ratios.append(ratio)
            ours_acc = f"{ours['val_acc']:.4f}" if ours["status"] == "ok" else ours["status"]
            torch_acc = f"{acc:.4f}" if status == "ok" else status
            print(f"| `{expr}` | {ours['seconds']:.2f} | {seconds:.2f} | {ratio:.2f}x | {ours_acc} | {torch_acc} |",
                  flush=True)
        print(f"\nMedian speed ratio on {task}: **{statistics.median(ratios):.2f}x**\n")

    if "fmnist-mlp" in tasks:
        print("## fmnist-mlp training step\n")
        log("step rate")
        per_step = step_seconds(args.bin, args.data_dir, repeats=1 if args.quick else 3)
        counted, performed = flops_per_step()
        eigen = sgemm_gflops_eigen()
        print("| quantity | value |")
        print("|---|---:|")
        print(f"| actsearch seconds per step (relu, batch 128; 1200-step minus 400-step run / 800) | {per_step * 1e3:.3f} ms |")
        print(f"| GFLOP/s, brief's count (3x forward = {counted / 1e6:.1f} MFLOP/step) | {counted / per_step / 1e9:.1f} |")
        print(f"| GFLOP/s, FLOPs performed ({performed / 1e6:.1f} MFLOP/step: no input gradient for layer 1) | "
              f"{performed / per_step / 1e9:.1f} |")
        print(f"| single-core SGEMM, Eigen 512x512x512 (C++ compiled by this script, -O3 -march=native) | {eigen:.1f} |")
        print(f"| single-core SGEMM, torch.mm 512x512x512, 1 thread ({torch_blas_library()}) | {mm:.1f} |")
        best = max(eigen, mm)
        print(f"| step rate / best SGEMM rate (brief's count; performed) | {counted / per_step / 1e9 / best:.0%}; "
              f"{performed / per_step / 1e9 / best:.0%} |\n")

        print("## Accuracy agreement on fmnist-mlp (3 seeds)\n")
        print("| candidate | actsearch mean val_acc | PyTorch mean val_acc | difference (points) |")
        print("|---|---:|---:|---:|")
        for expr, fn in CANDIDATES[:2]:
            log(f"accuracy: {expr}")
            ours = actsearch_eval(args.bin, expr, "fmnist-mlp", seeds=3, data_dir=args.data_dir)
            ours_mean = statistics.mean(s["val_acc"] for s in ours["seeds"])
            theirs = statistics.mean(torch_eval(torch, data, "fmnist-mlp", fn, seed)[1] for seed in (1, 2, 3))
            print(f"| `{expr}` | {ours_mean:.4f} | {theirs:.4f} | {100 * (ours_mean - theirs):+.2f} |", flush=True)
        print()

        log("peak RSS")
        print(f"Peak RSS of `actsearch eval 'relu(x)' --task fmnist-mlp --seeds 1 --threads 1` "
              f"(/usr/bin/time -v, maximum resident set size): **{peak_rss_mib(args.bin, args.data_dir):.0f} MiB**")


if __name__ == "__main__":
    main()
