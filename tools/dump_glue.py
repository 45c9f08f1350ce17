"""Execute every chapter as a notebook and dump its glued values (name -> text) as JSON.

A refactor must not change any result (DESIGN.md): run this before and after and diff the two
files. ``python tools/dump_glue.py OUT.json [chapter ...]``; SGDLAB_SCALE is passed through
(the book builds at the default "book" scale).
"""

import json
import sys
from pathlib import Path

import jupytext
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parents[1]


def glued_values(chapter):
    notebook = jupytext.read(chapter)
    NotebookClient(notebook, timeout=1200, kernel_name="python3",
                   resources={"metadata": {"path": str(chapter.parent)}}).execute()
    values = {}
    for cell in notebook.cells:
        for out in cell.get("outputs", []):
            meta = out.get("metadata", {}).get("scrapbook")
            if meta:
                # display=False stores "application/papermill.record/<mime>"
                data = {k.rpartition("record/")[2]: v for k, v in out.get("data", {}).items()}
                values[meta["name"]] = data.get("text/plain", data.get("text/markdown",
                                                                       sorted(data)))
    return values


def main(out, chapters):
    paths = [Path(c) for c in chapters] or sorted((REPO / "book").glob("*.md"))
    dump = {}
    for path in paths:
        print(f"executing {path.name} ...", flush=True)
        dump[path.stem] = glued_values(path.resolve())
    Path(out).write_text(json.dumps(dump, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
