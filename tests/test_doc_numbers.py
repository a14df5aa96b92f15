"""Every number the docs quote is what the model gives for the seed and settings they name."""

from __future__ import annotations

import importlib.util

from tests.conftest import ROOT


def load_doc_numbers():
    spec = importlib.util.spec_from_file_location("doc_numbers", ROOT / "docs" / "doc_numbers.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_quoted_number_is_a_known_key_and_what_the_model_gives() -> None:
    numbers = load_doc_numbers()
    docs = numbers.docs_with_numbers()
    assert any(p.name == "demo.md" for p in docs)
    quoted = [(p.name, k, v) for p in docs for k, v in numbers.quoted(p)]
    assert len(quoted) >= 20
    unknown = [k for _, k, _ in quoted if k not in numbers.NUMBERS]
    assert not unknown, f"quoted numbers without a computation: {unknown}"
    stale = [(name, k, v, numbers.NUMBERS[k]()) for name, k, v in quoted if numbers.NUMBERS[k]() != v]
    assert not stale, f"stale numbers (doc, key, quoted, model): {stale}"
