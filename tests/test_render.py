"""The renderer's wording on hand-made findings and reports: no git is needed, these
are pure functions of the data, so every sentence is tested in milliseconds. The end to
end tests (test_text_output, test_hook*, test_lsp*) show the faces print them."""

from __future__ import annotations

from poison_tools import edit_render, editor_render, push_render, render
from poison_tools.blame import PoisonedRun
from poison_tools.check import POISONED, UNDECIDED, CheckReport, CureElsewhere, Evidence, Finding
from poison_tools.edits import Edit
from poison_tools.errors import RemoteUnreachable
from poison_tools.prepush import Policy, PushedRef, PushReport, RefOutcome
from poison_tools.records.record import Record
from poison_tools.records.store import WriteResult

POISON, CURE, TARGET = "a" * 40, "b" * 40, "c" * 40
HOSTILE = "hangs\x1b]0;t\x07 \u202eevil"


def record(**kw: object) -> Record:
    fields: dict[str, object] = {
        "id": "k3v7x2m9d0",
        "poisons": (POISON,),
        "comment": "hangs on io error",
        "bug": "JIRA-1234",
        "editor": "A <a@b>",
        "created": "2026-01-02T03:04:05Z",
    }
    fields.update(kw)
    return Record(**fields)  # type: ignore[arg-type]


def finding(rec: Record, *cures: CureElsewhere, status: str = POISONED) -> Finding:
    return Finding(rec, status, [Evidence(POISON, POISON)], [], [], list(cures))


ON_MASTER = CureElsewhere(CURE, ("refs/remotes/origin/master", "refs/heads/master"), present=True)


def test_cure_on_master_missing_here_reads_as_check_says_it():
    lines = render.finding_lines(finding(record(cures=(CURE,)), ON_MASTER))
    assert lines[0] == "✗ k3v7x2m9d0  hangs on io error [JIRA-1234]"
    assert f"    fixed on origin/master, master by {CURE[:12]}, missing here:" in lines
    assert f"      git cherry-pick -x {CURE}" in lines


def test_poison_nobody_cured_is_a_known_unfixed_bug_in_check_and_in_the_editor():
    f = finding(record())
    assert f"    {render.UNFIXED}" in render.finding_lines(f)
    run = PoisonedRun(0, 1, POISON, f, Evidence(POISON, POISON))
    assert editor_render.diagnostic_message(run).endswith(
        "\nno cure recorded yet (known unfixed bug)"
    )
    item = editor_render.finding_item(f)
    assert item["detail"] == f"poison {POISON[:12]} · no cure recorded yet (known unfixed bug)"
    assert item["cures"] == [] and "git poison show k3v7x2m9d0" in item["noCure"]


def test_headline_of_each_verdict():
    poisoned = CheckReport(TARGET, "HEAD", [finding(record())], [])
    undecided = CheckReport(TARGET, "HEAD", [finding(record(), status=UNDECIDED)], [])
    healthy = CheckReport(TARGET, "lts/2.1", [], [])
    assert render.headline(poisoned) == f"poisoned: {TARGET[:12]} (HEAD) carries 1 uncured poison"
    assert render.headline(undecided) == f"could not decide: {TARGET[:12]} (HEAD)"
    assert render.headline(healthy) == f"healthy: {TARGET[:12]} (lts/2.1) carries no uncured poison"
    assert render.check_lines(poisoned)[0] == render.headline(poisoned)


def test_colour_is_the_callers_style_and_plain_by_default():
    report = CheckReport(TARGET, "HEAD", [finding(record())], [])

    def tagged(text: str, *names: str) -> str:
        return f"<{','.join(names)}>{text}</>"

    assert (
        render.headline(report, tagged)
        == f"<red,bold>poisoned: {TARGET[:12]} (HEAD) carries 1 uncured poison</>"
    )
    assert "</>" not in "".join(render.check_lines(report))


def test_hostile_record_text_is_escaped_in_every_face():
    f = finding(record(comment=HOSTILE, bug=HOSTILE), ON_MASTER)
    run = PoisonedRun(0, 1, POISON, f, Evidence(POISON, POISON))
    shown = [
        *render.finding_lines(f),
        editor_render.diagnostic_message(run),
        *(str(v) for v in editor_render.finding_item(f).values()),
        *(str(v) for v in editor_render.record_item(f.record).values()),
        *(str(v) for v in editor_render.cure_item(f, ON_MASTER).values()),
    ]
    assert not any("\x1b" in s or "\u202e" in s or "\x07" in s for s in shown)
    assert "hangs\\x1b]0;t\\x07 \\u202eevil" in shown[0]


def test_extension_items_carry_finished_labels_and_the_ids_to_act():
    f = finding(record(comment="hangs on io error\nsecond line", cures=(CURE,)), ON_MASTER)
    item = editor_render.finding_item(f)
    assert (item["label"], item["description"], item["recordId"]) == (
        "k3v7x2m9d0",
        "JIRA-1234 · hangs on io error",
        "k3v7x2m9d0",
    )
    assert item["detail"] == (
        f"poison {POISON[:12]} · fixed on origin/master, master by {CURE[:12]}, missing here"
    )
    assert item["cures"] == [
        {
            "label": CURE[:12],
            "description": "cures k3v7x2m9d0 · on origin/master, master",
            "detail": "hangs on io error",
            "recordId": "k3v7x2m9d0",
            "cure": CURE,
        }
    ]
    assert editor_render.record_item(f.record) == {
        "label": "k3v7x2m9d0",
        "description": "hangs on io error",
        "detail": f"JIRA-1234 · poison {POISON[:12]}",
        "recordId": "k3v7x2m9d0",
    }


