"""The audit trail's adapters, built from the audit and OpenSearch settings groups: the
checkpoint signer, the webhook witness, the file journal, the index, the shipper between them.

Nothing here connects: the index and the witness reach the network when first used.
"""

from __future__ import annotations

from guardian.adapters.files.keys import load_signer
from guardian.adapters.http.witness import HttpWitness
from guardian.adapters.opensearch.design import load_design
from guardian.audit.checkpoints import Checkpointer, CheckpointSigner
from guardian.config import Settings
from guardian.config_groups import AuditSettings, OpenSearchSettings, WitnessSettings
from guardian.journal.ship_state import load_state, state_path
from guardian.journal.shipper import Shipper, ShipperConfig
from guardian.journal.witness import WitnessConfig, WitnessSender
from guardian.journal.writer import FileJournal
from guardian.ports import AuditIndex, Clock, RetainedAuditIndex, ShippableJournal


def build_checkpoint_signer(settings: Settings) -> CheckpointSigner:
    """The one signer of checkpoints (and of anything else signed with the audit key): its own
    key outside demo mode, the key derived from the public demo secret in demo mode."""
    return load_signer(settings.audit.signing_key, settings.secret_key.get_secret_value(),
                       allow_derived=settings.demo)


def build_checkpointer(audit: AuditSettings, signer: CheckpointSigner, clock: Clock,
                       witness: WitnessSender | None = None) -> Checkpointer:
    checkpointer = Checkpointer(signer, clock.now, every_events=audit.checkpoint_every_events,
                                every_s=audit.checkpoint_every_s)
    if witness is not None:
        checkpointer.witness = witness.offer
    return checkpointer


def build_witness(witness: WitnessSettings) -> WitnessSender | None:
    """The webhook witness of checkpoints, when configured (started by the caller)."""
    if not witness.url or witness.secret is None:
        return None
    transport = HttpWitness(witness.url, witness.secret, timeout_s=witness.timeout_s)
    return WitnessSender(transport, WitnessConfig(queue=witness.queue, attempts=witness.attempts))


def open_journal(audit: AuditSettings, signer: CheckpointSigner, clock: Clock,
                 witness: WitnessSender | None = None, *, writer: str = ""
                 ) -> FileJournal:
    """The journal, sealing every group commit; it continues from the last event the index
    acknowledged (the shipper's state) if it ends before it (``chain_regressed``)."""
    shipped = load_state(state_path(audit.journal_file))
    journal = FileJournal(audit.journal_file, fsync=audit.fsync,
                          checkpointer=build_checkpointer(audit, signer, clock, witness),
                          known=(shipped.seq, shipped.hash) if shipped.seq > 0 else None,
                          writer=writer)
    if witness is not None:
        witness.durable_seq = lambda: journal.last_seq
    return journal


def writer_base(settings: Settings) -> str:
    """This server's writer id: ``GUARDIAN_WRITER_ID``, else the one kept in the data folder."""
    from guardian.adapters.files.writer_id import stable_writer_id

    return settings.writer_id or stable_writer_id(settings.data_dir)


def build_audit_index(settings: Settings) -> RetainedAuditIndex:
    """The SQLite or OpenSearch audit index; nothing connects until it is used."""
    return audit_index_of(settings.audit, settings.opensearch)


def audit_index_of(audit: AuditSettings, opensearch: OpenSearchSettings) -> RetainedAuditIndex:
    from guardian.adapters.sqlite.audit_index import SqliteAuditIndex

    design = load_design(
        audit.design_dir, prefix=opensearch.index_prefix, retention_days=audit.retention_days,
        rollover_days=audit.rollover_days, replicas=opensearch.replicas)
    if audit.index == "sqlite":
        return SqliteAuditIndex(audit.index_file, design.properties)
    from guardian.adapters.opensearch.index import OpenSearchAuditIndex, make_client

    client = make_client(
        list(opensearch.urls), username=opensearch.username, password=opensearch.password,
        ca_file=str(opensearch.ca_file) if opensearch.ca_file else None,
        verify_certs=opensearch.verify_certs,
        client_cert=str(opensearch.client_cert) if opensearch.client_cert else None,
        client_key=str(opensearch.client_key) if opensearch.client_key else None,
        timeout_s=opensearch.timeout_s)
    return OpenSearchAuditIndex(client, design, ",".join(opensearch.urls))


def build_shipper(audit: AuditSettings, journal: ShippableJournal, index: AuditIndex,
                  clock: Clock) -> Shipper:
    config = ShipperConfig(
        batch_size=audit.ship_batch_size, interval_s=audit.ship_interval_s,
        max_backoff_s=audit.ship_max_backoff_s, trim_bytes=audit.trim_bytes, fsync=audit.fsync)
    return Shipper(journal, index, state_path(audit.journal_file), config, clock.now)
