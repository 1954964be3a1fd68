"""Ablation of the training loop: what each choice of the hot path costs or saves.

    python benchmarks/speed/ablation.py                 # diamonds, 2 epochs x 7 rounds
    python benchmarks/speed/ablation.py --threads 1     # one thread: CPU time is robust
                                                        # to other load on the machine

Every variant trains the diamonds network (26 -> 256 -> 256 -> 1, Adam, batch
256) in one process; the variants run interleaved, each round in a new order,
and the table reports the median (and best) seconds per epoch, wall and CPU,
and the ratio to the reference ``shipped`` -- ``skorchless._engine.loop.train``
itself. Each other variant changes one thing in a copy of the same batch step.
Then ``predict_raw`` throughput for several chunk sizes, and the cost of
``torch.compile``.
"""

import argparse
import contextlib
import random
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cpuload import Meter, quiet_time  # noqa: E402
from data import diamonds  # noqa: E402
from systems import BATCH_SIZE, HIDDEN, LEARNING_RATE, torch_mlp  # noqa: E402

from skorchless._engine.callbacks import EarlyStopping  # noqa: E402
from skorchless._engine.loop import TensorData, predict_raw, train  # noqa: E402
from skorchless._engine.losses import squared_error  # noqa: E402
from skorchless._engine.schedules import LearningRateSchedule  # noqa: E402

# Variant -> changes from the lab loop, which makes the shipped choices but steps
# through autograd (loss.backward()) where the shipped loop back-propagates by hand.
VARIANTS = {
    "shipped": {},  # skorchless._engine.loop.train itself
    "lab loop: autograd backward": {},
    "per-batch .item() (host sync)": {"sync": True},
    "total += loss * n (2 kernels)": {"accumulate": "mul"},
    "permuted copy + slices": {"gather": "copy"},
    "zero_grad(set_to_none=False)": {"set_to_none": False},
    "Adam foreach": {"adam": {"foreach": True}},
    "Adam for-loop": {"adam": {"foreach": False}},
    "Adam fused, 2 groups (alpha>0)": {"groups": 2},
    "F.mse_loss (no per-sample loss)": {"loss": "mse"},
    "flush denormals": {"flush_denormal": True},
    "DataLoader (as skorch)": {"gather": "dataloader"},
}


def per_sample_squared_error(output, y):
    return ((output - y) ** 2).mean(1)  # the regressor's squared_error


def make_optimizer(model, adam=None, groups=1):
    params = model.parameters()
    if groups == 2:
        weights = [p for n, p in model.named_parameters() if n.endswith("weight")]
        biases = [p for n, p in model.named_parameters() if not n.endswith("weight")]
        params = [{"params": weights, "weight_decay": 1e-4 / BATCH_SIZE},
                  {"params": biases, "weight_decay": 0.0}]
    return torch.optim.Adam(params, lr=LEARNING_RATE, **(adam or {"fused": True}))


def lab_epoch(model, optimizer, data, generator, *, sync=False, accumulate="add",
              gather="index_select", set_to_none=True, loss="per_sample", **_):
    X, y, n = data.X, data.y, len(data)
    order = torch.randperm(n, generator=generator)
    if gather == "copy":
        X, y = X.index_select(0, order), y.index_select(0, order)
    if gather == "dataloader":
        loader = torch.utils.data.DataLoader(
            torch.utils.data.TensorDataset(X, y), batch_size=BATCH_SIZE, shuffle=True,
            generator=generator)
        batches = iter(loader)
    total = torch.zeros(())
    for start in range(0, n, BATCH_SIZE):
        if gather == "dataloader":
            xb, yb = next(batches)
        elif gather == "copy":
            xb, yb = X[start:start + BATCH_SIZE], y[start:start + BATCH_SIZE]
        else:
            idx = order[start:start + BATCH_SIZE]
            xb, yb = X.index_select(0, idx), y.index_select(0, idx)
        out = model(xb)
        batch_loss = (F.mse_loss(out, yb) if loss == "mse"
                      else per_sample_squared_error(out, yb).mean())
        optimizer.zero_grad(set_to_none=set_to_none)
        batch_loss.backward()
        optimizer.step()
        if sync:
            total += batch_loss.item() * xb.shape[0]
        elif accumulate == "mul":
            total += batch_loss.detach() * xb.shape[0]
        else:
            total.add_(batch_loss.detach(), alpha=xb.shape[0])
    return total.item() / n


def shipped_epoch(model, optimizer, data, generator, **_):
    result = train(
        model, data, None, loss_fn=squared_error, optimizer=optimizer,
        schedule=LearningRateSchedule(optimizer, "constant", LEARNING_RATE, 0.5),
        batch_size=BATCH_SIZE, max_epochs=1, shuffle=True, generator=generator,
        early_stopping=EarlyStopping(np.inf, 0.0), select_best=False,
    )
    return result.history[-1]["train_loss"]


@contextlib.contextmanager
def flush_denormal(on):
    if not on:
        yield
        return
    torch.set_flush_denormal(True)
    try:
        yield
    finally:
        torch.set_flush_denormal(False)


