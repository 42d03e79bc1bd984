"""The upload core: no web framework here, only domain rules over SQL and storage."""
