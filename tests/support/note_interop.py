#!/usr/bin/python3
"""C2SP signed notes with PyNaCl, written from c2sp.org/signed-note alone:
test_signer's independent implementation.

  note_interop.py verify VERIFIER_KEY NOTE_FILE
      exit 0 and print the key id (8 hex digits, computed here) when the
      note carries a valid Ed25519 signature of that key; exit 1 otherwise
  note_interop.py sign NAME TEXT_FILE NOTE_FILE
      sign the text with a new key, write the note, print the verifier key
"""

import base64
import hashlib
import sys

import nacl.exceptions
import nacl.signing

DASH = "\u2014 "


def key_id(name, public_key):
    return hashlib.sha256(name.encode() + b"\n\x01" + public_key).digest()[:4]


def verify(verifier_key, note_path):
    name, stated_id, key_text = verifier_key.split("+", 2)
    key = base64.b64decode(key_text, validate=True)
    if len(key) != 33 or key[0] != 1:
        return 1
    public_key = key[1:]
    kid = key_id(name, public_key)
    if kid.hex() != stated_id:
        return 1
    note = open(note_path, "rb").read().decode("utf-8")
    text, sep, signatures = note.rpartition("\n\n")
    if not sep or not signatures.endswith("\n"):
        return 1
    text += "\n"
    verified = False
    for line in signatures[:-1].split("\n"):
        if not line.startswith(DASH):
            return 1
        line_name, signature_text = line[len(DASH):].split(" ")
        signature = base64.b64decode(signature_text, validate=True)
        if line_name != name or signature[:4] != kid:
            continue
        try:
            nacl.signing.VerifyKey(public_key).verify(text.encode(), signature[4:])
        except nacl.exceptions.BadSignatureError:
            return 1
        verified = True
    if not verified:
        return 1
    print(kid.hex())
    return 0


def sign(name, text_path, note_path):
    text = open(text_path, "rb").read()
    signing_key = nacl.signing.SigningKey.generate()
    public_key = bytes(signing_key.verify_key)
    kid = key_id(name, public_key)
    signature = signing_key.sign(text).signature
    line = DASH + name + " " + base64.b64encode(kid + signature).decode() + "\n"
    with open(note_path, "wb") as note:
        note.write(text + b"\n" + line.encode())
    print(name + "+" + kid.hex() + "+" + base64.b64encode(b"\x01" + public_key).decode())
    return 0


if __name__ == "__main__":
    if sys.argv[1] == "verify":
        sys.exit(verify(sys.argv[2], sys.argv[3]))
    sys.exit(sign(sys.argv[2], sys.argv[3], sys.argv[4]))
