#!/usr/bin/env python3
"""Training-step throughput of the byte-level GPT in PyTorch, to compare with `fadam bench --train`.

The model is the one in models/gpt: vocabulary 256, token and position embeddings, pre-LN blocks
(causal self-attention with a fused qkv projection, a GELU MLP of width 4d with GPT-2's tanh
approximation, residual connections), a final LayerNorm and an untied output projection without
bias; the step is forward, backward and AdamW (lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight
decay 0.01), on one random batch. tokens/s uses the median step, as the Go benchmark does, and
each model prints the same tokens/s line as `fadam bench --train`.

This is a benchmark aid, not a test. It needs PyTorch; on Debian,
`apt-get install python3-torch libopenblas0-pthread` (without OpenBLAS, Debian's torch falls
back to the reference BLAS and is an order of magnitude slower). The script prints which BLAS
library the process loaded.

With --fadam PATH it also runs `PATH bench --train` on each model, alternating with PyTorch
model by model so both see the same machine load, and prints a Markdown table of the two. With
--rounds N it measures every model N times, alternating which program goes first, and the table
gives the medians and the median (and range) of the per-round ratios: on a shared machine one
round's ratio moves with the load of the moment. On Linux each measurement also reports the share
of the CPUs' time the hypervisor stole meanwhile (from /proc/stat, in ‰); rounds where either
program saw more than --max-steal are left out of the medians (all are kept if none is below).
The table gives both programs' share of the machine's peak (FLOPs per token and peak from
`fadam bench --train`).

    python3 scripts/bench_torch_gpt.py --threads 2
    go build -o /tmp/fadam ./cmd/fadam && python3 scripts/bench_torch_gpt.py --fadam /tmp/fadam
    python3 scripts/bench_torch_gpt.py --fadam /tmp/fadam --rounds 5 --sizes 128x4x128x32,512x8x256x8
"""

import argparse
import math
import re
import statistics
import subprocess
import sys
import time

DEFAULT_SIZES = "64x2x64x16,128x4x128x32,256x6x256x16,512x8x256x8"
VOCAB = 256


def parse_sizes(text):
    sizes = []
    for item in text.split(","):
        parts = re.split(r"[x×]", item.strip())
        if len(parts) != 4:
            raise SystemExit(f"--sizes: {item!r} is not d×layers×ctx×batch")
        sizes.append(tuple(int(p) for p in parts))
    return sizes


def build_model(torch, d, layers, heads, ctx):
    nn = torch.nn
    F = torch.nn.functional

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln1 = nn.LayerNorm(d)
            self.qkv = nn.Linear(d, 3 * d)
            self.proj = nn.Linear(d, d)
            self.ln2 = nn.LayerNorm(d)
            self.fc = nn.Linear(d, 4 * d)
            self.fc_out = nn.Linear(4 * d, d)
            mask = torch.tril(torch.ones(ctx, ctx, dtype=torch.bool))
            self.register_buffer("mask", mask.view(1, 1, ctx, ctx))

        def forward(self, x):
            b, t, c = x.shape
            hs = c // heads
            q, k, v = self.qkv(self.ln1(x)).split(c, dim=2)
            q = q.view(b, t, heads, hs).transpose(1, 2)
            k = k.view(b, t, heads, hs).transpose(1, 2)
            v = v.view(b, t, heads, hs).transpose(1, 2)
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(hs))
            att = att.masked_fill(~self.mask[:, :, :t, :t], float("-inf"))
            att = F.softmax(att, dim=-1)
            y = (att @ v).transpose(1, 2).contiguous().view(b, t, c)
            x = x + self.proj(y)
            return x + self.fc_out(F.gelu(self.fc(self.ln2(x)), approximate="tanh"))

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.wte = nn.Embedding(VOCAB, d)
            self.wpe = nn.Embedding(ctx, d)
            self.blocks = nn.ModuleList([Block() for _ in range(layers)])
            self.lnf = nn.LayerNorm(d)
            self.head = nn.Linear(d, VOCAB, bias=False)
            self.register_buffer("pos", torch.arange(ctx))

        def forward(self, idx, targets):
            x = self.wte(idx) + self.wpe(self.pos[: idx.shape[1]])
            for blk in self.blocks:
                x = blk(x)
            logits = self.head(self.lnf(x))
            return F.cross_entropy(logits.view(-1, VOCAB), targets.view(-1))

    return GPT()


