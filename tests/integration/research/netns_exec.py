"""Bring up the loopback interface of a fresh network namespace, then exec the given command.

Run as ``unshare --net -- python netns_exec.py CMD ARGS...``: Ray binds its servers on every interface
and cannot be told to use 127.0.0.1 only, so the Ray tests run it in a namespace that has nothing but
loopback. (A new namespace's `lo` starts down; this sets it up with the same ioctl `ip link` uses.)
"""

from __future__ import annotations

import fcntl
import os
import socket
import struct
import sys

SIOCGIFFLAGS = 0x8913
SIOCSIFFLAGS = 0x8914
IFF_UP = 0x1


def loopback_up() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sh", b"lo", 0)
        flags = struct.unpack("16sh", fcntl.ioctl(sock, SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(sock, SIOCSIFFLAGS, struct.pack("16sh", b"lo", flags | IFF_UP))


if __name__ == "__main__":
    loopback_up()
    os.execvp(sys.argv[1], sys.argv[1:])
