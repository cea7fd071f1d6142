"""Issue 18's contract on the real exports: every disposed row's body is a body of its pemda's SOTK file.

Reads only the body column of ``../shared/corpora`` (never the complaint texts); skips cleanly without it.
"""

from __future__ import annotations

import pytest

from triage.realdata import EMPTY_BODY, SOURCES, read_source
from triage.sotk import load_sotk


@pytest.mark.parametrize("name", ["surabaya", "kab_bandung", "samarinda"])
def test_every_disposed_row_maps_onto_a_body_of_the_sotk(name, shared_dir):
    sotk = load_sotk(name)
    frame = read_source(SOURCES[name].path(shared_dir), SOURCES[name])
    bodies = frame.loc[frame.body != EMPTY_BODY, "body"].value_counts()
    missing = {body: int(rows) for body, rows in bodies.items() if sotk.body_of_name(body) is None}
    covered = int(bodies.sum()) - sum(missing.values())
    print(f"{name}: {covered}/{int(bodies.sum())} disposed rows ({len(bodies)} bodies) map onto "
          f"{len({sotk.body_of_name(b) for b in bodies.index} - {None})} bodies of the SOTK; unmapped: {missing}")
    assert missing == {}
