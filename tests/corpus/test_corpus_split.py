"""The stable object split: about a fifth of the subjects go to eval, variants stay together."""

from __future__ import annotations

from trainers.corpus.split import EVAL_FRACTION, object_fold, subject_key


def test_variants_of_a_subject_share_a_key() -> None:
    assert subject_key("animals/frog.png") == subject_key("animals/amphibians/frog-1.png") == "frog"
    assert subject_key("people/fireman200b.png") == subject_key("military/fireman240a.png")
    assert subject_key("bovines/gnu-baby.png") == subject_key("bovines/gnu-stand.png")


def test_stamp_without_letters_keeps_its_stem() -> None:
    assert subject_key("planes/747.png") == "747"


def test_fold_depends_only_on_the_subject() -> None:
    assert object_fold("a/frog.png") == object_fold("b/frog-2.png") == object_fold("a/frog.png")


def test_about_a_fifth_of_subjects_go_to_eval() -> None:
    folds = [object_fold(f"stamps/subject{chr(97 + i % 26)}{chr(97 + i // 26 % 26)}x.png") for i in range(676)]
    share = folds.count("eval") / len(folds)
    assert abs(share - EVAL_FRACTION) < 0.05
    assert set(folds) == {"train", "eval"}
