#!/usr/bin/env python3
# vsclient.py - the tests' client for vmsealed's socketmap (Postfix's
# protocol) and auth socket (what Dovecot's passdb asks; lib/authproto.h):
#   vsclient.py sm SOCKET MAP KEY        prints the answer's first word
#                                        (OK, NOTFOUND, TEMP, PERM)
#   vsclient.py verify SOCKET LOGIN [IP] the password on stdin; prints the
#                                        reply's first item (ok, fail, temp...)
#   vsclient.py smwait SOCKET MAP KEY WANT SECONDS READYFILE
#                                        asks again and again on one
#                                        connection; writes READYFILE after
#                                        the first answer, then prints the
#                                        wall clock (ns) of the first WANT,
#                                        or "never" after SECONDS
# Netstrings read with their lengths checked against what arrives (ns,
# read_ns and items, imported by pg_attack.sh's client too); one
# question per connection, 30 s timeout.  Used by pg_service.sh,
# pg_faults.sh and pg_hosts.sh.
import socket
import sys


def ns(b):
    return str(len(b)).encode() + b":" + b + b","


def read_ns(s):
    buf = b""
    while b":" not in buf:
        c = s.recv(1)
        if not c:
            raise EOFError
        buf += c
    n = int(buf[:-1])
    data = b""
    while len(data) < n + 1:
        c = s.recv(n + 1 - len(data))
        if not c:
            raise EOFError
        data += c
    return data[:-1]


def items(b):
    out = []
    while b:
        n, rest = b.split(b":", 1)
        out.append(rest[:int(n)].decode())
        b = rest[int(n) + 1:]
    return out


def main():
    cmd, path = sys.argv[1], sys.argv[2]
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(30)
    s.connect(path)
    if cmd == "sm":
        s.sendall(ns((sys.argv[3] + " " + sys.argv[4]).encode()))
        print(read_ns(s).decode().split(" ")[0])
    elif cmd == "smwait":
        import time
        q = ns((sys.argv[3] + " " + sys.argv[4]).encode())
        end = time.monotonic() + float(sys.argv[6])
        first = True
        while time.monotonic() < end:
            s.sendall(q)
            a = read_ns(s).decode().split(" ")[0]
            if first:
                open(sys.argv[7], "w").close()
                first = False
            if a == sys.argv[5]:
                print(time.time_ns())
                sys.exit(0)
            time.sleep(0.001)
        print("never")
    else:
        pw = sys.stdin.readline().rstrip("\n")
        ip = sys.argv[4] if len(sys.argv) > 4 else "192.0.2.7"
        s.sendall(ns(b"".join(ns(x.encode()) for x in
                              ("verify", sys.argv[3], pw, "imap", ip,
                               "127.0.0.1", "1"))))
        print(items(read_ns(s))[0])


if __name__ == "__main__":
    main()