def test_check_items_say_why_there_is_no_cure_to_pick():
    healthy = CheckReport(TARGET, "HEAD", [], [])
    assert editor_render.check_items(healthy) == {
        "findings": [],
        "noCures": render.headline(healthy),
    }
    unfixed = CheckReport(TARGET, "HEAD", [finding(record())], [])
    assert editor_render.check_items(unfixed)["noCures"] == (
        "no recorded cure of these poisons exists on another branch yet"
    )


def test_quick_fix_names_a_local_branch_first_and_nothing_for_a_cure_on_no_ref():
    assert editor_render.cherry_pick_title(ON_MASTER) == f"Cherry-pick cure {CURE[:12]} from master"
    assert editor_render.cherry_pick_title(CureElsewhere(CURE, ())) is None


def test_code_lens_counts_uncured_and_undecided_records():
    decided = PoisonedRun(0, 1, POISON, finding(record()), Evidence(POISON, POISON))
    assert editor_render.code_lens_label([decided, decided]) == "1 uncured poison in this file"
    assert editor_render.code_lens_label([]) is None


def test_write_offline_is_one_sentence_for_the_cli_and_the_editor():
    unreachable = RemoteUnreachable("timed out after 10 s")
    assert edit_render.offline_line("recorded", None) is None
    assert edit_render.offline_line("recorded", unreachable) == (
        "recorded locally only: the poisons remote is unreachable (timed out after 10 s); "
        "run `git poison sync` when it is back"
    )


def test_cure_results():
    rec = record(cures=(CURE,))
    added = Edit(rec, WriteResult("d" * 40, True), added=[CURE])
    again = Edit(rec, WriteResult(None, False))
    assert edit_render.cure_line(added, [CURE]) == f"k3v7x2m9d0: cured by {CURE[:12]}"
    assert edit_render.cure_line(again, [CURE]) == f"k3v7x2m9d0: already cured by {CURE[:12]}"
    assert edit_render.implausible_line(CURE, ["it is the tip of lts"]) == (
        f"cure {CURE[:12]} may not be the fix: it is the tip of lts"
    )


def push_of(report: CheckReport, branch: str = "refs/heads/lts/2.1") -> PushReport:
    ref = PushedRef(branch, TARGET, branch, "0" * 40)
    return PushReport([RefOutcome(ref, protected=True, commit=TARGET, report=report)])


def test_push_lacking_a_cure_on_a_protected_branch_is_blocked_with_the_bypass():
    report = CheckReport(TARGET, "lts/2.1", [finding(record(cures=(CURE,)), ON_MASTER)], [])
    lines = push_render.report_lines(push_of(report), Policy(("lts/*",)), render._plain)
    assert (
        lines[0]
        == f"git-poison: lts/2.1 ({TARGET[:12]}) lacks the cure of 1 poison fixed elsewhere"
    )
    assert lines[1].startswith("✗ k3v7x2m9d0")
    assert lines[-2] == "git-poison: push blocked: lts/2.1 is protected (poison.protect = lts/*)"
    assert push_render.BYPASS in lines[-1]


def test_push_with_only_known_unfixed_bugs_goes_on_and_says_so_quietly():
    report = CheckReport(TARGET, "lts/2.1", [finding(record())], [])
    lines = push_render.report_lines(push_of(report), Policy(("lts/*",)), render._plain)
    assert lines == [
        f"git-poison: lts/2.1 ({TARGET[:12]}) carries no poison cured elsewhere; 1 known unfixed bug(s)",
        f"· k3v7x2m9d0  hangs on io error [JIRA-1234] (known unfixed bug: poison {POISON[:12]}, "
        "recorded by A <a@b>)",
    ]


def test_status_bar_counts_on_the_branch_or_the_detached_head():
    assert editor_render.status_labels("lts/2.1", TARGET, 2, 0) == {
        "label": "2 uncured",
        "tooltip": "git-poison: 2 uncured poisons on lts/2.1. Click to list them.",
    }
    assert editor_render.status_labels(None, TARGET, 0, 1)["tooltip"] == (
        f"git-poison: 1 record could not be decided on {TARGET[:12]} (missing history?). Click to check."
    )
    assert editor_render.status_labels("master", None, 0, 0) == {
        "label": "git-poison",
        "tooltip": "git-poison: no uncured poison on master",
    }


def test_push_that_cannot_be_decided_is_blocked_with_each_reason_worded_once():
    undecided = finding(record(cures=(CURE,)), status=UNDECIDED)
    report = CheckReport(TARGET, "HEAD", [undecided], [])
    push = push_of(report)
    assert push.outcomes[0].doubts == [("undecided", 1)]  # data; the words are the renderer's
    lines = push_render.report_lines(push, Policy(("lts/*",)), render._plain)
    assert lines[-2] == (
        "git-poison: push blocked: lts/2.1 is protected (poison.protect = lts/*); "
        "1 poison(s) could not be decided"
    )
