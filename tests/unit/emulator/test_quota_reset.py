"""`POST /_emulator/reset-quotas`: every quota bucket full again, as at start, so that a
sweep's stage starts from a fresh quota window. Over a real socket, with the emulator's clock
stopped, so that nothing refills but the reset."""

from __future__ import annotations

from typing import Any

import aiohttp

from loadgen.emulator import EmulatorConfig
from loadgen.emulator.server import BedrockEmulator
from tests.helpers import serving

BODY = {
    "messages": [{"role": "user", "content": [{"text": "x" * 400}]}],  # 100 input tokens
    "inferenceConfig": {"maxTokens": 100},
}
MODEL = "us.limited"  # a cross-Region id: its pool is cross_region


async def _converse(session: aiohttp.ClientSession, url: str) -> int:
    async with session.post(f"{url}/model/{MODEL}/converse", json=BODY) as response:
        await response.read()
        return response.status


async def test_a_reset_fills_every_bucket_and_zeroes_its_counts() -> None:
    config = EmulatorConfig.model_validate(
        {
            "profiles": {
                "limited": {
                    "ttft_ms": 1,
                    "itl_ms": 0,
                    "output_tokens": 2,
                    # Two requests' reservations (100 input + 100 max_tokens) and no refill.
                    "quota": {"tpm": 400, "rpm": 5},
                }
            }
        }
    )
    emulator = BedrockEmulator(config, clock=lambda: 0.0)
    async with serving(emulator.app()) as url, aiohttp.ClientSession() as session:
        # Each reserves 200 and gives back the 98 of max_tokens it did not use: 400, then
        # 298, then 196 left: too few for another reservation.
        before = [await _converse(session, url) for _ in range(4)]
        async with session.post(f"{url}/_emulator/reset-quotas") as response:
            assert response.status == 200
            answer: dict[str, Any] = await response.json()
        after = [await _converse(session, url) for _ in range(2)]
        async with session.get(f"{url}/_emulator/stats") as response:
            stats = await response.json()
    assert answer == {"reset": "quotas", "pools": ["cross_region:limited"]}
    assert after == [200, 200]
    quota = stats["quota_pools"]["cross_region:limited"]
    assert quota["admitted"] == 2 and quota["throttled"] == {"rpm": 0, "tpm": 0, "tpd": 0}
    assert before == [200, 200, 429, 429]  # nothing refills without the reset
