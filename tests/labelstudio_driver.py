"""Drives a Label Studio server with label-studio-sdk; run by tests/test_labelstudio.py with
the Python of the Label Studio virtual environment (its packages clash with ours).

    python labelstudio_driver.py URL TOKEN CONFIG.xml TASKS.json ANNOTATIONS.json OUT.json

Creates a project with the labelling config, imports the tasks (with their predictions),
submits the annotations through the API (ANNOTATIONS.json maps a task's ``data.id`` to
``{"result": [...], "was_cancelled": bool}``; a task not named gets none) and writes the
project's JSON export to OUT.json.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from label_studio_sdk import LabelStudio


def main(url: str, token: str, config: str, tasks: str, annotations: str, out: str) -> None:
    ls = LabelStudio(base_url=url, api_key=token)
    project = ls.projects.create(title="propscope round trip",
                                 label_config=Path(config).read_text(encoding="utf-8"))
    ls.projects.import_tasks(id=project.id,
                             request=json.loads(Path(tasks).read_text(encoding="utf-8")))
    wanted = json.loads(Path(annotations).read_text(encoding="utf-8"))
    for task in ls.tasks.list(project=project.id):
        ann = wanted.get(str(task.data.get("id")))
        if ann is not None:
            ls.annotations.create(id=task.id, result=ann["result"],
                                  was_cancelled=ann.get("was_cancelled", False))
    chunks = ls.projects.exports.download_sync(project.id, export_type="JSON",
                                               download_all_tasks=True)
    Path(out).write_bytes(b"".join(chunks))


if __name__ == "__main__":
    main(*sys.argv[1:7])
