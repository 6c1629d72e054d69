#!/usr/bin/env python3
"""The README's layer list, checked: every `#include "dir/..."` under src/ must point to its
own layer or one below it, never up. Portable parts beside lib (the decoder, the gdb
protocol core) include only lib and themselves, and any layer above lib may include them.

    scripts/check_layers.py [src-dir]     # exit 1 and one line per upward include

The order is the README's (Repository layout, Layers); keep the two the same."""

import re
import sys
from pathlib import Path

# Bottom first. `export` describes the whole kernel to NASM and gdb.
LAYERS = ["lib", "arch", "kernel", "mm", "acpi", "smp", "debug", "monitor", "boot", "export"]
PORTABLE = {"disasm", "gdbstub"}  # beside lib
# Side parts: beside a layer, they include what it may; only layers above it include them.
# bench: scripts/bench's floor of AP bring-up, beside smp (boot calls it in the floor build).
SIDE = {"bench": "smp"}
ROOT_FILES = {"config.hpp"}  # compile-time settings, below everything

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def layer_of(rel: str):
    """'mm/pt_walk.hpp' -> 'mm'; 'config.hpp' -> None (allowed everywhere)."""
    if rel in ROOT_FILES:
        return None
    return rel.split("/", 1)[0] if "/" in rel else "?"


def rank(layer: str) -> float:
    if layer in SIDE:
        return LAYERS.index(SIDE[layer]) + 0.5
    return LAYERS.index(layer)


def allowed(src: str, dst: str) -> bool:
    if dst is None or src == dst:
        return True
    if src in PORTABLE:
        return dst == "lib"
    known = set(LAYERS) | set(SIDE)
    if dst in PORTABLE:
        return src in known and src != "lib"
    if src not in known or dst not in known:
        return False
    return rank(dst) < rank(src)


def check(src_dir: Path):
    bad = []
    for path in sorted(src_dir.rglob("*")):
        if path.suffix not in (".cpp", ".hpp", ".h"):
            continue
        rel = path.relative_to(src_dir).as_posix()
        src = layer_of(rel)
        if src is None:
            continue
        text = path.read_text(errors="replace")
        for m in INCLUDE.finditer(text):
            inc = m.group(1)
            dst = layer_of(inc)
            if not allowed(src, dst):
                line = text.count("\n", 0, m.start()) + 1
                bad.append(f"{rel}:{line}: {src} includes {inc} ({dst}): "
                           + ("not a layer in the list" if not ({src, dst} <= set(LAYERS) | set(SIDE) | PORTABLE)
                              else "up the layer list"))
    return bad


def main(argv):
    src_dir = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parents[1] / "src"
    bad = check(src_dir)
    for b in bad:
        print(b)
    if bad:
        print(f"{len(bad)} include(s) cross the layer list ({' < '.join(LAYERS)}; "
              f"{', '.join(sorted(PORTABLE))} beside lib)")
        return 1
    print(f"layers: every include under {src_dir} points down ({' < '.join(LAYERS)})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
