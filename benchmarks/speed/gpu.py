"""The speed suite's CUDA part: skorchless against a bare CUDA loop and skorch.

    python benchmarks/speed/gpu.py                   # needs a CUDA device
    python benchmarks/speed/gpu.py --quick

Same network, optimizer, data and fixed epochs as ``run.py`` (see
``systems.py``), every torch system on the GPU, at batch 256 (the suite's) and
4096 (what one would pick on a GPU). One process, interleaved repeats, medians.
Also times a bare loop replayed as a CUDA graph (whole step captured, Adam
``capturable``), skorchless with its own CUDA graphs turned off
(``skorchless-eager``), and scikit-learn's MLP on the
machine's CPU cores at batch 256 for reference. The two references (skorch
and scikit-learn, far slower) run one epoch, in the first repeat only. Every
fit ends with a host synchronisation (the epoch loss is read), so
wall-clock times are complete.

Writes ``gpu.md`` and ``gpu.csv`` into ``--out`` (default: ``results/``).
"""

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import data  # noqa: E402
import systems  # noqa: E402
from worker import _median_time  # noqa: E402


class BareGraphLoop(systems.BareLoop):
    """The bare loop with its whole training step captured once as a CUDA graph.

    Each full batch is gathered into static input buffers and the graph
    replayed; the last, smaller batch of an epoch runs eagerly.
    """

    def fit(self, X, y):
        torch.manual_seed(self.seed)
        device, bs = self.device, self.batch_size
        X = torch.from_numpy(X).to(device, torch.float32)
        y = torch.from_numpy(y).to(device, torch.float32).reshape(-1, 1)
        self.model = model = systems.torch_mlp(X.shape[1]).to(device)
        optimizer = torch.optim.Adam(model.parameters(), lr=systems.LEARNING_RATE,
                                     fused=True, capturable=True)
        static_x, static_y = X[:bs].clone(), y[:bs].clone()

        def step(xb, yb):
            optimizer.zero_grad(set_to_none=True)
            loss = F.mse_loss(model(xb), yb)
            loss.backward()
            optimizer.step()
            return loss.detach()

        # Warm-up steps on a side stream (as capture requires), then put the
        # weights and the optimizer back so that training is the same.
        saved = [p.detach().clone() for p in model.parameters()]
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            for _ in range(3):
                step(static_x, static_y)
        torch.cuda.current_stream().wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        optimizer.zero_grad(set_to_none=True)
        with torch.cuda.graph(graph):
            static_loss = step(static_x, static_y)
        with torch.no_grad():
            for p, s in zip(model.parameters(), saved, strict=True):
                p.copy_(s)
        for state in optimizer.state.values():
            for value in state.values():
                value.zero_()

        generator = torch.Generator(device).manual_seed(self.seed)
        n = X.shape[0]
        self.loss_curve_ = []
        for _ in range(self.epochs):
            order = torch.randperm(n, generator=generator, device=device)
            total = torch.zeros((), device=device)
            full = n - n % bs
            for start in range(0, full, bs):
                idx = order[start:start + bs]
                torch.index_select(X, 0, idx, out=static_x)
                torch.index_select(y, 0, idx, out=static_y)
                graph.replay()
                total.add_(static_loss, alpha=bs)
            if full < n:
                idx = order[full:]
                total.add_(step(X.index_select(0, idx), y.index_select(0, idx)),
                           alpha=n - full)
            self.loss_curve_.append(total.item() / n)
        return self


class EagerSkorchless(systems.SkorchlessSystem):
    """skorchless with its CUDA graphs turned off: what the graphs save."""

    def fit(self, X, y):
        from skorchless._engine import step as _backprop

        _backprop.CUDA_GRAPHS = False
        try:
            return super().fit(X, y)
        finally:
            _backprop.CUDA_GRAPHS = True


SYSTEMS = ("bare", "bare-graph", "skorchless", "skorchless-eager", "skorch", "sklearn")
REFERENCES = ("skorch", "sklearn")


