"""Model artifacts: hashing into OMS manifests, signing, unsafe-serialization scanning, model cards.

Pure domain code: it reads files and returns values; it never touches the store or the ledger.
"""
