from __future__ import annotations

from git_poison_lsp.settings import Settings


def test_defaults_are_no_code_lens_and_errors_only():
    s = Settings()
    assert (s.code_lens, s.show_notifications) == (False, "onError")
    assert s.shows(ok=False) and not s.shows(ok=True)


def test_settings_are_read_bare_or_under_the_git_poison_section():
    s = Settings()
    s.update({"codeLens": True})
    assert s.code_lens
    s.update({"gitPoison": {"codeLens": False, "showNotifications": "always"}})
    assert (s.code_lens, s.show_notifications) == (False, "always")
    assert s.shows(ok=True) and s.shows(ok=False)
    s.update({"showNotifications": "off"})
    assert not s.shows(ok=True) and not s.shows(ok=False)


def test_bad_values_keep_what_was_set():
    s = Settings()
    for junk in (None, [], "codeLens", {"codeLens": "yes", "showNotifications": "loud"}):
        s.update(junk)
    assert (s.code_lens, s.show_notifications) == (False, "onError")
