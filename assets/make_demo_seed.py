#!/usr/bin/env python3
"""Writes assets/demo-seed.jsonl: the demo vaults in the local vault's seed format (one line per secret
name: {"vault", "name", "live"|"deleted"}). Deterministic. Times are relative to DEMO_EPOCH
(2026-01-01T00:00:00Z); `kvtui --demo` shifts them so that "now" is the epoch: expiring-soon secrets
stay expiring soon whenever the demo runs.

Run: python3 assets/make_demo_seed.py > assets/demo-seed.jsonl
"""
import hashlib
import json
import random

EPOCH = 1767225600  # 2026-01-01T00:00:00Z
DAY = 86400
rng = random.Random(42)


def version(name, i):
    return hashlib.sha256(f"{name}/{i}".encode()).hexdigest()[:32]


PEM = ("-----BEGIN PRIVATE KEY-----\n" + "\n".join(
    "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/") for _ in range(64))
    for _ in range(8)) + "\n-----END PRIVATE KEY-----")


def token(prefix, n=32):
    return prefix + "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(n))


def secrets_for(env):
    host = {"prod": "prod-sql.database.windows.net", "dev": "dev-sql.database.windows.net",
            "staging": "stg-sql.database.windows.net"}.get(env, "sql.local")
    return [
        ("db-password", token("P@ss-", 20), "text/plain", {"team": "data"}),
        ("db-connection-string", f"Server=tcp:{host},1433;Initial Catalog=orders;User ID=app;Password={token('', 18)};Encrypt=True;", "text/plain", {"team": "data"}),
        ("redis-connection", f"{env}-cache.redis.cache.windows.net:6380,password={token('', 40)},ssl=True,abortConnect=False", None, {"team": "platform"}),
        ("storage-account-key", token("", 86) + "==", None, {"team": "platform"}),
        ("stripe-api-key", token("sk_live_", 24), "text/plain", {"team": "payments", "vendor": "stripe"}),
        ("sendgrid-api-key", token("SG.", 60), "text/plain", {"team": "growth", "vendor": "sendgrid"}),
        ("github-token", token("ghp_", 36), "text/plain", {"team": "platform"}),
        ("slack-webhook-url", "https://hooks.slack.com/services/T0000/B0000/" + token("", 24), "text/uri-list", {"team": "ops"}),
        ("jwt-signing-key", PEM, "application/x-pem-file", {"team": "identity"}),
        ("tls-private-key", PEM.replace("PRIVATE KEY", "RSA PRIVATE KEY"), "application/x-pem-file", {"team": "platform"}),
        ("service-account-json", json.dumps({"type": "service_account", "project_id": f"orders-{env}", "private_key_id": token("", 40), "client_email": f"orders@{env}.iam.example.com", "client_id": "1049"}), "application/json", {"team": "data"}),
        ("app-config", json.dumps({"featureFlags": {"newCheckout": True, "darkMode": False}, "retries": 3, "timeoutMs": 2500}), "application/json", {"team": "web"}),
        ("oauth-client-secret", token("", 40), "text/plain", {"team": "identity"}),
        ("smtp-password", token("", 24), None, {"team": "ops"}),
        ("datadog-api-key", token("", 32), "text/plain", {"vendor": "datadog", "team": "ops"}),
        ("pagerduty-routing-key", token("", 32), None, {"team": "ops"}),
        ("openai-api-key", token("sk-proj-", 48), "text/plain", {"team": "ml"}),
        ("encryption-key", token("", 64), "application/octet-stream", {"team": "security"}),
        ("ssh-deploy-key", "-----BEGIN OPENSSH PRIVATE KEY-----\n" + token("", 70) + "\n" + token("", 70) + "\n-----END OPENSSH PRIVATE KEY-----", "application/x-pem-file", {"team": "platform"}),
        ("cosmos-primary-key", token("", 86) + "==", None, {"team": "data"}),
        ("servicebus-connection", f"Endpoint=sb://{env}-bus.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey={token('', 44)}=", None, {"team": "platform"}),
        ("twilio-auth-token", token("", 32), "text/plain", {"vendor": "twilio", "team": "growth"}),
        ("grafana-admin-password", token("", 16), None, {"team": "ops"}),
        ("legacy-ftp-password", token("", 12), None, {"team": "ops", "deprecated": "true"}),
        ("feature-flag-sdk-key", token("sdk-", 36), "text/plain", {"team": "web"}),
    ]


def line(vault, name, value, ctype, tags, env, i):
    versions = []
    n = 1 + (i % 3) + (1 if i % 7 == 0 else 0)
    created = EPOCH - (200 + i * 5) * DAY
    for v in range(n):
        t = created + v * 37 * DAY
        ver = {"version": version(f"{vault}/{name}", v), "value": value if v == n - 1 else value[::-1],
               "enabled": True, "created": t, "updated": t}
        if ctype:
            ver["content_type"] = ctype
        ver["tags"] = dict(tags, env=env)
        versions.append(ver)
    latest = versions[-1]
    if i % 11 == 5:
        latest["enabled"] = False
    if i % 9 == 1:
        latest["exp"] = EPOCH - (3 + i) * DAY          # expired
    elif i % 9 == 4:
        latest["exp"] = EPOCH + (5 + i % 20) * DAY     # expiring soon
    elif i % 9 == 7:
        latest["exp"] = EPOCH + 300 * DAY
    if i % 13 == 3:
        latest["nbf"] = EPOCH + 10 * DAY
    latest["updated"] = max(latest["created"], EPOCH - (i % 40) * DAY - 3600 * (1 + i % 24))
    return {"vault": vault, "name": name, "live": {"record": {"name": name, "versions": versions}}}


out = []
for vault, env, keep in [("demo", "prod", 25), ("staging", "staging", 14), ("dev", "dev", 9)]:
    items = secrets_for(env)[:keep]
    for i, (name, value, ctype, tags) in enumerate(items):
        out.append(line(vault, name, value, ctype, tags, env, i))
    if vault == "demo":
        # Many small per-customer secrets: a vault worth filtering.
        for c in range(1, 31):
            name = f"customer-{c:03d}-api-key"
            out.append(line(vault, name, token("ck_", 28), "text/plain", {"customer": f"c{c:03d}", "team": "partners"}, env, c + 40))
        # Already deleted: recoverable until their scheduled purge date.
        for j, name in enumerate(["old-db-password", "retired-api-key", "temp-migration-token"]):
            rec = line(vault, name, token("", 24), "text/plain", {"team": "data"}, env, 60 + j)["live"]["record"]
            deleted = EPOCH - (2 + j * 20) * DAY
            out.append({"vault": vault, "name": name, "deleted": {"record": rec, "deleted_date": deleted, "scheduled_purge_date": deleted + 90 * DAY}})

for o in out:
    print(json.dumps(o, separators=(",", ":")))
