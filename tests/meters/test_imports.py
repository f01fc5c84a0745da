"""Every module of core.meters can be the first one imported: no import cycle between the
settings (config.py), the sources and `build_source` (build.py), and no import hidden in a
function to dodge one."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import sys
from pathlib import Path

import custom_components.eflux.core.meters as meters

PACKAGE = meters.__name__
MODULES = sorted(info.name for info in pkgutil.iter_modules(meters.__path__))


def _forget_meters() -> None:
    for name in [n for n in sys.modules if n == PACKAGE or n.startswith(PACKAGE + ".")]:
        del sys.modules[name]


def test_each_module_imports_first_without_a_cycle() -> None:
    saved = {n: m for n, m in sys.modules.items() if n.startswith(PACKAGE)}
    assert "build" in MODULES
    assert "config" in MODULES
    try:
        for name in MODULES:
            _forget_meters()
            importlib.import_module(f"{PACKAGE}.{name}")  # a cycle raises ImportError here
    finally:
        _forget_meters()
        sys.modules.update(saved)


def test_meter_settings_import_at_module_level_only() -> None:
    source = Path(meters.__file__).with_name("config.py").read_text()
    nested = [
        node.lineno
        for func in ast.walk(ast.parse(source))
        if isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef)
        for node in ast.walk(func)
        if isinstance(node, ast.Import | ast.ImportFrom)
    ]
    assert nested == []
