"""File input and output shared by every front end: ``files`` (discovery, safe
reading and decoding, atomic writes), ``config`` (parsing and merging
configuration), ``configs`` (finding it, once per directory) and ``context``
(the build context, read-only)."""
