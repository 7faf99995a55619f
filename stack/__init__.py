"""The stack around the database: configuration (settings), what `make run` starts (run), system packages (system)."""
