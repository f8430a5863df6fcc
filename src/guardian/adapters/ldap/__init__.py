"""The LDAP directory (ldap3): connections and the directory adapter."""
