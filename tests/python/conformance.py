"""Conformance of the local vault with the official Python client (azure-keyvault-secrets).

Run by tests/python_conformance.rs against a real `kvtui emulator` process. Challenge-resource
verification stays ON (the default). Usage: conformance.py READY_FILE
Prints one line per check and a closing "N passed, N failed" line.
"""

import json
import sys
import time
import traceback

# Name resolution and the loopback-only guard come from tests/python/site/sitecustomize.py.

from azure.core.credentials import AccessToken
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.keyvault.secrets import SecretClient


class LocalCredential:
    """The local vault accepts any bearer token; this hands one out."""

    def get_token(self, *scopes, **kwargs):
        self.scopes = scopes
        return AccessToken("kvtui-local-python", int(time.time()) + 3600)


ready = json.load(open(sys.argv[1]))
credential = LocalCredential()
client = SecretClient(
    vault_url=ready["vaults"]["demo"],
    credential=credential,
    connection_verify=ready["ca_file"],
)

passed = 0
failed = 0
state = {}


def check(name):
    def run(fn):
        global passed, failed
        try:
            fn()
            passed += 1
            print(f"ok   {name}", flush=True)
        except Exception:
            failed += 1
            print(f"FAIL {name}", flush=True)
            traceback.print_exc()
        return fn

    return run


def expect(exc_type, fn):
    try:
        fn()
    except exc_type as e:
        return e
    raise AssertionError(f"expected {exc_type.__name__}")


@check("set and get, latest and by version, content type and tags")
def _():
    first = client.set_secret("py-secret", "value one\nline two ✓")
    state["first_version"] = first.properties.version
    assert first.value == "value one\nline two ✓"
    assert len(first.properties.version) == 32
    assert first.properties.recovery_level == "Recoverable+Purgeable"
    second = client.set_secret("py-secret", "value two", content_type="text/plain", tags={"env": "dev"})
    latest = client.get_secret("py-secret")
    assert latest.value == "value two", latest.value
    assert latest.properties.content_type == "text/plain"
    assert latest.properties.tags == {"env": "dev"}
    assert latest.id == second.id
    old = client.get_secret("py-secret", first.properties.version)
    assert old.value == "value one\nline two ✓"
    # The challenge's scope is what the SDK asked a token for.
    port = ready["port"]
    assert credential.scopes == (f"https://localhost:{port}/.default",), credential.scopes


@check("versions are listed")
def _():
    versions = list(client.list_properties_of_secret_versions("py-secret"))
    assert len(versions) == 2, len(versions)
    assert all(v.name == "py-secret" for v in versions)


@check("update properties of a version; a disabled version answers 403 SecretDisabled")
def _():
    # Both versions may share a creation second: name the first one by its version id.
    first = state["first_version"]
    updated = client.update_secret_properties("py-secret", first, enabled=False, tags={"state": "retired"})
    assert updated.enabled is False
    assert updated.tags == {"state": "retired"}
    e = expect(HttpResponseError, lambda: client.get_secret("py-secret", first))
    assert e.status_code == 403, e.status_code
    assert "disabled" in str(e), str(e)
    assert "SecretDisabled" in str(e), str(e)
    assert client.get_secret("py-secret").value == "value two"


@check("paging past 25 secrets")
def _():
    for i in range(30):
        client.set_secret(f"page-{i:02d}", "v")
    names = [p.name for p in client.list_properties_of_secrets()]
    assert len([n for n in names if n.startswith("page-")]) == 30, len(names)
    pages = list(client.list_properties_of_secrets().by_page())
    assert len(pages) >= 2
    assert names == sorted(names, key=str.lower)


@check("begin_delete_secret().wait() waits out the delete window")
def _():
    client.set_secret("quickstart-secret", "hello")
    t0 = time.time()
    poller = client.begin_delete_secret("quickstart-secret")
    deleted = poller.result()  # returns the DELETE answer at once
    assert deleted.name == "quickstart-secret"
    assert deleted.recovery_id.endswith("/deletedsecrets/quickstart-secret")
    poller.wait()
    waited = time.time() - t0
    assert waited >= 2.5, f"waited only {waited:.1f}s for a 3 s window"
    got = client.get_deleted_secret("quickstart-secret")
    assert got.scheduled_purge_date > got.deleted_date
    listed = [d.name for d in client.list_deleted_secrets()]
    assert "quickstart-secret" in listed


@check("re-setting a deleted name: 409 ObjectIsDeletedButRecoverable")
def _():
    e = expect(ResourceExistsError, lambda: client.set_secret("quickstart-secret", "again"))
    assert e.status_code == 409
    assert "deleted but recoverable" in str(e), str(e)
    assert "ObjectIsDeletedButRecoverable" in str(e), str(e)


@check("begin_recover_deleted_secret().wait() waits until readable")
def _():
    poller = client.begin_recover_deleted_secret("quickstart-secret")
    poller.wait()
    assert client.get_secret("quickstart-secret").value == "hello"


@check("purge")
def _():
    client.begin_delete_secret("quickstart-secret").wait()
    client.purge_deleted_secret("quickstart-secret")
    expect(ResourceNotFoundError, lambda: client.get_deleted_secret("quickstart-secret"))
    expect(ResourceNotFoundError, lambda: client.get_secret("quickstart-secret"))


@check("backup and restore")
def _():
    client.set_secret("backed-up", "precious")
    blob = client.backup_secret("backed-up")
    assert isinstance(blob, bytes) and b"precious" not in blob
    client.begin_delete_secret("backed-up").wait()
    client.purge_deleted_secret("backed-up")
    deadline = time.time() + 20
    while True:  # the purged name stays busy for the window, as on the service
        try:
            restored = client.restore_secret_backup(blob)
            break
        except ResourceExistsError:
            if time.time() > deadline:
                raise
            time.sleep(0.5)
    assert restored.name == "backed-up"
    assert client.get_secret("backed-up").value == "precious"
    e = expect(HttpResponseError, lambda: client.restore_secret_backup(b"A" * 64))
    assert e.status_code == 400 and "Malformed backup blob" in str(e), str(e)


@check("not found")
def _():
    e = expect(ResourceNotFoundError, lambda: client.get_secret("never-was"))
    assert "SecretNotFound" in str(e)


print(f"python conformance: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
