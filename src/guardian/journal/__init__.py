"""The audit trail's runtime: the journal file and its writer, recovery on opening, alarms,
the shipper and its state, the witness, and verification of the journal and the index.

The pure trail (event model, chain, checkpoints, the verifier) is :mod:`guardian.audit`;
this package holds what touches files, threads and the index.
"""
