"""The emulation keeps Discord's interaction windows: 3 s to acknowledge (recorded), then 15 minutes in which
the token works for edits and followups; after that Discord answers 401 Invalid Webhook Token (50027)."""

from __future__ import annotations

import asyncio

from tests.e2e import World


async def test_a_token_past_its_15_minutes_is_refused_and_recorded(started_bot: World) -> None:
    w = started_bot
    assert w.fake.token_lifetime == 15 * 60
    w.fake.token_lifetime = 0.0  # every followup or edit now comes "too late"
    res = await w.fake.invoke(w.guild, w.mod, "practice export", {"format": "csv"}, wait=False)
    await res.wait_for_response()
    assert res.deferred
    for _ in range(100):
        if any("token used" in v for v in w.fake.violations):
            break
        await asyncio.sleep(0.05)
    assert any("token used" in v and "Discord allows 0s" in v for v in w.fake.violations), w.fake.violations
    assert not res.files  # the late followup carrying the export was refused
    refused = [r for r in w.fake.requests if r.path.startswith("/webhooks/") and r.status == 401]
    assert refused
