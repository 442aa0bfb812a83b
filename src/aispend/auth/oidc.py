"""OpenID Connect single sign-on with any standard provider (authlib, joserfc).

Authorization code flow with PKCE. The browser holds one random flow secret (an
HttpOnly cookie, never in a URL); the ``state``, ``nonce`` and PKCE verifier are derived
from it, so nothing about a sign-in in progress is stored server-side. The ID token's
signature is checked against the provider's published keys, and its issuer, audience,
expiry and nonce against what this deployment expects.

A user is found by their provider subject, else by a verified email (linking an account
an Admin created), else created. Their role in the deployment's default organisation
comes from ``AISPEND_OIDC_ROLE_CLAIM`` through ``AISPEND_OIDC_ROLE_MAP`` when that gives
one; otherwise an Admin assigns it (new users start as Member).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from authlib.integrations.httpx_client import OAuth2Client  # type: ignore[import-untyped]
from authlib.oidc.core import CodeIDToken  # type: ignore[import-untyped]
from authlib.oidc.discovery import OpenIDProviderMetadata, get_well_known_url  # type: ignore[import-untyped]
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from sqlalchemy import select
from sqlalchemy.orm import Session

from aispend import audit
from aispend.auth.opaque import derive
from aispend.auth.permissions import Role
from aispend.auth.users import add_member, find_user, normalise_email, set_role
from aispend.settings import Settings
from aispend.store.schema import Membership, User

__all__ = ["FLOW_COOKIE", "OidcClient", "OidcError", "OidcIdentity", "oidc_enabled", "sign_in_user"]

FLOW_COOKIE = "aispend_oidc"
SCOPE = "openid email profile"
# Asymmetric signatures only: the keys come from the provider's JWKS, and "none" never.
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
ROLE_ORDER = tuple(Role)


class OidcError(Exception):
    """Single sign-on failed; the message is safe to show and to log (it holds no token)."""


@dataclass(frozen=True)
class OidcIdentity:
    subject: str
    email: str
    email_verified: bool
    name: str
    role: Role | None


def oidc_enabled(settings: Settings) -> bool:
    return bool(settings.oidc_issuer and settings.oidc_client_id)


def role_from_claims(settings: Settings, claims: dict[str, Any]) -> Role | None:
    """The most privileged role the configured claim maps to, or None."""
    if not settings.oidc_role_claim:
        return None
    raw = claims.get(settings.oidc_role_claim)
    values = [raw] if isinstance(raw, str) else raw if isinstance(raw, list) else []
    roles: set[Role] = set()
    for value in map(str, values):
        mapped = settings.oidc_role_map.get(value, value)
        if mapped in Role.__members__:
            roles.add(Role(mapped))
    return next((role for role in ROLE_ORDER if role in roles), None)


class OidcClient:
    """One configured provider; its discovery document and keys are fetched on first use."""

    def __init__(self, settings: Settings) -> None:
        if not oidc_enabled(settings):
            raise OidcError("Single sign-on is not configured (AISPEND_OIDC_ISSUER, AISPEND_OIDC_CLIENT_ID).")
        self.settings = settings
        self.issuer = str(settings.oidc_issuer).rstrip("/")
        self.client_id = str(settings.oidc_client_id)
        self._metadata: dict[str, Any] | None = None

    def _client(self, redirect_uri: str) -> Any:
        secret = self.settings.oidc_client_secret
        return OAuth2Client(
            client_id=self.client_id,
            client_secret=secret.get_secret_value() if secret else None,
            scope=SCOPE,
            redirect_uri=redirect_uri,
            code_challenge_method="S256",
            timeout=self.settings.http_timeout_seconds,
        )

    def metadata(self) -> dict[str, Any]:
        if self._metadata is None:
            with self._client("") as client:
                response = client.request(
                    "GET", get_well_known_url(self.issuer, external=True), withhold_token=True
                )
            if response.status_code != 200:
                raise OidcError(
                    f"The identity provider's discovery document answered {response.status_code}."
                )
            metadata = OpenIDProviderMetadata(response.json())
            try:
                metadata.validate()
            except ValueError as error:
                raise OidcError(f"The identity provider's discovery document is invalid: {error}") from None
            if str(metadata["issuer"]).rstrip("/") != self.issuer:
                raise OidcError("The identity provider's discovery document names another issuer.")
            self._metadata = dict(metadata)
        return self._metadata

    def authorization_url(self, redirect_uri: str, flow_secret: str) -> str:
        with self._client(redirect_uri) as client:
            url, _state = client.create_authorization_url(
                self.metadata()["authorization_endpoint"],
                state=derive(flow_secret, "oidc-state"),
                nonce=derive(flow_secret, "oidc-nonce"),
                code_verifier=derive(flow_secret, "oidc-pkce"),
            )
        return str(url)

    def identify(self, redirect_uri: str, flow_secret: str, *, code: str, state: str) -> OidcIdentity:
        """Exchange the code for tokens and return the verified identity in the ID token."""
        if not code or state != derive(flow_secret, "oidc-state"):
            raise OidcError("The sign-in response does not belong to this browser's sign-in; start again.")
        metadata = self.metadata()
        with self._client(redirect_uri) as client:
            try:
                token = client.fetch_token(
                    metadata["token_endpoint"],
                    grant_type="authorization_code",
                    code=code,
                    code_verifier=derive(flow_secret, "oidc-pkce"),
                )
            except Exception as error:  # authlib raises its own and httpx2's errors
                raise OidcError(f"The identity provider refused the code ({type(error).__name__}).") from None
            keys = client.request("GET", metadata["jwks_uri"], withhold_token=True)
        if "id_token" not in token or keys.status_code != 200:
            raise OidcError("The identity provider returned no ID token or no signing keys.")
        claims = self._verify(str(token["id_token"]), keys.json(), derive(flow_secret, "oidc-nonce"), token)
        email = str(claims.get("email") or "")
        if not email:
            raise OidcError("The identity provider sent no email address; add the 'email' scope.")
        return OidcIdentity(
            subject=str(claims["sub"]),
            email=normalise_email(email),
            email_verified=claims.get("email_verified") is True,
            name=str(claims.get("name") or ""),
            role=role_from_claims(self.settings, claims),
        )

    def _verify(
        self, id_token: str, jwks: dict[str, Any], nonce: str, token: dict[str, Any]
    ) -> dict[str, Any]:
        supported = self.metadata().get("id_token_signing_alg_values_supported") or ["RS256"]
        algorithms = [alg for alg in supported if alg in ALGORITHMS]
        try:
            # joserfc checks the key set's shape itself; its typed dict is stricter than JSON.
            keys = KeySet.import_key_set(jwks)  # type: ignore[arg-type]
            decoded = jwt.decode(id_token, keys, algorithms=algorithms)
            claims = CodeIDToken(
                decoded.claims,
                decoded.header,
                {
                    "iss": {"essential": True, "value": self.issuer},
                    "aud": {"essential": True, "value": self.client_id},
                },
                {"nonce": nonce, "client_id": self.client_id, "access_token": token.get("access_token")},
            )
            claims.validate(leeway=60)
        except (JoseError, ValueError) as error:
            raise OidcError(f"The ID token was rejected: {type(error).__name__}: {error}.") from None
        return dict(claims)


def sign_in_user(session: Session, settings: Settings, identity: OidcIdentity, org_id: int) -> User:
    """The account for ``identity``, created or linked, with its role updated from the claims."""
    user = session.scalar(select(User).where(User.oidc_subject == identity.subject))
    if user is None:
        user = find_user(session, identity.email)
        if user is not None:
            if not identity.email_verified:
                raise OidcError(
                    f"An account for {identity.email} exists, and the identity provider has not verified "
                    "that email; ask an Admin to link it."
                )
            if user.oidc_subject is not None:
                raise OidcError(f"The account {identity.email} is linked to another single sign-on identity.")
            user.oidc_subject = identity.subject
    with audit.acting_as(audit.Actor(email=f"sso:{identity.email}")):
        if user is None:
            user = add_member(
                session,
                org_id=org_id,
                email=identity.email,
                role=identity.role or Role.member,
                name=identity.name,
            )
            user.oidc_subject = identity.subject
        elif identity.role is not None:
            if session.get(Membership, (user.id, org_id)) is None:
                add_member(session, org_id=org_id, email=user.email, role=identity.role)
            else:
                set_role(session, org_id=org_id, email=user.email, role=identity.role)
    session.flush()
    return user
