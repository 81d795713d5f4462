"""Imported by every Python interpreter the tests start (they put this folder on PYTHONPATH).

Loopback-only networking for the process, so apps run *unmodified* against the local vault:
- `*.localhost` resolves to 127.0.0.1 (Debian's resolver does not do it);
- host names ending in one of KVTUI_STAND_IN (comma-separated suffixes, e.g. ".vault.azure.net")
  resolve to 127.0.0.1 on port KVTUI_VAULT_PORT, whatever port the app asked for;
- a connection to any non-loopback address is refused and reported on stderr as
  "kvtui-network-guard: blocked ..." (the tests fail on that line), so a managed-identity probe of
  169.254.169.254 or a call to a real cloud endpoint cannot go unnoticed.
"""

import ipaddress
import os
import socket
import sys

_getaddrinfo = socket.getaddrinfo
_stand_in = [s.strip().lower() for s in os.environ.get("KVTUI_STAND_IN", "").split(",") if s.strip()]
_vault_port = os.environ.get("KVTUI_VAULT_PORT")


def _loopback_getaddrinfo(host, port, *args, **kwargs):
    if isinstance(host, str):
        h = host.lower().rstrip(".")
        if _vault_port and any(h.endswith(s) for s in _stand_in):
            return _getaddrinfo("127.0.0.1", int(_vault_port), *args, **kwargs)
        if h == "localhost" or h.endswith(".localhost"):
            return _getaddrinfo("127.0.0.1", port, *args, **kwargs)
    return _getaddrinfo(host, port, *args, **kwargs)


def _is_loopback(address):
    try:
        return ipaddress.ip_address(address[0].split("%")[0]).is_loopback
    except (ValueError, TypeError, IndexError):
        return False


def _guard(sock, address):
    if sock.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address):
        print(f"kvtui-network-guard: blocked connection to {address!r}", file=sys.stderr, flush=True)
        raise ConnectionRefusedError(f"kvtui test network guard: {address!r} is not loopback")


_connect = socket.socket.connect
_connect_ex = socket.socket.connect_ex


def _guarded_connect(self, address):
    _guard(self, address)
    return _connect(self, address)


def _guarded_connect_ex(self, address):
    _guard(self, address)
    return _connect_ex(self, address)


socket.getaddrinfo = _loopback_getaddrinfo
socket.socket.connect = _guarded_connect
socket.socket.connect_ex = _guarded_connect_ex
