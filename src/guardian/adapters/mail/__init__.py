"""Outgoing mail (the standard library's smtplib)."""
