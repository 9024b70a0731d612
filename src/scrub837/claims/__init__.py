"""Segments -> claims: the 837 loops read into claim values (``model``), built from their
segments (``_build``) by a streaming reader (``reader``); ``extract`` turns drug lines into
plain records. ``from scrub837.claims import Claim`` keeps working for plugins."""

from scrub837.claims.model import (
    Claim,
    Diagnosis,
    Drug,
    Envelope,
    HlBlock,
    ServiceLine,
    TransactionHeader,
)

__all__ = ["Claim", "Diagnosis", "Drug", "Envelope", "HlBlock", "ServiceLine", "TransactionHeader"]
