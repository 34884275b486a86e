"""The dockfix command: argument parsing and the runner that drives a batch of files."""
