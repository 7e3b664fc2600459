"""GPU use through NVML (nvidia-ml-py's `pynvml` module), as `gpu` events.

Every poll, per device: one device sample (`pid` None; `util` = GPU utilisation, `mem_mib` = memory
used; extra `mem_util`, `mem_total_mib`, `power_w`), and one sample per compute process
(`nvmlDeviceGetComputeRunningProcesses`: `mem_mib`; `util` = its SM utilisation from
`nvmlDeviceGetProcessUtilization` when the driver has a sample). When accounting mode is on
(`nvidia-smi -am 1`), `nvmlDeviceGetAccountingPids`/`GetAccountingStats` also report processes that
ran and exited between two polls: one event each (extra `accounting`: run time, start, max memory).

No driver or no library: one line on stderr ("no NVIDIA driver: GPU sensor off"), and the sensor
goes on without it. The `nvml` module is injectable (tests use a fake of the functions called here).
"""
from __future__ import annotations

import sys
import time
from typing import Any, Callable

from ..events import Gpu, Location
from .common import HOST, PollingSource, event_id

MIB = 1024 * 1024
SOURCE = Location("live:gpu")
MAX_REPORTED = 65_536


def _load_nvml():
    import pynvml  # nvidia-ml-py
    return pynvml


class GpuSampler:
    """`start()` → bool (is NVML usable); `poll()` → events."""

    def __init__(self, nvml: Any | None = None, stderr=None) -> None:
        self.nvml = nvml
        self.stderr = stderr if stderr is not None else sys.stderr
        self.handles: list[Any] = []
        self.on = False
        self.accounting: dict[int, bool] = {}
        self.last_sample_us: dict[int, int] = {}
        self.reported: dict[tuple[int, int, int], None] = {}
        self.stats = {"polls": 0, "samples": 0, "accounting_exited": 0, "errors": 0}

    def start(self) -> bool:
        try:
            nvml = self.nvml if self.nvml is not None else _load_nvml()
            self.nvml = nvml
            nvml.nvmlInit()
            count = nvml.nvmlDeviceGetCount()
            self.handles = [nvml.nvmlDeviceGetHandleByIndex(i) for i in range(count)]
        except ImportError:
            self.stderr.write("vigiles: no NVIDIA driver: GPU sensor off (nvidia-ml-py is not installed)\n")
            return False
        except Exception as exc:  # pynvml.NVMLError and its subclasses, OSError from the loader
            self.stderr.write(f"vigiles: no NVIDIA driver: GPU sensor off ({exc})\n")
            return False
        for index, handle in enumerate(self.handles):
            try:
                self.accounting[index] = nvml.nvmlDeviceGetAccountingMode(handle) == nvml.NVML_FEATURE_ENABLED
            except Exception:
                self.accounting[index] = False
        self.on = True
        return True

    def stop(self) -> None:
        if self.on:
            try:
                self.nvml.nvmlShutdown()
            except Exception:
                pass
            self.on = False

    def poll(self, now: float | None = None) -> list[Gpu]:
        if not self.on:
            return []
        now = time.time() if now is None else now
        self.stats["polls"] += 1
        out: list[Gpu] = []
        for index, handle in enumerate(self.handles):
            try:
                out.extend(self._device(index, handle, now))
            except Exception as exc:  # one device failing (e.g. GPU lost) must not stop the rest
                self.stats["errors"] += 1
                if self.stats["errors"] <= 3:
                    self.stderr.write(f"vigiles: GPU {index}: {exc}\n")
        self.stats["samples"] += len(out)
        return out

    def _call(self, fn: str, *args, default=None):
        try:
            return getattr(self.nvml, fn)(*args)
        except Exception:
            return default

    def _device(self, index: int, handle: Any, now: float) -> list[Gpu]:
        nvml = self.nvml
        out: list[Gpu] = []
        rates = self._call("nvmlDeviceGetUtilizationRates", handle)
        memory = self._call("nvmlDeviceGetMemoryInfo", handle)
        power_mw = self._call("nvmlDeviceGetPowerUsage", handle)
        device = Gpu(id=event_id("gpu", index, "device", now), ts=now, host=HOST, gpu=index,
                     util=float(rates.gpu) if rates is not None else None,
                     mem_mib=round(memory.used / MIB, 1) if memory is not None else None)
        device.extra = {"sensor": "gpu", "scope": "device",
                        "mem_util": float(rates.memory) if rates is not None else None,
                        "mem_total_mib": round(memory.total / MIB, 1) if memory is not None else None,
                        "power_w": round(power_mw / 1000.0, 1) if power_mw is not None else None}
        out.append(device)
        # per-process SM utilisation since the last sample we saw (microsecond CPU timestamps)
        util_by_pid: dict[int, float] = {}
        samples = self._call("nvmlDeviceGetProcessUtilization", handle, self.last_sample_us.get(index, 0),
                             default=[]) or []
        for sample in samples:
            util_by_pid[int(sample.pid)] = max(util_by_pid.get(int(sample.pid), 0.0), float(sample.smUtil))
            self.last_sample_us[index] = max(self.last_sample_us.get(index, 0), int(sample.timeStamp))
        running: set[int] = set()
        for proc in nvml.nvmlDeviceGetComputeRunningProcesses(handle):
            pid = int(proc.pid)
            running.add(pid)
            used = getattr(proc, "usedGpuMemory", None)
            util = util_by_pid.get(pid)
            event = Gpu(id=event_id("gpu", index, pid, now), ts=now, host=HOST, gpu=index, pid=pid,
                        util=min(util, 100.0) if util is not None else None,
                        mem_mib=round(used / MIB, 1) if used is not None else None)
            event.extra = {"sensor": "gpu", "scope": "process"}
            out.append(event)
        if self.accounting.get(index):
            out.extend(self._accounting(index, handle, running, now))
        for event in out:
            event.source = SOURCE
        return out

    def _accounting(self, index: int, handle: Any, running: set[int], now: float) -> list[Gpu]:
        out: list[Gpu] = []
        for pid in self._call("nvmlDeviceGetAccountingPids", handle, default=[]) or []:
            pid = int(pid)
            if pid in running:
                continue
            stats = self._call("nvmlDeviceGetAccountingStats", handle, pid)
            if stats is None or stats.isRunning:
                continue
            key = (index, pid, int(stats.startTime))
            if key in self.reported:
                continue
            if len(self.reported) >= MAX_REPORTED:
                self.reported.pop(next(iter(self.reported)))
            self.reported[key] = None
            self.stats["accounting_exited"] += 1
            start_s = stats.startTime / 1e6
            end_s = start_s + stats.time / 1000.0
            mem = stats.maxMemoryUsage
            event = Gpu(id=event_id("gpu-acct", index, pid, stats.startTime), ts=end_s if end_s > 0 else now,
                        host=HOST, gpu=index, pid=pid, util=float(min(stats.gpuUtilization, 100)),
                        mem_mib=round(mem / MIB, 1) if mem is not None else None)
            event.extra = {"sensor": "gpu", "scope": "accounting",
                           "accounting": {"start": start_s, "time_s": stats.time / 1000.0,
                                          "mem_util": stats.memoryUtilization, "exited": True}}
            out.append(event)
        return out


class GpuSource(PollingSource):
    name = "gpu"
    thread_name = "vigiles-gpu"

    def __init__(self, emit: Callable, interval: float = 1.0, nvml: Any | None = None, stderr=None) -> None:
        super().__init__(emit, interval)
        self.sampler = GpuSampler(nvml, stderr)
        self.stats = self.sampler.stats

    def poll(self) -> list[Gpu]:
        return self.sampler.poll()

    def start(self) -> None:
        if self.sampler.start():
            self._start_thread()

    def stop(self) -> None:
        if self._stop_thread():
            for event in self.sampler.poll():
                self.emit(event)
        self.sampler.stop()
