#!/bin/bash
# The GPU checks, run on a machine with an NVIDIA GPU (the `device` tool's H100/H200 in development):
# the real NVML path (tests/sensors/test_gpu_nvml.py), the sensor tests on that machine's kernel, and
# the sensor overhead benchmark and the scan throughput benchmark there. Wheels for what the image lacks travel in .whl/ (docs/sensors.md).
set -u
OUT=${OUT:-/tmp/vigiles-gpu-out}; mkdir -p "$OUT"
if ls .whl/*.whl >/dev/null 2>&1; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
  export PYTHONPATH=/tmp/site:$PWD
fi
export PYTHONUNBUFFERED=1
if [ ! -d ../shared/corpora ] && [ -d .shared/corpora ]; then export VIGILES_SHARED=$PWD/.shared; fi
nvidia-smi --query-gpu=name,driver_version,accounting.mode,compute_mode --format=csv | tee "$OUT/nvidia-smi.txt"
uname -r | tee -a "$OUT/nvidia-smi.txt"; nproc | tee -a "$OUT/nvidia-smi.txt"
VIGILES_GPU_RECORD="$OUT" timeout 200 python3 -m pytest -p no:cacheprovider -o addopts= -q -rs \
  tests/sensors/test_gpu_nvml.py 2>&1 | tee "$OUT/pytest-gpu.log"
timeout 120 python3 -m pytest -p no:cacheprovider -o addopts= -q -rs tests/sensors 2>&1 | tail -15 | tee "$OUT/pytest-sensors.log"
timeout 60 python3 bench/bench_sensor_overhead.py --window 8 --out "$OUT/sensor_overhead.json" 2>&1 | tail -15
timeout 120 python3 bench/bench_scan.py --repeat 3 2>&1 | tail -2
cp bench/results/scan.json "$OUT/scan.json" 2>/dev/null  # kept as bench/results/scan_<machine>.json (bench/report.py)
