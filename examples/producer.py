#!/usr/bin/python3
"""A producer that loses nothing, written from the wire contract alone
(proto/PROTOCOL.md, "Publishing" and "Acknowledgements"): pyzmq and msgpack.

It publishes --count user_login events on a PUB socket, each with its
producer_id and seq, says hello on a DEALER socket to the ack endpoint,
and resends (the same bytes) every event above the acknowledged seq that
is not acknowledged within the retry interval. It prints each rejection
and, at the end, one line: acked, stored, rejected. With --bad-every N,
every Nth event leaves out actor_id, to show a rejection come back.

With CURVE ("Transport security"): --server-key is the service's public key
(40 Z85 characters, or its public certificate file) and --cert this
producer's certificate from `auditctl keygen --producer P` (the public
file; its _secret beside it); --producer must then be the certificate's.

    /usr/bin/python3 examples/producer.py --count 100 --bad-every 10
    /usr/bin/python3 examples/producer.py --producer P --server-key keys/server.cert \
        --cert keys/P.cert
"""
import argparse
import datetime
import os
import sys
import time
import uuid

import msgpack
import zmq
import zmq.auth

RETRY_S = 1.0               # resend what is not acknowledged after this


def event(producer, org, seq, bad):
    now = datetime.datetime.now(datetime.timezone.utc)
    body = {"v": 1, "event_id": str(uuid.uuid4()), "event_type": "user_login",
            "timestamp": now.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "org_id": org, "actor_id": "admin-1",
            "producer_id": producer, "seq": seq}
    if bad:
        del body["actor_id"]                # rejected: missing_field, actor_id
    return msgpack.packb(body)


def hello(dealer, producer):
    # Never block: a DEALER with no connection (the service down, or our key
    # refused at the handshake) would wait forever; the loop says hello again
    try:
        dealer.send(msgpack.packb({"v": 1, "op": "hello", "producer_id": producer}), zmq.NOBLOCK)
    except zmq.Again:
        pass


def curve(sockets, server_key, cert):
    """Make every socket a CURVE client of server_key with the keypair of cert."""
    if os.path.exists(server_key):         # a path may be 40 characters too
        server_key = zmq.auth.load_certificate(server_key)[0].decode()
    public, secret = zmq.auth.load_certificate(cert + "_secret")
    for socket in sockets:
        socket.curve_serverkey = server_key.encode()
        socket.curve_publickey = public
        socket.curve_secretkey = secret


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint", default="tcp://127.0.0.1:5570")
    parser.add_argument("--ack-endpoint", default="tcp://127.0.0.1:5572")
    parser.add_argument("--producer", default="example-%d" % os.getpid())
    parser.add_argument("--org", default="org-example")
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--bad-every", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=30.0)
    parser.add_argument("--server-key", help="CURVE: the service's public key or certificate")
    parser.add_argument("--cert", help="CURVE: this producer's certificate (public file)")
    args = parser.parse_args()

    context = zmq.Context()
    pub = context.socket(zmq.PUB)
    dealer = context.socket(zmq.DEALER)
    dealer.setsockopt(zmq.LINGER, 0)
    if args.server_key:
        curve([pub, dealer], args.server_key, args.cert)
    pub.connect(args.endpoint)
    dealer.connect(args.ack_endpoint)

    # Held until acknowledged: seq -> the exact bytes, resent as they are
    pending = {seq: event(args.producer, args.org, seq, args.bad_every and seq % args.bad_every == 0)
               for seq in range(1, args.count + 1)}
    acked, rejected = 0, {}     # a resent bad event is rejected again: by seq
    hello(dealer, args.producer)
    for seq in sorted(pending):
        pub.send_multipart([b"audit", pending[seq]])
    sent_at = time.monotonic()
    deadline = sent_at + args.timeout

    while acked < args.count and time.monotonic() < deadline:
        if dealer.poll(100):
            ack = msgpack.unpackb(dealer.recv(), raw=False)
            if ack.get("op") != "ack" or ack.get("producer_id") != args.producer:
                continue
            acked = max(acked, ack["seq"])
            for entry in ack["rejected"]:
                if entry["seq"] in rejected:
                    continue
                rejected[entry["seq"]] = entry
                print("rejected seq=%d event_id=%s reason=%s field=%s"
                      % (entry["seq"], entry["event_id"], entry["reason"], entry["field"]))
            for seq in [seq for seq in pending if seq <= acked]:
                del pending[seq]
            sent_at = time.monotonic()      # heard from the service
        elif time.monotonic() - sent_at > RETRY_S:
            # Heard nothing for a while: hello again, resend what is above the ack
            hello(dealer, args.producer)
            for seq in sorted(pending):
                pub.send_multipart([b"audit", pending[seq]])
            sent_at = time.monotonic()

    print("acked=%d stored=%d rejected=%d" % (acked, acked - len(rejected), len(rejected)))
    pub.close(linger=0)
    dealer.close()
    context.term()
    return 0 if acked == args.count else 1


if __name__ == "__main__":
    sys.exit(main())
