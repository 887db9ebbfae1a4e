"""``propscope batch --engine dask`` on a LocalCluster: same rows as the local path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pq = pytest.importorskip("pyarrow.parquet")
distributed = pytest.importorskip("distributed")

from propscope.batch import run_batch  # noqa: E402
from propscope.errors import PropscopeError  # noqa: E402


def rows(out: Path, name: str = "articles") -> list[dict]:
    files = sorted((out / name).glob("part-*.parquet"))
    return [r for f in files for r in pq.read_table(f).to_pylist()]


def comparable(out: Path) -> dict[str, tuple]:
    return {r["id"]: (r["spans"], r["words"], r["error"] is None, r["source"])
            for r in rows(out)}


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=":0") as c:
        yield c


@pytest.fixture
def inputs(tmp_path: Path) -> list[str]:
    d = tmp_path / "in" / "wire"
    d.mkdir(parents=True)
    for k in range(10):
        (d / f"a{k}.txt").write_text(f"Story {k} is radical.\nA so-called fact {k}.\n")
    (d / "bad.txt").write_bytes(b"\xff\xfe bad")
    jl = tmp_path / "in" / "feed.jsonl"
    jl.write_text("\n".join(json.dumps({"id": f"j{k}", "text": f"Patriot {k}.",
                                        "source": "J", "date": f"2021-0{1 + k % 3}-01"})
                            for k in range(7)) + "\n")
    return [str(d), str(jl)]


def test_dask_matches_local(cluster, inputs, tmp_path):
    local, dask_out = tmp_path / "local", tmp_path / "dask"
    run_batch(inputs, local, model="keywords", workers=0, part_size=3)
    s = run_batch(inputs, dask_out, model="keywords", engine="dask",
                  scheduler=cluster.scheduler_address, part_size=3)
    assert s["status"] == "complete" and s["articles"] == 18 and s["errors"] == 1
    assert comparable(dask_out) == comparable(local)
    assert len(rows(dask_out, "spans")) == len(rows(local, "spans")) == 27
    manifest = json.loads((dask_out / "run.json").read_text())
    assert manifest["config"]["engine"] == "dask"
    assert manifest["config"]["scheduler"] == cluster.scheduler_address
    # resuming on the cluster skips everything already analysed; the error is retried
    again = run_batch(inputs, dask_out, model="keywords", engine="dask",
                      scheduler=cluster.scheduler_address, part_size=3)
    assert again["articles"] == again["errors"] == again["retried"] == 1
    assert again["parts_skipped"] == s["parts_written"] - 1
    assert comparable(dask_out) == comparable(local)


def test_dask_resume_with_done_ids_after_recut(cluster, inputs, tmp_path):
    out = tmp_path / "out"
    run_batch(inputs[:1], out, model="keywords", workers=0, part_size=4)
    with distributed.Client(cluster) as client:  # a Client object works as well
        s = run_batch(inputs, out, model="keywords", engine="dask", scheduler=client,
                      part_size=5)
    assert s["analysed"] == 7 and s["articles"] == 8  # the JSONL rows were left
    assert s["retried"] == s["errors"] == 1  # and bad.txt failed before: tried again
    ids = [r["id"] for r in rows(out)]
    assert len(ids) == len(set(ids)) == 18


def test_dask_needs_a_scheduler(inputs, tmp_path):
    with pytest.raises(PropscopeError, match="--scheduler"):
        run_batch(inputs, tmp_path / "o", model="keywords", engine="dask")


def test_unreachable_scheduler_leaves_a_folder_that_can_be_reused(inputs, tmp_path):
    import dask

    out = tmp_path / "o"
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}), \
            pytest.raises(PropscopeError, match="cannot reach"):
        run_batch(inputs, out, model="keywords", engine="dask",
                  scheduler="tcp://127.0.0.1:9", part_size=5)
    assert not (out / "run.json").exists()
    s = run_batch(inputs, out, model="keywords", workers=0, part_size=5)
    assert s["status"] == "complete" and s["articles"] == 18


def _model_loads() -> int:
    from propscope.model_io import load_model

    return load_model.cache_info().misses


def test_dask_worker_processes_load_the_model_once(inputs, tmp_path):
    """Real worker processes: parts travel pickled, each worker loads the model once."""
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=True,
                                  dashboard_address=":0", worker_dashboard_address=":0"
                                  ) as c, distributed.Client(c) as client:
        s = run_batch(inputs, tmp_path / "o", model="keywords", engine="dask",
                      scheduler=client, part_size=2)
        loads = client.run(_model_loads)
    assert s["status"] == "complete" and s["articles"] == 18
    assert list(loads.values()) == [1]
    assert len(s["worker_peak_rss_mb"]) == 1
