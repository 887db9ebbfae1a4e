"""Data flows one way: types <- readers <- encoder/decoding <- core <- faces; torch only
under training/. Every import inside ``src/propscope`` is checked against the layers."""

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "propscope"

#: the lowest layer a module may sit in; a module may import its own layer and those below
LAYERS = {
    # files: writing a file whole or not at all
    0: {"spans", "results", "errors", "techniques", "words", "config", "progress", "sentences",
        "language", "files"},
    # readers (fetch: URLs; labelstudio: tasks and exports); render, metrics: types only;
    # voice, quote_marks, speech_patterns: rules; target_rules / target_candidates: a
    # parse's targets and candidates; target_selector: the learned target selector's weights
    1: {"inputs", "corpus", "ids", "render", "metrics", "fetch", "voice", "labelstudio",
        "target_selector", "target_rules", "target_candidates", "quote_marks",
        "speech_patterns"},
    2: {"alignment", "span_features", "context", "reader", "predictors", "model_io", "manifest",
        "targets"},
    3: {"core", "evaluation"},
    4: {"training"},
    5: {"cli", "web", "batch", "__init__", "__main__", "spacy_component"},
}
LAYER = {name: k for k, names in LAYERS.items() for name in names}


def top(module: Path, root: Path = SRC) -> str:
    rel = module.relative_to(root)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def imported(module: Path, root: Path = SRC) -> set[str]:
    """Top-level propscope modules ``module`` imports (relative or absolute)."""
    tree = ast.parse(module.read_text())
    depth = len(module.relative_to(root).parts) - 1
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                if node.level > depth + 1:
                    continue
                base = list(module.relative_to(root).parts[: depth + 1 - node.level])
                parts = base + (node.module.split(".") if node.module else [])
                if parts:
                    out.add(parts[0])
                else:  # from . import x: modules only (__version__ is package metadata)
                    out.update(a.name for a in node.names
                               if (root / f"{a.name}.py").exists() or (root / a.name).is_dir())
            elif node.module and node.module.startswith("propscope."):
                out.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            out.update(a.name.split(".")[1] for a in node.names
                       if a.name.startswith("propscope."))
    return out


MODULES = sorted(p for p in SRC.rglob("*.py") if "models" not in p.relative_to(SRC).parts)


def back_references(module: Path, root: Path = SRC) -> list[str]:
    own = top(module, root)
    assert own in LAYER, f"{own} is in no layer: add it to LAYERS"
    out = []
    for name in sorted(imported(module, root) - {own}):
        assert name in LAYER, f"{module.name} imports {name}, which is in no layer"
        if LAYER[name] > LAYER[own]:
            out.append(f"{module.relative_to(root)} (layer {LAYER[own]}) imports {name} "
                       f"(layer {LAYER[name]})")
    return out


@pytest.mark.parametrize("module", MODULES, ids=lambda p: str(p.relative_to(SRC)))
def test_imports_go_down_the_layers(module):
    assert back_references(module) == [], "data flows one way"


@pytest.mark.parametrize("module", MODULES, ids=lambda p: str(p.relative_to(SRC)))
def test_torch_only_under_training(module):
    if top(module) == "training":
        return
    tree = ast.parse(module.read_text())
    names = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import)
             for a in n.names}
    names |= {n.module.split(".")[0] for n in ast.walk(tree)
              if isinstance(n, ast.ImportFrom) and n.module and not n.level}
    assert not names & {"torch", "transformers"}, f"{module.name} imports torch"


@pytest.mark.parametrize("where, line", [
    ("render/terminal.py", "from ..core import Result\n"),  # render reading the core
    ("metrics.py", "from .core import analyze\n"),  # scoring calling the core
    ("predictors/neural.py", "from ..training.loop import tune\n"),  # inference -> training
    ("spans.py", "from propscope.model_io import load_model\n"),  # types -> encoder
])
def test_the_check_sees_a_back_reference(tmp_path, where, line):
    fake = tmp_path / where
    fake.parent.mkdir(parents=True, exist_ok=True)
    fake.write_text(line)
    assert back_references(fake, tmp_path)
