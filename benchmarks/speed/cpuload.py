"""How busy other processes kept the CPUs while something was timed (Linux).

On a shared machine a timing is only worth as much as the quiet it ran in:
``Meter`` reports, for the interval it measured, the CPU time of this process
and the cores' worth of CPU that other processes used. ``quiet_time`` repeats
a measurement until it ran with the machine otherwise idle.
"""

import os
import resource
import time
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK")


def _busy_s():
    # CPU-seconds all CPUs have been busy since boot; None where /proc/stat is missing.
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return None
    user, nice, system, _idle, _iowait, irq, softirq = map(int, fields[:7])
    return (user + nice + system + irq + softirq) / _TICK


def _own_cpu_s():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Meter:
    """Context manager: ``wall_s``, ``cpu_s`` (this process) and ``others`` (cores).

    ``others`` is the average number of cores other processes kept busy
    (nan where it cannot be known).
    """

    def __enter__(self):
        self._busy, self._cpu, self._wall = _busy_s(), _own_cpu_s(), time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.wall_s = time.perf_counter() - self._wall
        self.cpu_s = _own_cpu_s() - self._cpu
        busy = _busy_s()
        if busy is None or self._busy is None:
            self.others = float("nan")
        else:
            self.others = max(0.0, (busy - self._busy - self.cpu_s) / self.wall_s)
        return False


def quiet_time(fn, max_others=0.1, attempts=30, pause_s=1.0):
    """Run ``fn`` until other processes used < ``max_others`` cores meanwhile.

    Returns the ``Meter`` of the quietest run (the last one if none was quiet
    within ``attempts``).
    """
    best = None
    for _ in range(attempts):
        with Meter() as meter:
            fn()
        if best is None or meter.others < best.others:
            best = meter
        if not meter.others >= max_others:  # also stops when unknown (nan)
            return meter
        time.sleep(pause_s)
    return best
