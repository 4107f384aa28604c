"""Twilio webhook signatures (``X-Twilio-Signature``), both ways.

The server checks what Twilio (or the emulator) sends; the emulator signs what it sends.
One module for both keeps them byte-identical: a thin wrapper over the official
``RequestValidator`` so the algorithm is Twilio's own (twilio-protocol.md §7), never ours.
It knows nothing of aiohttp requests or of where the token comes from.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from functools import lru_cache
from urllib.parse import parse_qsl, urlencode, urlparse, urlsplit, urlunsplit

from multidict import MultiDict
from twilio.request_validator import RequestValidator, add_port, remove_port

SIGNATURE_HEADER = "X-Twilio-Signature"

Params = Mapping[str, str] | Iterable[tuple[str, str]] | None


def _multidict(params: Params) -> MultiDict[str]:
    """Repeated keys must survive: the validator signs every distinct value of a name."""
    if params is None:
        return MultiDict()
    if isinstance(params, MultiDict) or hasattr(params, "getall"):
        return MultiDict(params)  # type: ignore[arg-type]
    if isinstance(params, Mapping):
        return MultiDict(params.items())
    return MultiDict(list(params))


def sign(token: str, url: str, params: Params = None) -> str:
    """Signature of a form POST (or a GET / websocket upgrade when ``params`` is empty)."""
    return RequestValidator(token).compute_signature(url, _multidict(params))


def is_valid(token: str, url: str, params: Params, signature: str | None) -> bool:
    """True when ``signature`` matches ``url`` + ``params``, with or without the port.

    ``RequestValidator.validate``'s rule for a form, with its own pieces, stopping at the
    first match: it computes both forms of the URL every time, and the one the URL is
    written in is the one Twilio signed (a form: its signature is the whole check). The
    comparison is ``hmac.compare_digest`` (in C) where the library's ``compare`` loops over
    the characters in Python: both take the same time whatever matches."""
    if not signature or not signature.isascii():  # a signature is base64: ASCII or forged
        return False
    validator, form = RequestValidator(token), _multidict(params)
    given = signature.encode("ascii")
    return any(
        hmac.compare_digest(validator.compute_signature(candidate, form).encode("ascii"), given)
        for candidate in _url_forms(url)
    )


@lru_cache(maxsize=256)
def _url_forms(url: str) -> tuple[str, str]:
    """The URL with and without its port, the form it is written in first (a server is
    called on a few URLs, so each is worked out once)."""
    parsed = urlparse(url)
    forms = (add_port(parsed), remove_port(parsed))
    return forms if parsed.port else (forms[1], forms[0])


def body_sha256(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def sign_json(token: str, url: str, body: str) -> tuple[str, str]:
    """Sign a JSON body the Twilio way: ``bodySHA256`` joins the query, the URL alone is signed.

    Returns ``(url_with_hash, signature)``; post the body to ``url_with_hash``.
    """
    parts = urlsplit(url)
    query = [*parse_qsl(parts.query, keep_blank_values=True), ("bodySHA256", body_sha256(body))]
    signed_url = urlunsplit(parts._replace(query=urlencode(query)))
    return signed_url, sign(token, signed_url)


def is_valid_json(token: str, url: str, body: str, signature: str | None) -> bool:
    """Check a JSON request: the URL signature and the body hash in its ``bodySHA256``."""
    if not signature or "bodySHA256" not in dict(parse_qsl(urlsplit(url).query)):
        return False
    return bool(RequestValidator(token).validate(url, body, signature))
