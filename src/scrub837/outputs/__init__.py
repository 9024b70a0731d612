"""Outputs: the 277CA, the JSON and HTML reports, the accepted/rejected 837 split."""

#: bytes per read when ``--jobs`` parts are joined (memory stays flat whatever their size)
COPY_CHUNK = 1 << 18
