"""Security keys (py_webauthn): the relying party."""
