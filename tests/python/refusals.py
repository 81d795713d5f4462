"""The local vault's refusals as the official Python client meets them (azure-keyvault-secrets with
DefaultAzureCredential through the local managed-identity endpoint). Usage: refusals.py READY_FILE
Prints one line per check and a closing "N passed, N failed" line.

Where each refusal's wording comes from: shared/keyvault-secrets-api.md, "Refusals, tenants and
limits" (public issue threads quoting the real service).
"""

import json
import sys
import traceback

from azure.core.exceptions import HttpResponseError
from azure.identity import DefaultAzureCredential
from azure.keyvault.secrets import SecretClient

ready = json.load(open(sys.argv[1]))
credential = DefaultAzureCredential()


def client(vault):
    return SecretClient(vault_url=ready["vaults"][vault], credential=credential)


def refusal(call):
    """The 403 a call gets: (status, outer code, inner code, message)."""
    try:
        call()
    except HttpResponseError as e:
        body = e.response.json()["error"]
        return e.status_code, body["code"], body.get("innererror", {}).get("code"), body["message"]
    raise AssertionError("the call was not refused")


passed = 0
failed = 0


def check(name, fn):
    global passed, failed
    try:
        fn()
        passed += 1
        print(f"ok   {name}")
    except Exception:
        failed += 1
        print(f"FAIL {name}")
        traceback.print_exc(file=sys.stdout)


def rbac_reader():
    names = [p.name for p in client("rbac").list_properties_of_secrets()]
    assert names == ["db-password"], names
    status, code, inner, message = refusal(lambda: client("rbac").get_secret("db-password"))
    assert (status, code, inner) == (403, "Forbidden", "ForbiddenByRbac"), (status, code, inner)
    assert "Action: 'Microsoft.KeyVault/vaults/secrets/getSecret/action'" in message, message
    assert "DecisionReason: 'DeniedWithNoValidRBAC'" in message, message


def rbac_secrets_user():
    assert client("users").get_secret("api-key").value == "canary-value-1234"
    status, code, inner, message = refusal(lambda: client("users").set_secret("x", "y"))
    assert inner == "ForbiddenByRbac" and "secrets/setSecret/action" in message, message


def access_policy():
    status, code, inner, message = refusal(lambda: client("policy").set_secret("x", "y"))
    assert (status, inner) == (403, "AccessDenied"), (status, inner)
    assert "does not have secrets set permission on key vault 'policy;location=local'" in message, message


def firewall():
    status, code, inner, message = refusal(lambda: client("fw").get_secret("any"))
    assert inner == "ForbiddenByFirewall", inner
    assert "Client address: 127.0.0.1" in message, message


def private_link():
    status, code, inner, message = refusal(lambda: client("private").get_secret("any"))
    assert inner == "ForbiddenByConnection", inner
    assert message.startswith("Public network access is disabled"), message


def certificate_backed():
    s = client("certs").get_secret("tls-cert")
    assert s.properties.managed is True, s.properties.managed
    assert "/keys/tls-cert/" in (s.properties.key_id or ""), s.properties.key_id
    status, code, inner, message = refusal(lambda: client("certs").set_secret("tls-cert", "new"))
    assert (status, inner) == (403, "SecretManagedByKeyVault"), (status, inner)
    assert message == "Operation \"set\" is not allowed as this object's lifetime is managed by Key Vault", message


def another_tenant():
    """A vault in another tenant: a token of the home tenant gets AKV10032, and a credential allowed
    in other tenants follows the challenge's tenant (the Python challenge policy does)."""
    from azure.core.exceptions import ClientAuthenticationError
    from azure.identity import ClientSecretCredential

    def secret_credential(**kw):
        return ClientSecretCredential(
            ready["tenant_id"], "guest-app", "pw",
            authority=ready["authority_host"], disable_instance_discovery=True, **kw)

    guest = lambda cred: SecretClient(vault_url=ready["vaults"]["guest"], credential=cred)
    # Not allowed in other tenants: azure-identity refuses to follow the challenge.
    try:
        guest(secret_credential()).get_secret("in-guest")
        raise AssertionError("a home-tenant credential opened the guest vault")
    except ClientAuthenticationError as e:
        assert ready["vault_tenants"]["guest"] in str(e), str(e)
    s = guest(secret_credential(additionally_allowed_tenants=["*"])).get_secret("in-guest")
    assert s.value == "guest-canary", s.value


check("RBAC: Key Vault Reader lists, and get is refused with ForbiddenByRbac", rbac_reader)
check("RBAC: Key Vault Secrets User reads values, and set is refused", rbac_secrets_user)
check("access policy: a missing permission is AccessDenied", access_policy)
check("firewall: ForbiddenByFirewall names the client address", firewall)
check("private link: ForbiddenByConnection", private_link)
check("certificate-backed: managed, read-only", certificate_backed)
check("another tenant: the challenge's tenant, followed when allowed", another_tenant)
print(f"python refusals: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
