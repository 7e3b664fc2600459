"""Live sensors: what the machine sees while an agent runs, as typed events (docs/sensors.md).

- `proc_connector`: the Linux process-events connector (root): every exec with argv, exe, cwd, user.
- `poll`: the fallback without root: psutil polling (misses processes shorter than the interval).
- `netconns`: connections per process from /proc/net, tracked over their lifetime.
- `gpu`: NVML per-process and per-device samples, accounting for processes that exited between polls.
- `heartbeat`: the watcher watched: gaps, kills and unclean stops become findings.
- `run`: `Sensor`, which merges them into one bounded event stream.
"""
from .run import Sensor

__all__ = ["Sensor"]
