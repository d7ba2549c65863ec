"""The publish lease on its own: renewal keeps it, a lapse loses it (and that is noticed), a service
that ignores conditional writes is detected, and the service's clock decides expiry."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from feedtool.errors import BusyError
from feedtool.publish.lease import LEASE_KEY, Lease
from feedtool.storage import LocalFolderTarget


def test_a_renewed_lease_outlives_its_ttl_and_blocks_others(tmp_path: Path) -> None:
    target = LocalFolderTarget(tmp_path / "site")
    first = Lease(target, ttl_s=0.4, wait_s=0)
    first.acquire()
    first.start_renewing()
    time.sleep(1.2)  # three lifetimes: only renewal keeps it
    with pytest.raises(BusyError, match="another publish holds"):
        Lease(target, ttl_s=0.4, wait_s=0).acquire()
    first.check()
    first.release()
    assert not (tmp_path / "site" / LEASE_KEY).exists()
    second = Lease(target, ttl_s=0.4, wait_s=0)
    second.acquire()
    second.release()


def test_a_lapsed_lease_is_taken_over_and_its_first_holder_stops(tmp_path: Path) -> None:
    target = LocalFolderTarget(tmp_path / "site")
    first = Lease(target, ttl_s=0.3, wait_s=0)
    first.acquire()  # and never renewed: a publish frozen (a laptop lid closed)
    time.sleep(0.6)
    second = Lease(target, ttl_s=60, wait_s=0)
    second.acquire()
    with pytest.raises(BusyError, match="lost its lease"):
        first.check()
    first.release()  # must not remove the new holder's lease
    assert (tmp_path / "site" / LEASE_KEY).exists()
    second.check()
    second.release()


class IgnoresConditions(LocalFolderTarget):
    """A service that accepts If-None-Match / If-Match and ignores them."""

    def put_bytes(self, key, data, headers=None, *, sha256=None, if_match=None, if_none_match=False):
        return super().put_bytes(key, data, headers, sha256=sha256)


def test_a_service_that_ignores_conditions_is_detected(tmp_path: Path) -> None:
    honest = Lease(LocalFolderTarget(tmp_path / "a"), wait_s=0)
    honest.acquire()
    assert honest.conditional
    honest.release()
    careless = Lease(IgnoresConditions(tmp_path / "b"), wait_s=0)
    careless.acquire()
    assert not careless.conditional  # then every renewal reads back before writing
    careless.renew()
    careless.check()
    careless.release()
    assert not (tmp_path / "b" / LEASE_KEY).exists()


def test_a_holder_that_waits_gets_the_lease_when_it_is_released(tmp_path: Path) -> None:
    import threading

    target = LocalFolderTarget(tmp_path / "site")
    first = Lease(target, wait_s=0)
    first.acquire()
    threading.Timer(0.5, first.release).start()
    second = Lease(target, wait_s=20)
    second.acquire()  # waits for the release, well within its 20 s
    second.release()


class RefusesConditions(LocalFolderTarget):
    """A service that answers 501 NotImplemented to If-None-Match / If-Match."""

    def put_bytes(self, key, data, headers=None, *, sha256=None, if_match=None, if_none_match=False):
        from feedtool.storage import ConditionsUnsupported

        if if_match is not None or if_none_match:
            raise ConditionsUnsupported("not implemented")
        return super().put_bytes(key, data, headers, sha256=sha256)


def test_a_service_that_refuses_conditions_gets_a_read_back_lease(tmp_path: Path) -> None:
    target = RefusesConditions(tmp_path / "site")
    lease = Lease(target, wait_s=0)
    lease.acquire()
    assert not lease.conditional
    with pytest.raises(BusyError):
        Lease(RefusesConditions(tmp_path / "site"), wait_s=0).acquire()
    lease.renew()
    lease.check()
    lease.release()
    assert not (tmp_path / "site" / LEASE_KEY).exists()
