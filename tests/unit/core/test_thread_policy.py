"""ThreadPolicy: every core while the user waits on an idle machine on mains power."""

from __future__ import annotations

import pytest

from greenpair.core.llm.threads import BUSY_CORES, CpuSample, ThreadPolicy


class FakeMachine:
    """CPU times that advance by a chosen load of other processes and of this one."""

    def __init__(self, other: float = 0.0, own: float = 0.0, mains: bool = True) -> None:
        self.other, self.own, self.mains = other, own, mains
        self.wall = self.busy = self.own_s = 0.0
        self.sleeps: list[float] = []

    def advance(self, seconds: float) -> None:
        self.wall += seconds
        self.busy += (self.other + self.own) * seconds
        self.own_s += self.own * seconds

    def sample(self) -> CpuSample:
        return CpuSample(self.wall, self.busy, self.own_s)

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.advance(seconds)

    def policy(self, physical: int = 4, **kw: object) -> ThreadPolicy:
        return ThreadPolicy(physical, sample=self.sample, mains=lambda: self.mains,
                            sleep=self.sleep, **kw)  # type: ignore[arg-type]


def test_idle_machine_gets_every_physical_core() -> None:
    m = FakeMachine(other=0.05)
    choice = m.policy(physical=4).choose()
    assert (choice.threads, choice.reason) == (4, "idle")
    assert m.sleeps == [pytest.approx(0.1)]  # the first look measures a short window


def test_own_work_does_not_count_as_other_work() -> None:
    m = FakeMachine(other=0.1, own=3.9)  # our own generation keeps the cores busy
    assert m.policy(physical=4).choose().threads == 4


def test_backs_off_when_other_work_is_busy() -> None:
    m = FakeMachine(other=BUSY_CORES + 0.3, own=1.0)
    choice = m.policy(physical=4).choose()
    assert (choice.threads, choice.reason) == (3, "busy")


def test_backs_off_on_battery_without_measuring() -> None:
    m = FakeMachine(mains=False)
    choice = m.policy(physical=2).choose()
    assert (choice.threads, choice.reason) == (1, "battery")
    assert m.sleeps == []


def test_later_looks_use_the_time_since_the_last_one() -> None:
    m = FakeMachine()
    policy = m.policy(physical=2)
    assert policy.choose().threads == 2
    m.other = 1.0  # another process starts
    m.advance(2.0)
    assert policy.choose().reason == "busy"
    assert len(m.sleeps) == 1  # no new wait: the last look was 2 s ago
    m.other = 0.0
    m.advance(2.0)
    assert policy.choose().threads == 2


def test_setting_eco_and_one_core_are_fixed() -> None:
    m = FakeMachine(other=3.0)
    assert m.policy(physical=8, fixed=5).choose().threads == 5
    eco = m.policy(physical=8, eco=True)
    assert (eco.choose().threads, eco.adaptive) == (3, False)
    assert m.policy(physical=1).choose().threads == 1
    assert m.sleeps == []


def test_no_load_figures_leave_a_core_free() -> None:
    def broken() -> CpuSample:
        raise OSError("no /proc")

    policy = ThreadPolicy(4, sample=broken, mains=lambda: True, sleep=lambda s: None)
    assert policy.choose().threads == 3


def test_real_machine_sample_is_sane() -> None:
    from greenpair.core.llm.threads import read_sample

    a = read_sample()
    b = read_sample()
    assert b.wall >= a.wall
    assert b.machine_busy >= a.machine_busy
    assert b.own >= a.own > 0
