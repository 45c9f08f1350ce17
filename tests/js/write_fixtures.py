"""Write the live explorers' known answers, computed by sgdlab now, for ``node --test tests/js/``.

Each ``tests/js/fixture_*.py`` module has ``write(folder)``, which writes its own JSON file(s)
into ``folder``; the JavaScript tests read them from ``$SGDLAB_JS_FIXTURES``. Nothing is typed
by hand: every number comes from the package at test time.

Usage: ``python tests/js/write_fixtures.py FOLDER``
"""

import importlib.util
import sys
from pathlib import Path


def main(folder):
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    for path in sorted(Path(__file__).parent.glob("fixture_*.py")):
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        module.write(out)
        print(f"{path.name}: written to {out}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python tests/js/write_fixtures.py FOLDER")
    main(sys.argv[1])
