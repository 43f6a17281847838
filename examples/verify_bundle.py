#!/usr/bin/python3
"""An offline verifier of an audit export and its proof bundle, written from
proto/PROTOCOL.md alone ("The organisation's log" and "The proof bundle of an
export"): Python's standard library and PyNaCl (Debian's python3-nacl).

  verify_bundle.py EXPORT BUNDLE VERIFIER_KEY

EXPORT is what `auditctl export` wrote (CSV with its header, or ndjson),
BUNDLE what `auditctl export --proof` wrote beside it, VERIFIER_KEY the
text `log_key` returns, obtained apart from the bundle. Exit 0 when every
row verifies; 1 with the first failure printed; 2 on malformed input.
"""

import base64
import bisect
import csv
import hashlib
import json
import sys

import nacl.exceptions
import nacl.signing

COLUMNS = ["timestamp", "event_type", "org_id", "actor_id", "user_id", "device_id",
           "group_id", "role", "broadcast_id", "recipient_count", "file_ref", "file_size",
           "event_id", "retention_days", "log_index"]


class Failed(Exception):
    pass


def b64(text):
    return base64.b64decode(text, validate=True)


def checkpoint_of(note, verifier_key):
    """The (origin, size, root) the note signs, if the key signed it."""
    name, stated_id, key_text = verifier_key.split("+", 2)
    key = b64(key_text)
    public_key = key[1:]
    key_id = hashlib.sha256(name.encode() + b"\n\x01" + public_key).digest()[:4]
    if len(key) != 33 or key[0] != 1 or key_id.hex() != stated_id:
        raise ValueError("not a verifier key")
    text, _, signatures = note.rpartition("\n\n")
    text += "\n"
    signed = False
    for line in signatures.splitlines():
        signer, _, signature = line[2:].partition(" ")
        signature = b64(signature)
        if line.startswith("\u2014 ") and signer == name and signature[:4] == key_id:
            try:
                nacl.signing.VerifyKey(public_key).verify(text.encode(), signature[4:])
                signed = True
            except nacl.exceptions.BadSignatureError:
                raise Failed("the checkpoint's signature does not verify")
    if not signed:
        raise Failed("the checkpoint is not signed by " + verifier_key)
    origin, size, root = text.split("\n")[:3]
    return origin, int(size), b64(root)


def leaves_of(ranges):
    indices = []
    for part in ranges.split(",") if ranges else []:
        first, _, last = part.partition("-")
        indices.extend(range(int(first), int(last or first) + 1))
    if any(b <= a for a, b in zip(indices, indices[1:])):
        raise ValueError("leaves are not ascending")
    return indices


def root_of(size, indices, leaf_hashes, subtree_hashes):
    """The walk: RFC 9162's tree over the exported leaves and the subtrees."""
    taken = iter(subtree_hashes)

    def node(first, end, low, high):
        if low == high:
            return next(taken)
        if end - first == 1:
            return leaf_hashes[low]
        k = 1 << ((end - first - 1).bit_length() - 1)
        mid = bisect.bisect_left(indices, first + k, low, high)
        left = node(first, first + k, low, mid)
        right = node(first + k, end, mid, high)
        return hashlib.sha256(b"\x01" + left + right).digest()

    root = node(0, size, 0, len(indices))
    if next(taken, None) is not None:
        raise ValueError("more subtree hashes than the tree needs")
    return root


def rows_of(path):
    """(line, columns) of each row, the formula guard undone."""
    with open(path, newline="", encoding="utf-8") as file:
        first = file.readline()
        file.seek(0)
        if first.startswith("{"):
            for line, text in enumerate(file, 1):
                event = json.loads(text)
                yield line, ["" if event.get(key) is None else str(event[key]) for key in COLUMNS]
            return
        reader = csv.reader(file)
        if next(reader) != COLUMNS:
            raise ValueError("not the export's CSV header")
        for row in reader:
            if len(row) != len(COLUMNS):
                raise ValueError("line %d: not %d fields" % (reader.line_num, len(COLUMNS)))
            yield reader.line_num, [field[1:] if field.startswith("'") else field for field in row]


def verify(export, bundle, verifier_key):
    origin, size, root = checkpoint_of(bundle["checkpoint"], verifier_key)
    org = bundle["org_id"]
    if origin != "semafore-audit/" + org or size != bundle["size"]:
        raise Failed("the checkpoint is not the bundle's organisation and size")
    indices = leaves_of(bundle["leaves"])
    hashes = b64(bundle["leaf_hashes"])
    subtrees = b64(bundle["subtree_hashes"])
    leaf_hashes = [hashes[at:at + 32] for at in range(0, len(hashes), 32)]
    if len(leaf_hashes) != len(indices) or (indices and indices[-1] >= size):
        raise ValueError("leaves and leaf_hashes do not agree")
    if root_of(size, indices, leaf_hashes, [subtrees[at:at + 32]
                                            for at in range(0, len(subtrees), 32)]) != root:
        raise Failed("the bundle does not make the signed root")
    position = {index: at for at, index in enumerate(indices)}
    seen = set()
    count = 0
    for count, (line, columns) in enumerate(rows_of(export), 1):
        index = int(columns[COLUMNS.index("log_index")])
        where = "row %d (line %d, log_index %d): " % (count, line, index)
        leaf = hashlib.sha256(b"\x00" + "\x1f".join(columns).encode()).digest()
        if columns[COLUMNS.index("org_id")] != org:
            raise Failed(where + "another organisation")
        if index not in position or index in seen:
            raise Failed(where + "not in the bundle, or a second time")
        seen.add(index)
        if leaf != leaf_hashes[position[index]]:
            raise Failed(where + "its leaf does not match the signed log")
    for index in indices:
        if index not in seen:
            raise Failed("log_index %d: in the bundle, not in the export" % index)
    return count, size


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        with open(sys.argv[2], encoding="utf-8") as file:
            bundle = json.load(file)
        if bundle.get("bundle") != "semafore-audit-proof-bundle/1":
            raise ValueError("not a proof bundle of this format")
        rows, size = verify(sys.argv[1], bundle, sys.argv[3])
    except Failed as failure:
        print("FAILED: %s" % failure)
        return 1
    except (ValueError, KeyError, TypeError, IndexError, StopIteration, OSError) as error:
        print("malformed: %s" % error, file=sys.stderr)
        return 2
    print("verified: %d rows against the checkpoint of size %d" % (rows, size))
    return 0


if __name__ == "__main__":
    sys.exit(main())
