"""What a run reports: outcomes, diffs, summaries, rule documentation and the output formats."""
