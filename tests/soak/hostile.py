#!/usr/bin/python3
"""hostile.py - the hostile clients of issue 12's acceptance (items 1, 2),
for tests/soak/hostile-soak.sh. Debian's python3-zmq only: MessagePack and
the HS256 token are written here by hand, for the few shapes needed.

  hostile.py mqflood ENDPOINT COUNT BYTES       COUNT mq messages of BYTES payload
  hostile.py seed ENDPOINT COUNT ORG            COUNT user_login events of ORG
  hostile.py frames ENDPOINT FRAMES BYTES KIND  one message of FRAMES frames (KIND pub|dealer)
  hostile.py exports QUERY SECRET ORG COUNT HOLD_S   COUNT exports, never read
  hostile.py hog QUERY SECRET OUTSTANDING SECONDS    one DEALER keeps OUTSTANDING stats
                                                     requests in flight; another client's
                                                     health latencies meanwhile
  hostile.py conns ENDPOINT COUNT HOLD_S        COUNT connections held (DEALERs)
  hostile.py health ENDPOINT COUNT              latencies of COUNT health calls
Figures go to stdout as one "soak: name=value ..." line.
"""
import base64, hashlib, hmac, json, os, struct, sys, threading, time, uuid
import zmq


def pack(value):
    """MessagePack of str, bytes, int >= 0 and dict (what requests need)"""
    if isinstance(value, dict):
        out = bytes([0x80 | len(value)]) if len(value) < 16 else b"\xde" + struct.pack(">H", len(value))
        for key, item in value.items():
            out += pack(key) + pack(item)
        return out
    if isinstance(value, str):
        data = value.encode()
        if len(data) < 32:
            return bytes([0xa0 | len(data)]) + data
        return b"\xd9" + bytes([len(data)]) + data if len(data) < 256 else b"\xda" + struct.pack(">H", len(data)) + data
    if isinstance(value, bytes):
        return b"\xc6" + struct.pack(">I", len(value)) + value
    if isinstance(value, int):
        return bytes([value]) if value < 128 else b"\xcf" + struct.pack(">Q", value)
    raise TypeError(value)


def now_text():
    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + ".%03dZ" % int(now % 1 * 1000)


def token(secret, role, org=None):
    def b64(data):
        return base64.urlsafe_b64encode(data).rstrip(b"=")
    now = int(time.time())
    claims = {"sub": "soak", "role": role, "aud": "semafore-audit", "iat": now, "exp": now + 3600}
    if org:
        claims["org"] = org
    head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode()) + b"." + b64(json.dumps(claims).encode())
    return (head + b"." + b64(hmac.new(secret.encode(), head, hashlib.sha256).digest())).decode()


def code_of(reply):
    """'' for ok: true, else the error code (found as text: enough here)"""
    if reply[1:4] == b"\xa2ok" and reply[4:5] == b"\xc3":
        return ""
    for code in (b"unavailable", b"too_large", b"unauthenticated", b"internal", b"bad_request"):
        if code in reply:
            return code.decode()
    return "other"


def publisher(endpoint):
    sock = zmq.Context.instance().socket(zmq.PUB)
    sock.sndhwm = 0
    sock.connect(endpoint)
    time.sleep(0.5)             # the subscription travels back
    return sock


def mqflood(endpoint, count, size):
    sock = publisher(endpoint)
    payload = os.urandom(int(size))
    started = time.time()
    for _ in range(int(count)):
        body = {"v": 1, "message_id": str(uuid.uuid4()), "org_id": "org-soak", "device_id": "phone-1",
                "timestamp": now_text(), "payload": payload}
        sock.send_multipart([b"mq", pack(body)])
    print("soak: mq_sent=%s mq_bytes=%d send_s=%.1f" % (count, int(count) * int(size), time.time() - started))
    sock.close(linger=-1)
    zmq.Context.instance().term()     # returns once every message went out
    print("soak: mq_delivered_s=%.1f" % (time.time() - started))


