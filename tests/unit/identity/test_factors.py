"""Second factors from several sources: the first seed found wins, and a security key alone
counts as a second factor."""

from __future__ import annotations

from guardian.identity.factors import LayeredMfaSecrets, has_second_factor


class Seeds:
    def __init__(self, **seeds: str) -> None:
        self.seeds = seeds
        self.asked: list[str] = []

    def totp_secret(self, uid: str) -> str | None:
        self.asked.append(uid)
        return self.seeds.get(uid)


class Keys:
    def __init__(self, *uids: str) -> None:
        self.uids = set(uids)

    def has_credentials(self, uid: str) -> bool:
        return uid in self.uids


def test_the_store_seed_comes_before_the_directory_seed() -> None:
    store, directory = Seeds(alice="STORE"), Seeds(alice="FILE", bob="FILE-BOB")
    layered = LayeredMfaSecrets(store, directory)

    assert layered.totp_secret("alice") == "STORE"
    assert directory.asked == []
    assert layered.totp_secret("bob") == "FILE-BOB"
    assert layered.totp_secret("carol") is None


def test_a_seed_or_a_security_key_is_a_second_factor() -> None:
    seeds = Seeds(alice="S")

    assert has_second_factor(seeds, None, "alice")
    assert not has_second_factor(seeds, None, "bob")
    assert has_second_factor(seeds, Keys("bob"), "bob")  # type: ignore[arg-type]
    assert not has_second_factor(seeds, Keys("bob"), "carol")  # type: ignore[arg-type]
