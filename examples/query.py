#!/usr/bin/python3
"""A query client written from the wire contract alone (proto/PROTOCOL.md,
"Querying" and "Transport security"): pyzmq and msgpack.

It asks `list` for one organisation with an org_admin token on a REQ socket,
follows next_cursor with --all, prints one line per event (log_index,
timestamp, event_type, actor_id, event_id) and at the end `events=N`.
Exit status: 0 when every page was answered ok, 1 on an error reply (its
code and message are printed), 2 when no reply came within --timeout
(a refused CURVE key gets no reply at all: ZAP refuses the handshake).

With CURVE: --server-key is the service's public key (40 Z85 characters, or
its public certificate file) and --cert this client's certificate from
`auditctl keygen` (the public file; its _secret beside it). Without --cert
the client makes a new keypair: the query socket takes any key unless the
service sets AUDIT_QUERY_KEYS_DIR. The token comes from --token or
AUDIT_TOKEN, never from the command line of a shared host if you can help it.

    AUDIT_TOKEN=$(auditctl token --role org_admin --org acme) \
        /usr/bin/python3 examples/query.py --org acme --server-key keys/server.cert
"""
import argparse
import os
import sys

import msgpack
import zmq
import zmq.auth


def curve(socket, server_key, cert):
    """Make socket a CURVE client of server_key, with cert's keypair or a new one."""
    if os.path.exists(server_key):         # a path may be 40 characters too
        server_key = zmq.auth.load_certificate(server_key)[0].decode()
    if cert:
        public, secret = zmq.auth.load_certificate(cert + "_secret")
    else:
        public, secret = zmq.curve_keypair()
    socket.curve_serverkey = server_key.encode()
    socket.curve_publickey = public
    socket.curve_secretkey = secret


def request(socket, body, timeout_s):
    """One request and its reply map, or None when none came in time."""
    socket.send(msgpack.packb(body))
    if not socket.poll(int(timeout_s * 1000)):
        return None
    return msgpack.unpackb(socket.recv(), raw=False)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint", default="tcp://127.0.0.1:5571")
    parser.add_argument("--org", required=True)
    parser.add_argument("--token", default=os.environ.get("AUDIT_TOKEN"))
    parser.add_argument("--limit", type=int, default=100)
    parser.add_argument("--all", action="store_true", help="follow next_cursor to the end")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per reply")
    parser.add_argument("--server-key", help="CURVE: the service's public key or certificate")
    parser.add_argument("--cert", help="CURVE: this client's certificate (public file)")
    args = parser.parse_args()
    if not args.token:
        parser.error("no token: --token or AUDIT_TOKEN")

    context = zmq.Context()
    req = context.socket(zmq.REQ)
    req.setsockopt(zmq.LINGER, 0)
    if args.server_key:
        curve(req, args.server_key, args.cert)
    req.connect(args.endpoint)

    status, count, cursor = 0, 0, None
    while True:
        body = {"v": 1, "op": "list", "token": args.token, "org_id": args.org,
                "limit": args.limit}
        if cursor is not None:
            body["cursor"] = cursor
        reply = request(req, body, args.timeout)
        if reply is None:
            print("no reply within %.1f s" % args.timeout, file=sys.stderr)
            status = 2
            break
        if not reply.get("ok"):
            error = reply.get("error") or {}
            print("error code=%s message=%s" % (error.get("code"), error.get("message")),
                  file=sys.stderr)
            status = 1
            break
        for event in reply["events"]:
            print("%d %s %s %s %s" % (event["log_index"], event["timestamp"], event["event_type"],
                                      event["actor_id"], event["event_id"]))
            count += 1
        cursor = reply.get("next_cursor")
        if not args.all or cursor is None:
            break

    print("events=%d" % count)
    req.close()
    context.term()
    return status


if __name__ == "__main__":
    sys.exit(main())
