"""The text drawn in a PDF made by fpdf2 (its content streams, inflated), for assertions."""

from __future__ import annotations

import re
import zlib

_STREAM = re.compile(rb"stream\r?\n(.*?)\r?\nendstream", re.DOTALL)
_TEXT = re.compile(rb"\((.*?)(?<!\\)\)\s*Tj")


def pdf_text(pdf: bytes) -> str:
    parts = []
    for raw in _STREAM.findall(pdf):
        try:
            data = zlib.decompress(raw)
        except zlib.error:
            data = raw
        parts += [
            m.replace(rb"\(", b"(").replace(rb"\)", b")").decode("cp1252", "replace")
            for m in _TEXT.findall(data)
        ]
    return " ".join(parts)
