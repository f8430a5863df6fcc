"""casbin, as the reference engine Guardian's index is checked against."""
