"""ONNX files of a model package (issue 12): weights split across files of bounded size
(no file over 95 MB) give the same outputs as the graph that held them; INT8 weights with
fp32 products stay close to the fp32 graph."""

from __future__ import annotations

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from propscope.training.export import int8_weights_only, split_onnx_data  # noqa: E402


def _graph(path, rng):
    weights = [rng.standard_normal((64, 64)).astype(np.float32) for _ in range(3)]
    nodes, prev = [], "x"
    for i in range(3):
        nodes.append(helper.make_node("MatMul", [prev, f"w{i}"], [f"h{i}"], name=f"/l{i}/mm"))
        prev = f"h{i}"
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 64])],
        [helper.make_tensor_value_info(prev, TensorProto.FLOAT, [1, 64])],
        [numpy_helper.from_array(w, f"w{i}") for i, w in enumerate(weights)])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))


def _setup(tmp_path, seed):
    """A three-MatMul graph, an input for it and its output before any change."""
    rng = np.random.default_rng(seed)
    path = tmp_path / "encoder.onnx"
    _graph(path, rng)
    x = rng.standard_normal((1, 64)).astype(np.float32)
    return path, x, _output(path, x)


def _output(path, x):
    return ort.InferenceSession(str(path)).run(None, {"x": x})[0]


def test_split_files_are_bounded_and_outputs_identical(tmp_path):
    path, x, before = _setup(tmp_path, 0)
    names = split_onnx_data(path, max_bytes=2 * 64 * 64 * 4)  # two tensors a file
    assert names == ["encoder.onnx.data0", "encoder.onnx.data1"]
    sizes = [(tmp_path / n).stat().st_size for n in names]
    assert sizes == [2 * 64 * 64 * 4, 64 * 64 * 4]
    assert path.stat().st_size < 1024  # the graph no longer holds the weights
    after = _output(path, x)
    np.testing.assert_array_equal(before, after)


def test_a_graph_within_the_bound_stays_whole(tmp_path):
    path, x, before = _setup(tmp_path, 2)
    size = path.stat().st_size
    assert split_onnx_data(path, max_bytes=size) == []
    assert path.stat().st_size == size and sorted(p.name for p in tmp_path.iterdir()) == [
        "encoder.onnx"]
    np.testing.assert_array_equal(before, _output(path, x))


def test_int8_weights_only_keeps_fp32_products_close(tmp_path):
    path, x, before = _setup(tmp_path, 1)
    assert int8_weights_only(path, ("/l1/",)) == 1  # only the middle MatMul
    model = onnx.load(str(path))
    types = {t.name: t.data_type for t in model.graph.initializer}
    assert types["w1_q8"] == TensorProto.INT8 and "w1" not in types
    assert types["w0"] == TensorProto.FLOAT
    after = _output(path, x)
    assert not np.array_equal(before, after)  # the weights did change ...
    assert np.abs(after - before).max() < 0.02 * np.abs(before).max()  # ... by little
