"""HTTP front-ends: thin translators between wire formats and the upload core."""
