"""Our checkov custom checks, one per file: each delegates to one rule of the catalogue."""
