"""Hypothesis's example budgets: today's counts in `make test`, a tenth in `make test-fast`.

`make test-fast` loads the "fast" profile (--hypothesis-profile=fast). A test that names its own
count writes it as `examples(300)`: the count for the default profile's 100 examples, scaled to
the profile in use, so the full tier runs what it always ran.
"""

from __future__ import annotations

from hypothesis import settings

FULL = 100  # the default profile's max_examples, which the counts written in tests are for

settings.register_profile("fast", max_examples=FULL // 10, deadline=None)


def examples(full: int) -> int:
    """`full` examples under the default profile; as many fewer as the profile in use has (at least 5)."""
    return max(5, full * settings.default.max_examples // FULL)
