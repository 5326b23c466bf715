from __future__ import annotations

from pathlib import Path
from typing import Any

from b3lake.launchers.local import LocalLauncher, glue_argv
from b3lake.storage.local import LocalStorage


def test_glue_argv_shape() -> None:
    argv = glue_argv("job", "jr_1", {"--dt": "2021-01-04", "lake": "/l"})
    assert argv[0].endswith(".py")
    assert argv[argv.index("--JOB_NAME") + 1] == "job"
    assert argv[argv.index("--JOB_RUN_ID") + 1] == "jr_1"
    assert argv[-4:] == ["--dt", "2021-01-04", "--lake", "/l"]


def test_runs_are_recorded_with_arguments_and_state(tmp_path: Path) -> None:
    seen: list[list[str]] = []

    def job(argv: list[str]) -> dict[str, Any]:
        seen.append(argv)
        if "--fail" in argv:
            raise ValueError("boom")
        return {"rows": 3}

    launcher = LocalLauncher(
        LocalStorage(tmp_path), job_main=job, default_arguments={"--lake": "/l"}
    )
    ok = launcher.start_job_run(JobName="refine", Arguments={"--dt": "2021-01-04"})["JobRunId"]
    bad = launcher.start_job_run(JobName="refine", Arguments={"--fail": "1"})["JobRunId"]
    runs = {r.id: r for r in launcher.list_runs("refine")}
    assert runs[ok].state == "SUCCEEDED" and runs[ok].summary == {"rows": 3}
    assert runs[ok].arguments == {"--lake": "/l", "--dt": "2021-01-04"}
    assert runs[bad].state == "FAILED" and runs[bad].error == "ValueError: boom"
    assert runs[ok].started_on and runs[ok].completed_on
    assert "--lake" in seen[0] and "--dt" in seen[0]