def make(system, epochs, device, batch_size):
    if system == "bare-graph":
        return BareGraphLoop(epochs, 0, device=device, batch_size=batch_size)
    if system == "skorchless-eager":
        return EagerSkorchless(epochs, 0, device=device, batch_size=batch_size)
    if system == "sklearn":
        return systems.make(system, epochs, 0, device="cpu", batch_size=batch_size)
    return systems.make(system, epochs, 0, device=device, batch_size=batch_size)


def measure(system, X, y, epochs, device, batch_size, predict_rows):
    model = make(system, epochs, device, batch_size)
    torch.cuda.reset_peak_memory_stats()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        model.fit(X, y)
        fit_s = time.perf_counter() - start
    if model.epochs_run != epochs:
        raise RuntimeError(f"{system} ran {model.epochs_run} epochs instead of {epochs}.")
    X_pred = X[:predict_rows]
    model.predict(X_pred)  # warm-up
    predict_s = _median_time(lambda: model.predict(X_pred), 3)
    return {"fit_s": fit_s, "epoch_s": fit_s / epochs, "train_rows_per_s": len(X) * epochs / fit_s,
            "predict_rows_per_s": len(X_pred) / predict_s,
            "gpu_peak_mb": torch.cuda.max_memory_allocated() / 2**20}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[256, 4096])
    parser.add_argument("--systems", nargs="+", default=list(SYSTEMS), choices=SYSTEMS)
    parser.add_argument("--out", type=Path, default=HERE / "results")
    args = parser.parse_args(argv)
    if not torch.cuda.is_available():
        sys.exit("No CUDA device: the GPU part of the suite needs one.")
    device = torch.device("cuda")
    plan = {100_000: 5, 1_000_000: 2}
    if args.quick:
        plan, args.repeats = {100_000: 2}, 1
    names = list(args.systems)
    # One-time costs (CUDA context, cuBLAS handles, kernels) before any clock.
    Xw, yw = data.synthetic(2048)
    for system in names:
        for bs in args.batch_sizes:
            if system != "sklearn" or bs == 256:
                measure(system, Xw, yw, 1, device, bs, 2048)
    records = []
    started = time.perf_counter()
    for repeat in range(args.repeats):
        for i, (rows, epochs) in enumerate(plan.items()):
            X, y = data.synthetic(rows)
            for bs in args.batch_sizes:
                shift = (repeat + i) % len(names)
                for system in names[shift:] + names[:shift]:
                    if system in REFERENCES and (repeat > 0 or system == "sklearn" and bs != 256):
                        continue
                    sys_epochs = 1 if system in REFERENCES else epochs
                    result = measure(system, X, y, sys_epochs, device, bs, 1_000_000)
                    records.append({"repeat": repeat, "system": system, "rows": rows,
                                    "batch_size": bs, "epochs": sys_epochs, **result})
                    print(f"{time.perf_counter() - started:6.0f}s  {system:11s} {rows:>9,} "
                          f"bs={bs:<5} {result['epoch_s']:.3f} s/epoch", flush=True)
        args.out.mkdir(parents=True, exist_ok=True)
        pd.DataFrame(records).to_csv(args.out / "gpu.csv", index=False)  # after every repeat
    frame = pd.DataFrame(records)
    report = _report(frame, torch.cuda.get_device_name(), torch.__version__)
    (args.out / "gpu.md").write_text(report)
    print(report)


def _report(frame, device_name, torch_version):
    table = frame.groupby(["rows", "batch_size", "system"]).median(numeric_only=True)
    lines = [f"# Speed suite, CUDA part ({device_name}, torch {torch_version})", "",
             "Medians over repeats. `x bare` = epoch time over the bare CUDA loop's.", "",
             "| rows | batch | system | s/epoch | x bare | train rows/s | predict rows/s "
             "| GPU peak MB |", "|---|---|---|---|---|---|---|---|"]
    for (rows, bs, system), row in table.iterrows():
        bare = table.loc[(rows, bs, "bare"), "epoch_s"] if (rows, bs, "bare") in table.index \
            else np.nan
        lines.append(
            f"| {rows:,} | {bs} | {system} | {row.epoch_s:.3f} | {row.epoch_s / bare:.2f} | "
            f"{row.train_rows_per_s:,.0f} | {row.predict_rows_per_s:,.0f} | "
            f"{row.gpu_peak_mb:,.0f} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
