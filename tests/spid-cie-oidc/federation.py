"""Sets up the reference implementation's trust anchor and provider for the end-to-end run
(tests/spid-cie-oidc/run), through its own Django models, as an operator would through its admin.

    python federation.py ta-init  TA_ID OUT_JWKS
    python federation.py op-init  OP_ID TA_ID USERNAME PASSWORD FISCAL_NUMBER [NAME]
    python federation.py onboard  SUB TYPE NAME

Run with DJANGO_SETTINGS_MODULE=refimpl.settings and the REFIMPL_* variables of the role.
Keys are made at each run (RSA 2048, kid = RFC 7638 thumbprint, by the package itself).
"""

import json
import sys

import django

django.setup()

from spid_cie_oidc.entity.jwks import create_jwk, public_jwk_from_private_jwk  # noqa: E402
from spid_cie_oidc.entity.models import FederationEntityConfiguration  # noqa: E402

SPID_LEVELS = [f"https://www.spid.gov.it/SpidL{level}" for level in (1, 2, 3)]
# The profiles the trust anchor assigns; `openid_provider` entries make the subordinate listing
# (`/list?entity_type=openid_provider`) name the provider.
PROFILES = {
    "openid_provider": "https://www.spid.gov.it/openid-federation/agreement/op-public",
    "openid_relying_party": "https://www.spid.gov.it/openid-federation/agreement/sp-public",
}


def key(use):
    jwk = create_jwk()
    jwk["use"] = use
    return jwk


def public(jwks):
    return [public_jwk_from_private_jwk(k) for k in jwks]


def write_jwks(path, jwks):
    with open(path, "w", encoding="utf-8") as out:
        json.dump({"keys": public(jwks)}, out)


def ta_init(ta, out):
    fed = [key("sig")]
    FederationEntityConfiguration.objects.create(
        sub=ta,
        default_exp=60,
        jwks_fed=fed,
        jwks_core=[key("sig")],
        entity_type="federation_entity",
        metadata={
            "federation_entity": {
                "organization_name": "Trust anchor of the test federation",
                "homepage_uri": ta,
                "contacts": ["ops@example.invalid"],
                "federation_fetch_endpoint": f"{ta}/fetch",
                "federation_list_endpoint": f"{ta}/list",
                "federation_resolve_endpoint": f"{ta}/resolve",
                "federation_trust_mark_status_endpoint": f"{ta}/trust_mark_status",
            }
        },
        constraints={"max_path_length": 1},
        is_active=True,
    )
    write_jwks(out, fed)


def op_init(op, ta, username, password, fiscal_number, name="Test SPID identity provider"):
    from django.contrib.auth import get_user_model

    fed, core = [key("sig")], [key("sig")]
    origin = op.rsplit("/oidc/op", 1)[0]
    FederationEntityConfiguration.objects.create(
        sub=op,
        default_exp=60,
        authority_hints=[ta],
        jwks_fed=fed,
        jwks_core=core,
        entity_type="openid_provider",
        metadata={
            "federation_entity": {
                "organization_name": name,
                "homepage_uri": origin,
                "logo_uri": f"{origin}/static/svg/spid-logo-c-lb.svg",
                "contacts": ["ops@example.invalid"],
            },
            "openid_provider": {
                "issuer": op,
                "authorization_endpoint": f"{op}/authorization",
                "token_endpoint": f"{op}/token",
                "userinfo_endpoint": f"{op}/userinfo",
                "introspection_endpoint": f"{op}/introspection",
                "revocation_endpoint": f"{op}/revocation",
                "jwks": {"keys": public(core)},
                "client_registration_types_supported": ["automatic"],
                "code_challenge_methods_supported": ["S256"],
                "acr_values_supported": SPID_LEVELS,
                "claims_parameter_supported": True,
                "claims_supported": [
                    "https://attributes.eid.gov.it/fiscal_number",
                    "given_name",
                    "family_name",
                ],
                "grant_types_supported": ["authorization_code", "refresh_token"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "userinfo_signing_alg_values_supported": ["RS256"],
                "userinfo_encryption_alg_values_supported": ["RSA-OAEP", "RSA-OAEP-256"],
                "userinfo_encryption_enc_values_supported": ["A128CBC-HS256", "A256CBC-HS512"],
                "request_object_signing_alg_values_supported": ["RS256"],
                "request_object_encryption_alg_values_supported": ["RSA-OAEP"],
                "request_object_encryption_enc_values_supported": ["A128CBC-HS256"],
                "id_token_encryption_alg_values_supported": ["RSA-OAEP"],
                "id_token_encryption_enc_values_supported": ["A128CBC-HS256"],
                "request_parameter_supported": True,
                "response_types_supported": ["code"],
                "scopes_supported": ["openid", "offline_access"],
                "subject_types_supported": ["pairwise"],
                "token_endpoint_auth_methods_supported": ["private_key_jwt"],
                "token_endpoint_auth_signing_alg_values_supported": ["RS256"],
                "organization_name": name,
                "logo_uri": f"{origin}/static/svg/spid-logo-c-lb.svg",
            },
        },
        is_active=True,
    )
    user = get_user_model().objects.create_user(username=username, password=password)
    user.attributes = {
        "https://attributes.eid.gov.it/fiscal_number": fiscal_number,
        "given_name": "Mario",
        "family_name": "Rossi",
    }
    user.save()


def onboard(sub, entity_type, name):
    """Onboards `sub` as a descendant of the trust anchor: the federation keys of its Entity
    Configuration become the keys the anchor vouches for (an operator checks them out of band),
    and it gets the profile of its type (so it is listed and gets a trust mark)."""
    import requests
    from spid_cie_oidc.entity.jwtse import unpad_jwt_head, unpad_jwt_payload, verify_jws
    from spid_cie_oidc.entity.validators import validate_entity_metadata
    from spid_cie_oidc.authority.models import (
        FederationDescendant,
        FederationEntityAssignedProfile,
        FederationEntityProfile,
    )

    answer = requests.get(f"{sub}/.well-known/openid-federation", timeout=10)
    answer.raise_for_status()
    jwt = answer.text
    jwks = unpad_jwt_payload(jwt)["jwks"]["keys"]
    kid = unpad_jwt_head(jwt)["kid"]
    # Self-signed with one of the keys it publishes, as the anchor's onboarding checks.
    verify_jws(jwt, next(k for k in jwks if k["kid"] == kid))
    # Its metadata against the reference's schemas of the SPID profile (`openid_relying_party`
    # as its own relying party requires it, `openid_provider` as its provider does).
    validate_entity_metadata(unpad_jwt_payload(jwt)["metadata"])
    descendant = FederationDescendant(
        sub=sub, name=name[:33], type=entity_type, jwks=jwks, status="valid", is_active=True
    )
    # The validators of the anchor's admin form: the Entity Configuration fetched and
    # self-validated, the anchor among its authority_hints, the keys public.
    descendant.full_clean()
    descendant.save()
    profile, _ = FederationEntityProfile.objects.get_or_create(
        profile_id=PROFILES[entity_type],
        defaults={
            "name": entity_type[:33],
            "profile_category": entity_type,
            "trust_mark_template": {"ref": "https://docs.italia.it/"},
        },
    )
    FederationEntityAssignedProfile.objects.create(
        descendant=descendant,
        profile=profile,
        issuer=FederationEntityConfiguration.objects.get(entity_type="federation_entity"),
    )


COMMANDS = {"ta-init": ta_init, "op-init": op_init, "onboard": onboard}

if __name__ == "__main__":
    COMMANDS[sys.argv[1]](*sys.argv[2:])
