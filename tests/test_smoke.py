"""Smoke: the session server answers and the course mains run."""
from conftest import run_script


def test_0_main_seeds(course_db):
    """0-main.py prints what the course's does."""
    lines = course_db.stdout.splitlines()
    assert lines[:2] == ["connection successful",
                         "Table user_data created successfully"]


def test_1_main_prints_six(course_db):
    """1-main.py prints six users."""
    assert len(run_script("1-main.py").stdout.splitlines()) == 6
