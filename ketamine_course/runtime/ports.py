"""Network ports: is one free, which free one to use, and who holds a busy one."""

from __future__ import annotations

import socket


def port_in_use(ip: str, port: int) -> bool:
    """True when nothing on this machine may listen on `ip:port` now."""
    family = socket.AF_INET6 if ":" in ip else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((ip, port))
        except OSError:
            return True
    return False


def free_port(ip: str = "127.0.0.1") -> int:
    """A port the system says is free on `ip` now."""
    family = socket.AF_INET6 if ":" in ip else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.bind((ip, 0))
        return probe.getsockname()[1]


def holder_of_port(port: int) -> str:
    """'process 1234 (python3)' when the listening process can be found, else ''."""
    try:
        import psutil

        for connection in psutil.net_connections(kind="inet"):
            if connection.laddr and connection.laddr.port == port and connection.status == psutil.CONN_LISTEN:
                if connection.pid:
                    return f"process {connection.pid} ({psutil.Process(connection.pid).name()})"
    except Exception:  # an unknown holder is no reason to fail the message
        pass
    return ""