def seed(endpoint, count, org):
    sock = publisher(endpoint)
    for index in range(int(count)):
        body = {"v": 1, "event_id": str(uuid.uuid4()), "event_type": "user_login", "timestamp": now_text(),
                "org_id": org, "actor_id": "user-%d" % (index % 100), "device_id": "device-1"}
        sock.send_multipart([b"audit", pack(body)])
    sock.close(linger=-1)
    zmq.Context.instance().term()


def frames(endpoint, count, size, kind):
    sock = zmq.Context.instance().socket(zmq.PUB if kind == "pub" else zmq.DEALER)
    sock.sndhwm = 0
    sock.connect(endpoint)
    time.sleep(0.5)
    data = os.urandom(int(size))
    head = [b"audit"] if kind == "pub" else [b""]
    sock.send_multipart(head + [data] * int(count))
    time.sleep(3)
    sock.close(linger=0)


def dealer(endpoint):
    sock = zmq.Context.instance().socket(zmq.DEALER)
    sock.sndhwm = 0
    sock.connect(endpoint)
    return sock


def exports(endpoint, secret, org, count, hold):
    sock = dealer(endpoint)
    sock.rcvhwm = 1
    request = pack({"v": 1, "op": "export", "token": token(secret, "org_admin", org), "org_id": org,
                    "limit": 50000})
    for _ in range(int(count)):
        sock.send_multipart([b"", request])
    time.sleep(float(hold))
    sock.close(linger=0)


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))] if ordered else float("nan")


def health(endpoint, count, out=None, stop=None):
    sock = zmq.Context.instance().socket(zmq.REQ)
    sock.rcvtimeo = 10000
    sock.connect(endpoint)
    request = pack({"v": 1, "op": "health"})
    latencies, failed = [], 0
    for _ in range(int(count)):
        if stop and stop.is_set():
            break
        started = time.perf_counter()
        sock.send(request)
        try:
            failed += code_of(sock.recv()) != ""
        except zmq.Again:
            failed += 1
            sock.close(linger=0)
            sock = zmq.Context.instance().socket(zmq.REQ)
            sock.rcvtimeo = 10000
            sock.connect(endpoint)
        latencies.append((time.perf_counter() - started) * 1000)
        time.sleep(0.005)
    sock.close(linger=0)
    figures = (len(latencies), failed, percentile(latencies, 0.5), percentile(latencies, 0.99), max(latencies or [0]))
    if out is not None:
        out.extend(figures)
    else:
        print("soak: health_calls=%d health_failed=%d health_p50_ms=%.2f health_p99_ms=%.2f health_max_ms=%.2f" % figures)


def hog(endpoint, secret, outstanding, seconds):
    sock = dealer(endpoint)
    request = pack({"v": 1, "op": "stats", "token": token(secret, "platform_ops")})
    stop, figures = threading.Event(), []
    other = threading.Thread(target=health, args=(endpoint, 100000, figures, stop))
    in_flight, sent, codes = 0, 0, {}
    deadline = time.time() + float(seconds)
    other.start()
    while time.time() < deadline:
        while in_flight < int(outstanding):
            sock.send_multipart([b"", request])
            in_flight += 1
            sent += 1
        if sock.poll(100):
            while sock.poll(0):
                code = code_of(sock.recv_multipart()[-1])
                codes[code] = codes.get(code, 0) + 1
                in_flight -= 1
    stop.set()
    other.join()
    print("soak: hog_sent=%d hog_ok=%d hog_unavailable=%d health_calls=%d health_failed=%d"
          " health_p50_ms=%.2f health_p99_ms=%.2f health_max_ms=%.2f"
          % ((sent, codes.get("", 0), codes.get("unavailable", 0)) + tuple(figures)))
    sock.close(linger=0)


def conns(endpoint, count, hold):
    context = zmq.Context()
    context.set(zmq.MAX_SOCKETS, int(count) + 16)
    socks = [context.socket(zmq.DEALER) for _ in range(int(count))]
    for sock in socks:
        sock.connect(endpoint)
    time.sleep(float(hold))
    for sock in socks:
        sock.close(linger=0)
    context.term()


if __name__ == "__main__":
    globals()[sys.argv[1]](*sys.argv[2:])
