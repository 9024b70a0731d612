"""The drop-folder watcher (``watcher.Watcher``) and its private parts: readiness of an upload
(``_ready``), tickets for byte-identical re-scrubs (``_ticket``), answers (``_answer``), the
index of what was seen (``_index``), filesystem steps (``_fs``), clean-up (``_clean``) and
signals (``_signals``). Imported only by ``scrub837 watch``."""
