"""The NVML path, against a local fake of the `pynvml` functions the GPU sensor calls.

This machine has no NVIDIA GPU or driver, so the real NVML path cannot run here: `FakeNvml` is a
faithful stand-in for nvidia-ml-py 13.615.71's `pynvml` — same function names and arguments, same
result shapes (attribute names of c_nvmlUtilization_t, c_nvmlMemory_t, the process-info structs,
c_nvmlProcessUtilizationSample_t and c_nvmlAccountingStats_t; `usedGpuMemory`/`maxMemoryUsage`
None when not available; NVMLError raised with NVML_ERROR_NOT_FOUND when no utilisation sample is
newer than the timestamp asked for) — injected through `GpuSampler(nvml=...)`.
"""
import io
from types import SimpleNamespace as NS

from vigiles.sensors.gpu import GpuSampler

MIB = 1024 * 1024


class NVMLError(Exception):
    def __init__(self, value):
        self.value = value


class FakeNvml:
    NVML_FEATURE_ENABLED = 1
    NVML_FEATURE_DISABLED = 0
    NVML_ERROR_NOT_FOUND = 6
    NVML_ERROR_LIBRARY_NOT_FOUND = 12
    NVMLError = NVMLError

    def __init__(self, accounting=True, fail_init=None):
        self.fail_init = fail_init
        self.accounting = accounting
        self.calls = []
        self.running = [NS(pid=4242, usedGpuMemory=2048 * MIB, gpuInstanceId=0xFFFFFFFF, computeInstanceId=0xFFFFFFFF)]
        self.samples = [NS(pid=4242, timeStamp=1_000_000, smUtil=97, memUtil=40, encUtil=0, decUtil=0)]
        self.acct = {4242: NS(gpuUtilization=97, memoryUtilization=40, maxMemoryUsage=2048 * MIB, time=5000,
                              startTime=1_700_000_000_000_000, isRunning=1, reserved=[0] * 5),
                     777: NS(gpuUtilization=100, memoryUtilization=10, maxMemoryUsage=None, time=1500,
                             startTime=1_700_000_001_000_000, isRunning=0, reserved=[0] * 5)}

    def nvmlInit(self):
        if self.fail_init is not None:
            raise NVMLError(self.fail_init)

    def nvmlShutdown(self):
        self.calls.append("shutdown")

    def nvmlDeviceGetCount(self):
        return 1

    def nvmlDeviceGetHandleByIndex(self, index):
        return f"handle-{index}"

    def nvmlDeviceGetAccountingMode(self, handle):
        return self.NVML_FEATURE_ENABLED if self.accounting else self.NVML_FEATURE_DISABLED

    def nvmlDeviceGetUtilizationRates(self, handle):
        return NS(gpu=93, memory=41)

    def nvmlDeviceGetMemoryInfo(self, handle, version=None):
        return NS(total=81559 * MIB, free=79000 * MIB, used=2559 * MIB)

    def nvmlDeviceGetPowerUsage(self, handle):
        return 312_456  # milliwatts

    def nvmlDeviceGetComputeRunningProcesses(self, handle):
        return list(self.running)

    def nvmlDeviceGetProcessUtilization(self, handle, timeStamp):
        self.calls.append(("util", timeStamp))
        fresh = [s for s in self.samples if s.timeStamp > timeStamp]
        if not fresh:
            raise NVMLError(self.NVML_ERROR_NOT_FOUND)
        return fresh

    def nvmlDeviceGetAccountingPids(self, handle):
        return list(self.acct)

    def nvmlDeviceGetAccountingStats(self, handle, pid):
        return self.acct[pid]


def test_device_process_and_accounting_samples():
    fake = FakeNvml()
    sampler = GpuSampler(nvml=fake, stderr=io.StringIO())
    assert sampler.start()
    events = sampler.poll(now=1000.0)
    device = [e for e in events if e.extra["scope"] == "device"]
    procs = [e for e in events if e.extra["scope"] == "process"]
    acct = [e for e in events if e.extra["scope"] == "accounting"]
    assert len(device) == 1 and device[0].util == 93.0 and device[0].mem_mib == 2559.0 and device[0].pid is None
    assert device[0].extra["power_w"] == 312.5 and device[0].extra["mem_total_mib"] == 81559.0
    assert [(e.pid, e.util, e.mem_mib, e.gpu) for e in procs] == [(4242, 97.0, 2048.0, 0)]
    # 777 ran and exited between polls: only accounting saw it; 4242 is still running, not repeated
    assert [(e.pid, e.util, e.mem_mib) for e in acct] == [(777, 100.0, None)]
    assert acct[0].ts == 1_700_000_001.0 + 1.5 and acct[0].extra["accounting"]["time_s"] == 1.5
    # the next poll asks for samples newer than the last one seen, and does not report 777 again
    again = sampler.poll(now=1001.0)
    assert ("util", 1_000_000) in fake.calls
    assert not [e for e in again if e.extra["scope"] == "accounting"]
    assert [e.util for e in again if e.extra["scope"] == "process"] == [None]  # no newer sample
    sampler.stop()
    assert "shutdown" in fake.calls


def test_accounting_off_is_not_read():
    fake = FakeNvml(accounting=False)
    sampler = GpuSampler(nvml=fake, stderr=io.StringIO())
    sampler.start()
    assert not [e for e in sampler.poll() if e.extra["scope"] == "accounting"]


def test_no_driver_is_one_line_and_off():
    err = io.StringIO()
    sampler = GpuSampler(nvml=FakeNvml(fail_init=FakeNvml.NVML_ERROR_LIBRARY_NOT_FOUND), stderr=err)
    assert sampler.start() is False
    assert sampler.poll() == []
    assert err.getvalue().count("\n") == 1 and "no NVIDIA driver: GPU sensor off" in err.getvalue()


def test_real_module_here_says_off():
    err = io.StringIO()
    sampler = GpuSampler(stderr=err)
    if sampler.start():  # a machine with a GPU: the real path works
        assert sampler.poll()
        sampler.stop()
    else:
        assert "no NVIDIA driver: GPU sensor off" in err.getvalue()
