"""The shipped model's outputs, byte for byte as stored in tests/expected/ (regenerated only
when the model changes on purpose: see tests/expected/regenerate.py)."""

from __future__ import annotations

import pytest

from .expected import regenerate


@pytest.mark.model
@pytest.mark.parametrize("name", sorted(regenerate.ANALYZE))
def test_analyze_example_is_unchanged(name):
    expected = (regenerate.HERE / name).read_text()
    assert regenerate.output(regenerate.ANALYZE[name]) == expected, (
        f"{name} differs; if the model changed on purpose: python tests/expected/regenerate.py")


@pytest.mark.model
def test_valid_figures_are_unchanged(ptc):
    """About a minute and a half: the shipped model on the 88 valid articles."""
    for name, args in regenerate.VALID.items():
        expected = (regenerate.HERE / name).read_text()
        assert regenerate.output(args) == expected, (
            f"{name} differs; if the model changed on purpose: "
            "python tests/expected/regenerate.py valid")
