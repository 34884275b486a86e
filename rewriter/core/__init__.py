"""The pure core: source text, edits, the fix engine and settings."""
