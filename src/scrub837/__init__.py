"""scrub837: pre-scrub X12 837 claim files for injectable-drug (J-code) edits.

The core is pure: bytes -> segments -> claims -> findings -> outputs. See docs/concepts.md.
"""

from scrub837.api import X12ReadError, iter_items, read_claims
from scrub837.claims.model import Claim, Diagnosis, Drug, Envelope, HlBlock, ServiceLine
from scrub837.findings import Finding, Location, Severity, Stc
from scrub837.claims.reader import EnvelopeProblem, ReadFailure, TransactionEnd

__version__ = "0.1.0"

__all__ = [
    "Claim",
    "Diagnosis",
    "Drug",
    "Envelope",
    "EnvelopeProblem",
    "Finding",
    "HlBlock",
    "Location",
    "ReadFailure",
    "ServiceLine",
    "Severity",
    "Stc",
    "TransactionEnd",
    "X12ReadError",
    "iter_items",
    "read_claims",
]
