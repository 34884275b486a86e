"""File input and output shared by every front end: configuration lookup (and, as
they arrive, discovery, safe reading, atomic writes and the build context)."""