def time_torch(torch, d, layers, heads, ctx, batch, steps, warmup):
    torch.manual_seed(1)
    model = build_model(torch, d, layers, heads, ctx)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)
    idx = torch.randint(0, VOCAB, (batch, ctx))
    tgt = torch.randint(0, VOCAB, (batch, ctx))
    times = []
    for i in range(warmup + steps):
        start = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = model(idx, tgt)
        loss.backward()
        opt.step()
        if i >= warmup:
            times.append(time.perf_counter() - start)
    step = statistics.median(times)
    return batch * ctx / step, step, min(times)


def blas_libraries():
    """The BLAS/LAPACK shared objects mapped into this process."""
    libs = set()
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                path = line.split()[-1]
                if re.search(r"blas|lapack|mkl", path):
                    libs.add(path)
    except OSError:
        pass
    return sorted(libs)


def cpu_steal():
    """Returns (steal, total) jiffies of all CPUs from /proc/stat, or None where there is none."""
    try:
        with open("/proc/stat") as f:
            fields = f.readline().split()
    except OSError:
        return None
    if len(fields) < 9 or fields[0] != "cpu":
        return None
    ticks = [int(x) for x in fields[1:9]]  # user nice system idle iowait irq softirq steal
    return ticks[7], sum(ticks)


def steal_permille(before, after):
    """The stolen share of the CPUs' time between two cpu_steal readings, in ‰ (None if unknown)."""
    if before is None or after is None or after[1] <= before[1]:
        return None
    return 1000 * (after[0] - before[0]) / (after[1] - before[1])


