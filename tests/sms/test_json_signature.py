"""A JSON webhook is checked as Twilio's validator checks it: the raw body must hash to the
``bodySHA256`` in the signed URL. Before, the middleware read such a body as an empty form and
let any body through under a URL signed for another.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from harness import Server, running_server

from kanavat import signing

PATH = "/twilio/sms/status"
BODY = '{"MessageSid": "SM' + "0" * 32 + '", "MessageStatus": "delivered"}'


@pytest.fixture
async def srv(tmp_path: Path) -> AsyncIterator[Server]:
    async with running_server(tmp_path) as server:
        yield server


async def post_json(srv: Server, url: str, body: str, signature: str | None) -> int:
    assert srv._http is not None
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers[signing.SIGNATURE_HEADER] = signature
    async with srv._http.post(url, data=body.encode(), headers=headers) as resp:
        return resp.status


async def test_json_body_must_match_its_signed_hash(srv: Server) -> None:
    signed_url, signature = signing.sign_json(srv.auth_token, srv.base_url + PATH, BODY)
    # The signed body passes the check (the status route then answers as it does to any body).
    assert await post_json(srv, signed_url, BODY, signature) != 403
    # Another body under the same signed URL, no signature, a wrong one: all refused.
    tampered = BODY.replace("delivered", "failed")
    assert await post_json(srv, signed_url, tampered, signature) == 403
    assert await post_json(srv, signed_url, BODY, None) == 403
    assert await post_json(srv, signed_url, BODY, signature[:-2] + "xx") == 403


async def test_undecodable_json_body_is_a_clear_400(srv: Server) -> None:
    signed_url, signature = signing.sign_json(srv.auth_token, srv.base_url + PATH, BODY)
    assert srv._http is not None
    headers = {"Content-Type": "application/json", signing.SIGNATURE_HEADER: signature}
    async with srv._http.post(signed_url, data=b"\xff\xfe{", headers=headers) as resp:
        assert resp.status == 400
        assert "UTF-8" in await resp.text()
