"""CSV cells a spreadsheet will not run: OWASP's rule against CSV (formula) injection.

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read by
Excel, LibreOffice and Google Sheets as a formula (``=HYPERLINK(...)``, ``-2+3+cmd|calc!A0``).
Every CSV govsim writes passes its text cells through :func:`neutralise`, which prefixes
such a cell with ``'`` so it is shown as text. Numbers are left as numbers: a negative
number is a value, not text that starts with ``-``.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""The first characters that make a spreadsheet read a cell as a formula (OWASP, CSV injection)."""


def neutralise(cell: Any) -> Any:
    """``cell`` prefixed with ``'`` if it is text a spreadsheet would read as a formula; else unchanged."""
    if isinstance(cell, str) and cell.startswith(FORMULA_START):
        return "'" + cell
    return cell


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells and column names are :func:`neutralise` d."""
    out = frame.copy()
    for column in out.columns:
        kind = out[column].dtype
        if not (pd.api.types.is_numeric_dtype(kind) or pd.api.types.is_datetime64_any_dtype(kind)):
            out[column] = out[column].astype(object).map(neutralise)  # text, mixed and categorical columns
    out.columns = [neutralise(c) for c in out.columns]
    return out


def csv_bytes(frame: pd.DataFrame) -> bytes:
    r"""``frame`` as CSV (no index), its text cells neutralised (:func:`neutralise_frame`).

    Lines end in CRLF (RFC 4180), so a cell holding a carriage return is quoted too: with pandas'
    default ``\n`` only a cell holding ``\n`` would be, and a lone ``\r`` would split the row.
    """
    return neutralise_frame(frame).to_csv(index=False, lineterminator="\r\n").encode()
