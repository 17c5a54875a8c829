"""Shared coach fixtures.  Other test packages can reuse the fake with
``from tests.coach.conftest import fake_anthropic  # noqa: F401`` in their conftest."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from tests.coach.fake_anthropic import FakeAnthropic


@pytest_asyncio.fixture
async def fake_anthropic() -> AsyncIterator[FakeAnthropic]:
    """A started loopback fake of the Anthropic Messages API (``.base_url``, ``.api_key``, ``.requests``)."""
    async with FakeAnthropic() as fake:
        yield fake
