"""The command line: one command per file, each a thin wrapper over a plain function."""
