"""Fixtures of the BLE tests: an in-process Bumble LocalLink reachable as ``local:<name>``."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Iterator

import pytest
from bumble.link import LocalLink

from treadctl.ble import bumble_host
from treadctl.ble.bumble_host import register_local_link

_names = itertools.count()


@pytest.fixture
def link() -> LocalLink:
    return LocalLink()  # type: ignore[no-untyped-call]


@pytest.fixture
def spec(link: LocalLink) -> Iterator[str]:
    with register_local_link(f"test{next(_names)}", link) as name:
        yield name


@pytest.fixture(autouse=True)
async def _no_host_left_open() -> AsyncIterator[None]:
    yield
    # Every scanner/client must have released its Bumble host by the end of a test.
    assert bumble_host.registry().open_specs() == []
