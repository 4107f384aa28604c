"""Signature test vectors from twilio-protocol.md §7, and the wrapper's edge cases."""

from multidict import MultiDict

from kanavat.signing import is_valid, is_valid_json, sign, sign_json

TOKEN = "test-auth-token"
SMS_PARAMS = {
    "AccountSid": "AC" + "0" * 32,
    "Body": "Kyllä",
    "From": "+358401234567",
    "MessageSid": "SM" + "1" * 32,
    "NumMedia": "0",
    "To": "+358451234567",
}
SMS_URL = "http://127.0.0.1:8000/twilio/sms?campaign=c1"


def test_form_vector() -> None:
    assert sign(TOKEN, SMS_URL, SMS_PARAMS) == "PYSmSPP6rgE7miYXG54oiujdF4M="
    assert is_valid(TOKEN, SMS_URL, list(SMS_PARAMS.items()), "PYSmSPP6rgE7miYXG54oiujdF4M=")


def test_websocket_vector() -> None:
    assert sign(TOKEN, "wss://127.0.0.1:8000/media") == "sDU6xThMt7lmYXVr8vKdxwpjyzg="
    assert is_valid(TOKEN, "wss://127.0.0.1:8000/media", None, "sDU6xThMt7lmYXVr8vKdxwpjyzg=")


def test_json_vector() -> None:
    url, signature = sign_json(TOKEN, "http://127.0.0.1:8000/hook", '{"event":"x"}')
    assert url.endswith(
        "bodySHA256=ebc2c4ea03938ee05e18c1a712d9fa02de923d6f2db34b68fe1f8dcf651e479d"
    )
    assert signature == "wv9Q55+0NJKwTpn6qcYPuahbSX8="
    assert is_valid_json(TOKEN, url, '{"event":"x"}', signature)
    assert not is_valid_json(TOKEN, url, '{"event":"y"}', signature)


def test_rejects_tampering_and_missing() -> None:
    good = sign(TOKEN, SMS_URL, SMS_PARAMS)
    assert not is_valid(TOKEN, SMS_URL, {**SMS_PARAMS, "Body": "Ei"}, good)
    assert not is_valid("other-token", SMS_URL, SMS_PARAMS, good)
    assert not is_valid(TOKEN, SMS_URL, SMS_PARAMS, None)


def test_repeated_keys_all_count() -> None:
    pairs = [("StatusCallbackEvent", "initiated"), ("StatusCallbackEvent", "ringing")]
    one = sign(TOKEN, SMS_URL, pairs[:1])
    both = sign(TOKEN, SMS_URL, pairs)
    assert one != both
    assert both == sign(TOKEN, SMS_URL, MultiDict(reversed(pairs)))
    assert is_valid(TOKEN, SMS_URL, pairs, both)
