"""A suggestion's plain form (what the API stores and returns) is exactly its fields, as dataclasses gives them."""

from __future__ import annotations

from dataclasses import asdict


def test_the_plain_form_is_every_field_and_needs_review_in_order(shipped, test_set):
    for text in test_set.texts[:60]:
        suggestion = shipped.suggest(text)

        plain = suggestion.to_dict()

        assert plain == asdict(suggestion) | {"needs_review": suggestion.needs_review}
        assert list(plain) == [*asdict(suggestion), "needs_review"]
        assert [list(plain[h]) for h in ("category", "opd", "maladministration")] == \
            [list(asdict(suggestion)[h]) for h in ("category", "opd", "maladministration")]


def test_a_focal_point_appears_in_the_plain_form(shipped):
    from dataclasses import replace

    from triage.taxonomy import FocalPoint

    made = shipped.suggest("Pelayanan di puskesmas lambat sekali, antre dari pagi")
    suggestion = replace(made, opd=replace(made.opd, focal_point=FocalPoint(name="Ani", phone="0812", email="a@b.id")))

    plain = suggestion.to_dict()

    assert plain["opd"]["focal_point"] == {"name": "Ani", "phone": "0812", "email": "a@b.id"}
    assert plain == asdict(suggestion) | {"needs_review": suggestion.needs_review}
