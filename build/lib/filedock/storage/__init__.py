"""Storage backends: they hold bytes only; upload state lives in SQL."""
