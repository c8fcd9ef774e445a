#!/usr/bin/env bash
# Install cg3d_mm and its pinned OpenMMLab stack into a virtual environment.
#
#   tools/install.sh [--wheelhouse DIR] [--venv DIR] [--python PY] [--force]
#
# Environment: CG3D_VENV (default: <repo>/.venv), CG3D_WHEELHOUSE (a folder
# holding a prebuilt mmcv-2.1.0 wheel), CG3D_CACHE (default ~/.cache/cg3d_mm,
# where a source-built mmcv wheel is kept for the next run).
#
# Idempotent: the hash of the requirement files and of this script is stored
# in the venv; a second run with nothing changed only re-links cg3d_mm
# (editable) and re-runs the import checks.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${CG3D_VENV:-$REPO/.venv}"
WHEELHOUSE="${CG3D_WHEELHOUSE:-}"
CACHE="${CG3D_CACHE:-$HOME/.cache/cg3d_mm}"
PY="${PYTHON:-python3}"
FORCE=0
MMCV_VERSION=2.1.0

while [ $# -gt 0 ]; do
  case "$1" in
    --wheelhouse) WHEELHOUSE="$2"; shift 2 ;;
    --venv) VENV="$2"; shift 2 ;;
    --python) PY="$2"; shift 2 ;;
    --force) FORCE=1; shift ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

log() { printf '[cg3d install] %s\n' "$*"; }
die() { printf '[cg3d install] ERROR: %s\n' "$*" >&2; exit 1; }

if [ -n "$WHEELHOUSE" ]; then
  if [ -d "$WHEELHOUSE" ]; then
    WHEELHOUSE="$(cd "$WHEELHOUSE" && pwd)"
  else
    log "WARNING: wheelhouse '$WHEELHOUSE' is not a directory; ignoring it"
    WHEELHOUSE=""
  fi
fi

# --- 1. the virtual environment (created once, reused afterwards) ----------
if [ ! -x "$VENV/bin/python" ]; then
  log "creating virtual environment $VENV"
  "$PY" -m venv "$VENV"
else
  log "reusing virtual environment $VENV"
fi
VPY="$VENV/bin/python"
PIP=("$VPY" -m pip --disable-pip-version-check)

STAMP="$VENV/.cg3d_requirements.sha256"
want_hash="$(cat "$REPO"/requirements/*.txt "$REPO/tools/install.sh" | sha256sum | cut -d' ' -f1)"
have_hash="$(cat "$STAMP" 2>/dev/null || true)"

# --- 2. the pinned stack (skipped when the requirement hash is unchanged) --
install_mmcv() {
  if "$VPY" -c "import mmcv, mmcv._ext, sys; sys.exit(mmcv.__version__ != '$MMCV_VERSION')" 2>/dev/null; then
    log "mmcv $MMCV_VERSION with compiled ops already installed"
    return
  fi
  local wheel=""
  for dir in "$WHEELHOUSE" "$CACHE/wheels"; do
    [ -n "$dir" ] || continue
    wheel="$(ls "$dir"/mmcv-"$MMCV_VERSION"-*.whl 2>/dev/null | head -n 1 || true)"
    [ -n "$wheel" ] && break
  done
  if [ -n "$wheel" ]; then
    local sums; sums="$(dirname "$wheel")/SHA256SUMS"
    if [ -f "$sums" ]; then
      (cd "$(dirname "$wheel")" && grep " $(basename "$wheel")\$" SHA256SUMS | sha256sum -c --quiet -) \
        || die "checksum mismatch for $wheel (see $sums)"
    fi
    log "installing mmcv from wheel $wheel"
    "${PIP[@]}" install --no-deps --force-reinstall "$wheel"
  else
    build_mmcv
  fi
}

build_mmcv() {
  # PyPI only has the sdist. Fixes measured in ../shared/docs/stack.md:
  # no build isolation (must see torch), C++20 for torch>=2.6 headers,
  # -g0 -O1 to keep a CPU build near an hour on 2 cores.
  local work; work="$(mktemp -d)"
  trap 'rm -rf "$work"' RETURN
  log "no mmcv wheel found: building mmcv $MMCV_VERSION from source (CPU: about 70 min on 2 cores)"
  # (its metadata step runs setup.py, which needs torch: no isolation)
  "${PIP[@]}" download --no-deps --no-binary :all: --no-build-isolation \
    "mmcv==$MMCV_VERSION" -d "$work"
  tar -xzf "$work"/mmcv-"$MMCV_VERSION".tar.gz -C "$work"
  local src="$work/mmcv-$MMCV_VERSION"
  sed -i 's/-std=c++1[47]/-std=c++20/g' "$src/setup.py"
  export MMCV_WITH_OPS=1 MAX_JOBS="${MAX_JOBS:-$(nproc)}"
  if command -v nvcc >/dev/null 2>&1 && command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
    log "nvcc and a GPU found: building with CUDA ops (FORCE_CUDA=1)"
    export FORCE_CUDA=1
  else
    export CFLAGS="${CFLAGS:-} -g0 -O1" CXXFLAGS="${CXXFLAGS:-} -g0 -O1"
  fi
  mkdir -p "$CACHE/wheels"
  (cd "$src" && "${PIP[@]}" wheel --no-build-isolation --no-deps -w "$CACHE/wheels" .)
  local built; built="$(ls "$CACHE"/wheels/mmcv-"$MMCV_VERSION"-*.whl | head -n 1)"
  (cd "$CACHE/wheels" && sha256sum "$(basename "$built")" >> SHA256SUMS)
  log "built $built (kept for the next install)"
  "${PIP[@]}" install --no-deps --force-reinstall "$built"
}

if [ "$FORCE" = 1 ] || [ "$want_hash" != "$have_hash" ]; then
  log "installing the pinned stack (requirements hash ${want_hash:0:12})"
  "${PIP[@]}" install --upgrade "pip<26.2"
  "${PIP[@]}" install -r "$REPO/requirements/torch.txt"
  "${PIP[@]}" install -r "$REPO/requirements/runtime.txt" -c "$REPO/requirements/torch.txt"
  install_mmcv
  "${PIP[@]}" install --no-deps -r "$REPO/requirements/nodeps.txt"
  "${PIP[@]}" install -r "$REPO/requirements/tests.txt" -c "$REPO/requirements/torch.txt"
else
  log "requirements unchanged (hash ${want_hash:0:12}): skipping the stack"
fi

# --- 3. cg3d_mm itself (editable; re-linked so a fresh clone is the one used)
"${PIP[@]}" install --no-deps --no-build-isolation -q -e "$REPO"

# --- 4. checks ---------------------------------------------------------------
"$VPY" - <<'PY'
import importlib, sys
import mmcv._ext  # noqa: F401  compiled ops
import mmdet3d.models  # noqa: F401
import cg3d_mm
import torch, mmcv, mmengine, mmdet, mmdet3d, open_clip, numpy
print('[cg3d install] checks passed: import mmcv._ext, mmdet3d.models, cg3d_mm')
for name, mod in [('torch', torch), ('mmengine', mmengine), ('mmcv', mmcv),
                  ('mmdet', mmdet), ('mmdet3d', mmdet3d),
                  ('open_clip', open_clip), ('numpy', numpy),
                  ('cg3d_mm', cg3d_mm)]:
    print(f'[cg3d install]   {name:10s} {mod.__version__}')
print(f'[cg3d install]   cg3d_mm from {cg3d_mm.__file__}')
PY
echo "$want_hash" > "$STAMP"
log "done. Activate with: source $VENV/bin/activate"
