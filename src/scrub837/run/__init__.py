"""Running files: the pipeline that writes every output of one input atomically
(``pipeline``), IG validation through pyx12 (``validation``), ``--jobs`` over files and over the
parts of one large file (``parallel``, ``parts``), and process settings (``_runtime``). The
edge between the pure core and the filesystem."""
