"""Reports for auditors, the DPO and customers: built from the audit trail, rendered safely."""
