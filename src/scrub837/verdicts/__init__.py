"""Findings -> verdicts: each claim's and transaction's result (``results``), read and checked
one transaction at a time (``transactions``), large transactions spooled to disk (``spool``),
and the TA1 decision for an interchange (``interchange``). Pure apart from the spool's file."""