def run_fadam(binary, size, heads, steps, warmup):
    d, layers, ctx, batch = size
    cmd = [binary, "bench", "--train", f"--sizes={d}x{layers}x{ctx}x{batch}", f"--heads={heads}",
           f"--steps={steps}", f"--warmup={warmup}"]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    tokens = float(re.search(r"^fadam-go .* tokens/s (\S+)", out, re.M).group(1))
    share = re.search(r"share of peak (\S+)", out)
    mflop = re.search(r"([\d.]+) MFLOP/token", out)
    peak = re.search(r"^peak ([\d.]+) GFLOP/s", out, re.M)
    flops = float(mflop.group(1)) * 1e6 if mflop else None
    return tokens, (share.group(1) if share else "n/a"), flops, (float(peak.group(1)) * 1e9 if peak else None), out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default=DEFAULT_SIZES, help="comma-separated d×layers×ctx×batch")
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--steps", type=int, default=10, help="timed steps per model (median reported)")
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2, help="torch.set_num_threads")
    ap.add_argument("--fadam", metavar="PATH", help="fadam binary to run on each model in turn with PyTorch")
    ap.add_argument("--rounds", type=int, default=1,
                    help="with --fadam: measure every model this many times, alternating which program goes first, "
                         "and report the median of each and of the per-round ratios")
    ap.add_argument("--max-steal", type=float, default=30, metavar="PERMILLE",
                    help="with --fadam: leave rounds where the hypervisor stole more than this share (‰) of the CPUs' "
                         "time from either program out of the medians")
    args = ap.parse_args()
    if args.rounds < 1:
        raise SystemExit(f"--rounds={args.rounds}: must be at least 1")

    import torch

    torch.set_num_threads(args.threads)
    torch.ones(64, 64) @ torch.ones(64, 64)  # load the BLAS before reporting it
    print(f"PyTorch {torch.__version__}, {torch.get_num_threads()} threads, BLAS: {', '.join(blas_libraries()) or 'none mapped'}")
    sizes = parse_sizes(args.sizes)
    for d, _, _, _ in sizes:
        if d % args.heads:
            raise SystemExit(f"d={d} is not a multiple of --heads={args.heads}")
    rounds = args.rounds if args.fadam else 1
    results = {size: [] for size in sizes}  # per round: a dict of both programs' measurements

    def fmt_steal(st):
        return "" if st is None else f"  (steal {st:.0f}‰)"

    def measure_torch(size):
        d, layers, ctx, batch = size
        before = cpu_steal()
        tokens, step, best = time_torch(torch, d, layers, args.heads, ctx, batch, args.steps, args.warmup)
        st = steal_permille(before, cpu_steal())
        print(f"pytorch   d={d} layers={layers} heads={args.heads} ctx={ctx} batch={batch}  tokens/s {tokens:.0f}  step {step * 1e3:.2f} ms (fastest {best * 1e3:.2f}){fmt_steal(st)}", flush=True)
        return tokens, st

    def measure_fadam(size):
        before = cpu_steal()
        go_tokens, share, flops, peak, out = run_fadam(args.fadam, size, args.heads, args.steps, args.warmup)
        st = steal_permille(before, cpu_steal())
        sys.stdout.write("".join(l + "\n" for l in out.splitlines() if not l.startswith(("training step", "share of peak ="))))
        if st is not None:
            print(f"          steal {st:.0f}‰")
        sys.stdout.flush()
        return go_tokens, share, flops, peak, st

    for r in range(rounds):
        if rounds > 1:
            print(f"round {r + 1} of {rounds}", flush=True)
        for size in sizes:
            if not args.fadam:
                measure_torch(size)
                continue
            if r % 2 == 0:  # alternate which program runs first, so neither always follows the other
                torch_tokens, torch_steal = measure_torch(size)
                go_tokens, share, flops, peak, go_steal = measure_fadam(size)
            else:
                go_tokens, share, flops, peak, go_steal = measure_fadam(size)
                torch_tokens, torch_steal = measure_torch(size)
            steals = [x for x in (go_steal, torch_steal) if x is not None]
            results[size].append(dict(go=go_tokens, torch=torch_tokens, share=share, flops=flops, peak=peak,
                                      steal=max(steals) if steals else None))
    if not args.fadam:
        return
    print("\n| model (d, layers, ctx, batch) | fadam-go tokens/s | PyTorch + OpenBLAS | ratio | share of peak: fadam-go | PyTorch | rounds |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for (d, layers, ctx, batch), runs in results.items():
        quiet = [x for x in runs if x["steal"] is None or x["steal"] <= args.max_steal] or runs
        go = statistics.median(x["go"] for x in quiet)
        pt = statistics.median(x["torch"] for x in quiet)
        ratios = sorted(x["go"] / x["torch"] for x in quiet)
        shares = sorted(float(x["share"].rstrip("%")) for x in quiet if x["share"].endswith("%"))
        pt_shares = sorted(100 * x["torch"] * x["flops"] / x["peak"] for x in quiet if x["flops"] and x["peak"])
        if len(quiet) == 1:
            ratio = f"{ratios[0]:.2f}×"
        else:
            ratio = f"{statistics.median(ratios):.2f}× ({ratios[0]:.2f}–{ratios[-1]:.2f})"
        share = f"{statistics.median(shares):.1f}%" if shares else "n/a"
        pt_share = f"{statistics.median(pt_shares):.1f}%" if pt_shares else "n/a"
        used = f"{len(quiet)} of {len(runs)}"
        print(f"| {d}, {layers}, {ctx}, {batch} | {go:,.0f} | {pt:,.0f} | {ratio} | {share} | {pt_share} | {used} |")
    if rounds > 1:
        print(f"\nmedians over the rounds counted (steal at most {args.max_steal:.0f}‰, or all rounds if none was); "
              "the ratio is the median of the per-round ratios (range in brackets)")


if __name__ == "__main__":
    main()
