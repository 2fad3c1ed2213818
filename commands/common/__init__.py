"""Helpers several command families share and none owns; below every family, importing none."""
