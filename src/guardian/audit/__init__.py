"""The audit trail itself, pure: the event model and its vocabulary, the hash chain, signed
checkpoints, the one verifier of journal and index (:mod:`.verifier`), auditors' queries and
aggregations, retention rules. What touches files, threads and the index is
:mod:`guardian.journal`."""
