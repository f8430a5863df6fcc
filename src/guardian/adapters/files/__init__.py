"""Files Guardian reads and writes: the policy, the directory file, key files, snapshots."""
