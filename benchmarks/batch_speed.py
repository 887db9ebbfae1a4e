"""Throughput of ``propscope batch``: local pool with 1 and 2 workers, and Dask against local.

The PTC training articles (371) are repeated under new ids up to ``--articles`` (default
1,000) in one JSONL file; each configuration runs into a fresh output folder and is timed
from start to summary (worker start-up and model loading included). Prints JSON and a
Markdown table for BENCHMARKS.md:

- articles/s per configuration, scaling ratio (2 workers / 1 worker),
- Dask overhead ratio (Dask wall time / local wall time, same number of worker processes),
- peak resident memory per worker process (ru_maxrss inside each worker).

    python benchmarks/batch_speed.py [--model PATH] [--articles 1000] [--part-size 32]
    python benchmarks/batch_speed.py --model keywords --articles 1000   # script check only
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import tempfile
import time
from pathlib import Path

from propscope.batch import run_batch


def make_input(data: Path, n: int, folder: Path) -> Path:
    src = sorted((data / "train-articles").glob("article*.txt"))
    if not src:
        raise SystemExit(f"no articles in {data / 'train-articles'}")
    texts = [(p.stem.removeprefix("article"), p.read_text(encoding="utf-8")) for p in src]
    out = folder / "articles.jsonl"
    with out.open("w", encoding="utf-8") as f:
        for k in range(n):
            aid, text = texts[k % len(texts)]
            rep = k // len(texts)
            f.write(json.dumps({"id": f"{aid}-r{rep}", "text": text,
                                "source": f"outlet{k % 4}",
                                "date": f"2019-{1 + k % 12:02d}-01"}) + "\n")
    return out


def one_run(name: str, inp: Path, out: Path, **kw) -> dict:
    if out.exists():
        shutil.rmtree(out)
    t0 = time.perf_counter()
    s = run_batch([str(inp)], out, **kw)
    wall = time.perf_counter() - t0
    assert s["status"] == "complete", s
    peaks = list(s["worker_peak_rss_mb"].values())
    return {"config": name, "articles": s["articles"], "errors": s["errors"],
            "spans": s["spans"], "wall_s": round(wall, 2),
            "articles_per_s": round(s["articles"] / wall, 2),
            "worker_processes": len(peaks),
            "peak_rss_mb_per_worker": sorted(round(p) for p in peaks)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=None, help="model folder, or keywords (default: shipped)")
    ap.add_argument("--data", default=os.environ.get("PROPSCOPE_DATA", "../shared/ptc"))
    ap.add_argument("--articles", type=int, default=1000)
    ap.add_argument("--part-size", type=int, default=32)
    ap.add_argument("--workers", default="1,2", help="local worker counts to time")
    ap.add_argument("--no-dask", action="store_true")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="propscope-batch-bench-"))
    try:
        inp = make_input(Path(args.data), args.articles, tmp)
        common = {"model": args.model, "part_size": args.part_size}
        runs = []
        counts = [int(w) for w in args.workers.split(",")]
        for w in counts:
            runs.append(one_run(f"local, {w} worker{'s' if w > 1 else ''}", inp,
                                tmp / f"local{w}", workers=w, **common))
        if not args.no_dask:
            import distributed

            n = max(counts)
            # one thread per worker process and an even share of cores for ONNX Runtime
            os.environ["PROPSCOPE_THREADS"] = str(max(1, (os.cpu_count() or 1) // n))
            with distributed.LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                          dashboard_address=":0") as cluster:
                runs.append(one_run(f"dask LocalCluster, {n} worker processes", inp,
                                    tmp / "dask", engine="dask",
                                    scheduler=cluster.scheduler_address, **common))
        by = {r["config"]: r for r in runs}
        report = {
            "model": args.model or "shipped default",
            "cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
            "articles": args.articles, "part_size": args.part_size, "runs": runs,
        }
        if 1 in counts and 2 in counts:
            report["scaling_2_over_1"] = round(
                by["local, 2 workers"]["articles_per_s"] / by["local, 1 worker"]["articles_per_s"],
                2)
        if not args.no_dask:
            n = max(counts)
            local = by[f"local, {n} worker{'s' if n > 1 else ''}"]
            report["dask_overhead_ratio"] = round(runs[-1]["wall_s"] / local["wall_s"], 2)
        report["client_peak_rss_mb"] = round(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
        print(json.dumps(report, indent=2))
        print("\n| configuration | articles/s | wall s | peak RSS per worker (MB) |")
        print("|---|---:|---:|---|")
        for r in runs:
            peaks = ", ".join(str(p) for p in r["peak_rss_mb_per_worker"])
            print(f"| {r['config']} | {r['articles_per_s']} | {r['wall_s']} | {peaks} |")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
