"""``/reports/{campaign}`` is for officials only: token as Bearer or as a Basic password."""

from __future__ import annotations

import base64

from aiohttp import web

from kanavat.report.routes import authorised, routes

from . import fixture

TOKEN = "officials-secret-token"


def _app(world, env):
    app = web.Application()
    app.add_routes(routes(world.config, env=env))
    return app


async def test_no_login_is_401_with_a_challenge(world, aiohttp_client):
    client = await aiohttp_client(_app(world, {"KANAVAT_OFFICIALS_TOKEN": TOKEN}))
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic !!!"}):
        response = await client.get(f"/reports/{fixture.SAMPLED}", headers=headers)
        assert response.status == 401
        challenges = response.headers.getall("WWW-Authenticate")
        assert any(c.startswith("Basic") for c in challenges)


async def test_bearer_and_basic_logins(world, aiohttp_client):
    client = await aiohttp_client(_app(world, {"KANAVAT_OFFICIALS_TOKEN": TOKEN}))
    response = await client.get(
        f"/reports/{fixture.SAMPLED}", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert response.status == 200
    assert response.content_type == "text/html"
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    assert "<svg" in await response.text()
    basic = base64.b64encode(f"virkailija:{TOKEN}".encode()).decode()
    response = await client.get(
        f"/reports/{fixture.SAMPLED}?format=json&lang=sv",
        headers={"Authorization": f"Basic {basic}"},
    )
    assert response.status == 200
    assert (await response.json())["language"] == "sv"
    missing = await client.get("/reports/nope", headers={"Authorization": f"Bearer {TOKEN}"})
    assert missing.status == 404


async def test_without_a_configured_token_nobody_gets_in(world, aiohttp_client):
    client = await aiohttp_client(_app(world, {}))
    response = await client.get(f"/reports/{fixture.SAMPLED}", headers={"Authorization": "Bearer "})
    assert response.status == 401


def test_authorised():
    assert authorised(f"Bearer {TOKEN}", TOKEN)
    assert not authorised(f"Bearer {TOKEN}x", TOKEN)
    assert not authorised("Bearer ", None)
    assert not authorised(f"Token {TOKEN}", TOKEN)
