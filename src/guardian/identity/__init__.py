"""Identity: principals, passwords, TOTP, and the signed session tokens people carry."""
