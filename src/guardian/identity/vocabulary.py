"""Closed vocabularies of identities: kinds of people and how they authenticated."""

from __future__ import annotations

from enum import StrEnum


class EmployeeType(StrEnum):
    EMPLOYEE = "employee"
    CONTRACTOR = "contractor"


class AuthMethod(StrEnum):
    """Authentication method references (RFC 8176 values) carried in session tokens."""

    PASSWORD = "pwd"  # noqa: S105 - a method name, not a secret
    OTP = "otp"
    HARDWARE_KEY = "hwk"
    RECOVERY_CODE = "rcc"
    """A one-time recovery code stood in for the authenticator (not an RFC 8176 value)."""
