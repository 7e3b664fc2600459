#!/bin/bash
# The GPU checks, run on a machine with an NVIDIA GPU (the `device` tool's H100/H200 in development):
# the real NVML path (tests/sensors/test_gpu_nvml.py), the sensor tests on that machine's kernel, and
# the sensor overhead benchmark and the scan throughput benchmark there (VIGILES_BUILD=1: compiled first, as an install is). Wheels for what the image lacks travel in .whl/ (docs/sensors.md).
set -u
OUT=${OUT:-/tmp/vigiles-gpu-out}; mkdir -p "$OUT"
if ls .whl/*.whl >/dev/null 2>&1; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
  export PYTHONPATH=/tmp/site:$PWD
fi
export PYTHONUNBUFFERED=1
if [ ! -d ../shared/corpora ] && [ -d .shared/corpora ]; then export VIGILES_SHARED=$PWD/.shared; fi
if [ "${VIGILES_BUILD:-0}" = 1 ]; then
  # the per-event path compiled for this machine's Python, as `pip install .` does (setup.py)
  start=$(date +%s); python3 setup.py -q build_ext --inplace >"$OUT/build.log" 2>&1
  echo "compiled modules: $(find vigiles -name '*.so' -newer setup.py | wc -l) in $(( $(date +%s) - start )) s" | tee -a "$OUT/build.log"
fi
nvidia-smi --query-gpu=name,driver_version,accounting.mode,compute_mode --format=csv | tee "$OUT/nvidia-smi.txt"
uname -r | tee -a "$OUT/nvidia-smi.txt"; nproc | tee -a "$OUT/nvidia-smi.txt"
VIGILES_GPU_RECORD="$OUT" timeout 200 python3 -m pytest -p no:cacheprovider -o addopts= -q -rs \
  tests/sensors/test_gpu_nvml.py 2>&1 | tee "$OUT/pytest-gpu.log"
timeout 120 python3 -m pytest -p no:cacheprovider -o addopts= -q -rs tests/sensors 2>&1 | tail -15 | tee "$OUT/pytest-sensors.log"
timeout 150 python3 bench/bench_sensor_overhead.py --window 8 --out "$OUT/sensor_overhead.json" 2>&1 | tail -15
timeout 120 python3 bench/bench_scan.py --events 100000 --repeat 3 2>&1 | tail -1
cp bench/results/scan.json "$OUT/scan_100k.json" 2>/dev/null
timeout 120 python3 bench/bench_scan.py --repeat 3 2>&1 | tail -2
cp bench/results/scan.json "$OUT/scan.json" 2>/dev/null  # kept as bench/results/scan_<machine>.json (bench/report.py)
