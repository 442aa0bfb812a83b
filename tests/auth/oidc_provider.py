"""A small OpenID Connect provider for the tests, served on loopback: discovery, JWKS,
authorize (which signs the user in at once) and token endpoints, with a real RSA key.

``mode`` makes it misbehave the ways a login must survive: an ID token signed by another
key under the same key id, or one issued to another client.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlencode

from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

CLIENT_ID = "aispend-test"
CLIENT_SECRET = "provider-client-secret-4b1d"
Mode = Literal["good", "bad_signature", "wrong_audience", "wrong_nonce"]


@dataclass
class _Grant:
    redirect_uri: str
    nonce: str
    challenge: str


@dataclass
class OidcProvider:
    claims: dict[str, Any] = field(
        default_factory=lambda: {
            "sub": "user-42",
            "email": "sso.user@example.com",
            "email_verified": True,
            "name": "Sso User",
            "groups": ["finance-team"],
        }
    )
    mode: Mode = "good"
    issuer: str = ""
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, parameters={"kid": "k1"}))
    impostor: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, parameters={"kid": "k1"}))
    grants: dict[str, _Grant] = field(default_factory=dict)
    token_requests: int = 0

    @property
    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/.well-known/openid-configuration", self.discovery),
                Route("/jwks", self.jwks),
                Route("/authorize", self.authorize),
                Route("/token", self.token, methods=["POST"]),
            ]
        )

    async def discovery(self, _request: Request) -> Response:
        return JSONResponse(
            {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "jwks_uri": f"{self.issuer}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
            }
        )

    async def jwks(self, _request: Request) -> Response:
        return JSONResponse(KeySet([self.key]).as_dict(private=False))

    async def authorize(self, request: Request) -> Response:
        query = request.query_params
        assert query["client_id"] == CLIENT_ID
        assert query["response_type"] == "code"
        assert query["code_challenge_method"] == "S256"
        code = secrets.token_urlsafe(16)
        self.grants[code] = _Grant(query["redirect_uri"], query["nonce"], query["code_challenge"])
        target = f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query['state']})}"
        return RedirectResponse(target, status_code=302)

    async def token(self, request: Request) -> Response:
        self.token_requests += 1
        form = await request.form()
        basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        grant = self.grants.pop(str(form.get("code")), None)
        verifier = str(form.get("code_verifier"))
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if (
            request.headers.get("authorization") != f"Basic {basic}"
            or grant is None
            or form.get("redirect_uri") != grant.redirect_uri
            or challenge != grant.challenge
        ):
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        now = int(time.time())
        claims = {
            **self.claims,
            "iss": self.issuer,
            "aud": "someone-else" if self.mode == "wrong_audience" else CLIENT_ID,
            "iat": now,
            "exp": now + 300,
            "nonce": "not-the-nonce" if self.mode == "wrong_nonce" else grant.nonce,
        }
        key = self.impostor if self.mode == "bad_signature" else self.key
        id_token = jwt.encode({"alg": "RS256", "kid": "k1"}, claims, key)
        return JSONResponse(
            {"access_token": secrets.token_urlsafe(16), "token_type": "Bearer", "id_token": id_token}
        )
