"""A local stand-in for AWS Service Quotas' ListServiceQuotas, for --quota-from-account tests.

moto (5.2) implements only ListAWSDefaultServiceQuotas and GetServiceQuota for Service Quotas,
so this speaks the real protocol itself: AWS JSON 1.1 over POST /, the operation named by the
`X-Amz-Target: ServiceQuotasV20190624.ListServiceQuotas` header, `{"ServiceCode", "NextToken",
"MaxResults"}` in, `{"Quotas": [...], "NextToken"}` out, an error as `{"__type", "message"}`
with HTTP 400. It pages its answer (two quotas a page) so that the client's paginator is
exercised, and keeps each request it was sent. Point an SDK at it with
AWS_ENDPOINT_URL_SERVICE_QUOTAS=<url>.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

TARGET = "ServiceQuotasV20190624.ListServiceQuotas"
PAGE = 2


def bedrock_quota(code: str, name: str, value: float) -> dict[str, Any]:
    """One entry as Service Quotas returns it."""
    return {
        "ServiceCode": "bedrock",
        "ServiceName": "Amazon Bedrock",
        "QuotaArn": f"arn:aws:servicequotas:us-east-1:123456789012:bedrock/{code}",
        "QuotaCode": code,
        "QuotaName": name,
        "Value": value,
        "Unit": "None",
        "Adjustable": True,
        "GlobalQuota": False,
    }


class ServiceQuotasDouble:
    def __init__(self, quotas: list[dict[str, Any]]) -> None:
        self.quotas = quotas
        self.requests: list[tuple[str, dict[str, Any]]] = []  # (X-Amz-Target, body)
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def _handle(self, request: web.Request) -> web.Response:
        target = request.headers.get("X-Amz-Target", "")
        body = json.loads(await request.read() or b"{}")
        self.requests.append((target, body))
        content_type = "application/x-amz-json-1.1"
        if target != TARGET or body.get("ServiceCode") != "bedrock":
            error = {"__type": "NoSuchResourceException", "message": "not served here"}
            return web.Response(status=400, text=json.dumps(error), content_type=content_type)
        start = int(body.get("NextToken") or 0)
        page: dict[str, Any] = {"Quotas": self.quotas[start : start + PAGE]}
        if start + PAGE < len(self.quotas):
            page["NextToken"] = str(start + PAGE)
        return web.Response(text=json.dumps(page), content_type=content_type)

    async def __aenter__(self) -> ServiceQuotasDouble:
        app = web.Application()
        app.router.add_post("/", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
