"""Outputs: the 277CA, the JSON and HTML reports, the accepted/rejected 837 split."""
