//! Categories 2, 5, 6 and 10: generic assignments behind prefixes, `$` anchors at the end of a line, Terraform plans and diffs, weak but real passwords.