def run_variants(data, rounds, epochs, only=None, max_others=None, hidden=HIDDEN):
    variants = {k: v for k, v in VARIANTS.items()
                if k == "shipped" or not only or any(o in k for o in only)}
    setups = {}
    for name, change in variants.items():
        torch.manual_seed(0)
        model = torch_mlp(data.X.shape[1], hidden)
        optimizer = make_optimizer(model, change.get("adam"), change.get("groups", 1))
        setups[name] = (model, optimizer, torch.Generator().manual_seed(0))
    wall = {name: [] for name in variants}
    cpu = {name: [] for name in variants}
    others = {name: [] for name in variants}
    rng = random.Random(0)
    for _ in range(rounds):
        names = list(variants)
        rng.shuffle(names)
        for name in names:
            change = variants[name]
            epoch = shipped_epoch if name == "shipped" else lab_epoch
            model, optimizer, generator = setups[name]
            def run_epochs():
                for _ in range(epochs):
                    epoch(model, optimizer, data, generator, **change)

            with flush_denormal(change.get("flush_denormal", False)):
                meter = quiet_time(run_epochs, max_others) if max_others else None
                if meter is None:
                    with Meter() as meter:
                        run_epochs()
            wall[name].append(meter.wall_s / epochs)
            cpu[name].append(meter.cpu_s / epochs)
            others[name].append(meter.others)
    ref_wall, ref_cpu = statistics.median(wall["shipped"]), statistics.median(cpu["shipped"])
    rows = ["| variant | s/epoch (median) | best | x shipped | CPU s/epoch | CPU x shipped "
            "| others (cores) |", "|---|---|---|---|---|---|---|"]
    for name in variants:
        w, c = statistics.median(wall[name]), statistics.median(cpu[name])
        rows.append(f"| {name} | {w:.3f} | {min(wall[name]):.3f} | {w / ref_wall:.2f} | "
                    f"{c:.3f} | {c / ref_cpu:.2f} | {statistics.median(others[name]):.2f} |")
    return "\n".join(rows)


def run_predict_chunks(data, rounds, max_others=None):
    torch.manual_seed(0)
    model = torch_mlp(data.X.shape[1])
    X = data.X.repeat(3, 1)[:131_072]
    chunks = [2048, 4096, 8192, 16384, 65536, 131072]
    rates = {c: [] for c in chunks}
    for _ in range(rounds):
        for c in chunks:
            def run(c=c):
                predict_raw(model, X, chunk_rows=c)

            if max_others:
                meter = quiet_time(run, max_others)
            else:
                with Meter() as meter:
                    run()
            rates[c].append(X.shape[0] / meter.wall_s)
    rows = ["| chunk rows | rows/s (median) | best |", "|---|---|---|"]
    rows += [f"| {c} | {statistics.median(r):,.0f} | {max(r):,.0f} |" for c, r in rates.items()]
    return "\n".join(rows)


def run_compile(data, epochs):
    # torch.compile of the module: time of the first (compiling) epoch and of later ones.
    out = []
    for compiled in (False, True):
        torch.manual_seed(0)
        model = torch_mlp(data.X.shape[1])
        if compiled:
            model = torch.compile(model)
        optimizer = make_optimizer(model)
        generator = torch.Generator().manual_seed(0)
        times = []
        for _ in range(epochs + 1):
            start = time.perf_counter()
            lab_epoch(model, optimizer, data, generator)
            times.append(time.perf_counter() - start)
        out.append(f"| {'torch.compile' if compiled else 'eager'} | {times[0]:.2f} | "
                   f"{statistics.median(times[1:]):.3f} |")
    return "\n".join(["| module | first epoch s | later epochs s/epoch (median) |",
                      "|---|---|---|", *out])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--epochs", type=int, default=2, help="epochs per variant per round")
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--compile", action="store_true", help="also time torch.compile")
    parser.add_argument("--only", nargs="+", help="run the variants whose names contain these")
    parser.add_argument("--no-predict", action="store_true", help="skip the predict chunks")
    parser.add_argument("--hidden", type=int, nargs="+", default=list(HIDDEN),
                        help="hidden layer sizes; tiny ones (8 8) leave only the "
                             "per-batch overhead of each variant")
    parser.add_argument("--quiet", type=float, default=0.0, metavar="CORES",
                        help="repeat each timing until other processes used fewer cores "
                             "than this meanwhile (e.g. 0.1 on a shared machine)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    X, y = diamonds()
    data = TensorData(torch.from_numpy(X).float(), torch.from_numpy(y).float().reshape(-1, 1))
    print(f"diamonds {tuple(data.X.shape)}, hidden {tuple(args.hidden)}, "
          f"torch {torch.__version__}, "
          f"{torch.get_num_threads()} thread(s), {args.rounds} rounds x {args.epochs} epochs\n")
    print(run_variants(data, args.rounds, args.epochs, args.only, args.quiet,
                       tuple(args.hidden)), "\n", flush=True)
    if not args.no_predict:
        print(run_predict_chunks(data, args.rounds, args.quiet), "\n", flush=True)
    if args.compile:
        print(run_compile(data, 3))


if __name__ == "__main__":
    main()
