"""Probe designs shipped with the package (the NTISTP reference: ``ntistp.toml``)."""
