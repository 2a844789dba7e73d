"""The report's header (pytest_tinyai.run_header): the registry's git commit read from the repository's files (a
branch, packed refs, a detached HEAD, a worktree), never by running git; versions and machine from metadata."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pytest_tinyai.run_header import git_commit, run_header, versions

COMMIT = "44829bac97b24e2d462878960b0d2bf8dcc54e4b"
OTHER = "0123456789abcdef0123456789abcdef01234567"


def repository(root: Path, head: str = "ref: refs/heads/main\n") -> Path:
    """A repository's .git folder as git lays it out (no git needed), with registry/ inside the work tree."""
    git = root / ".git"
    (git / "refs" / "heads").mkdir(parents=True)
    (git / "HEAD").write_text(head)
    (root / "registry" / "folds").mkdir(parents=True)
    return git


def test_a_registry_in_a_repository_gives_the_commit_of_its_branch(tmp_path):
    git = repository(tmp_path)
    (git / "refs" / "heads" / "main").write_text(COMMIT + "\n")
    assert git_commit(tmp_path / "registry" / "folds") == COMMIT


def test_a_branch_only_in_packed_refs_is_found_there(tmp_path):
    git = repository(tmp_path)
    (git / "packed-refs").write_text(
        f"# pack-refs with: peeled fully-peeled sorted\n{OTHER} refs/heads/x\n{COMMIT} refs/heads/main\n"
    )
    assert git_commit(tmp_path / "registry") == COMMIT


def test_a_detached_head_is_the_commit(tmp_path):
    repository(tmp_path, head=COMMIT + "\n")
    assert git_commit(tmp_path / "registry") == COMMIT


def test_a_worktree_follows_its_git_file_to_its_head_and_the_shared_refs(tmp_path):
    main = repository(tmp_path / "main")
    (main / "refs" / "heads" / "report").write_text(COMMIT + "\n")
    worktree_git = main / "worktrees" / "wt"
    worktree_git.mkdir(parents=True)
    (worktree_git / "HEAD").write_text("ref: refs/heads/report\n")
    (worktree_git / "commondir").write_text("../..\n")
    (tmp_path / "wt" / "registry").mkdir(parents=True)
    (tmp_path / "wt" / ".git").write_text(f"gitdir: {worktree_git}\n")
    assert git_commit(tmp_path / "wt" / "registry") == COMMIT


@pytest.mark.parametrize(
    "head",
    [
        "ref: refs/heads/gone\n",  # a branch with no commit yet
        "ref: refs/../../../etc/passwd\n",  # a ref that leads out
        "garbage\n",
        "",
    ],
)
def test_a_head_that_names_no_commit_gives_none(tmp_path, head):
    repository(tmp_path, head=head)
    assert git_commit(tmp_path / "registry") is None


def test_a_head_that_is_a_fifo_gives_none_without_waiting_on_it(tmp_path):
    git = repository(tmp_path)
    (git / "HEAD").unlink()
    os.mkfifo(git / "HEAD")
    assert git_commit(tmp_path / "registry") is None


def test_a_repository_whose_config_would_run_a_command_runs_nothing(tmp_path):
    git = repository(tmp_path)
    (git / "refs" / "heads" / "main").write_text(COMMIT + "\n")
    canary = tmp_path / "canary"
    (git / "config").write_text(f"[core]\n\tfsmonitor = touch {canary}\n\tpager = touch {canary}\n")
    assert git_commit(tmp_path / "registry") == COMMIT
    assert not canary.exists()


def test_a_folder_in_no_repository_gives_none(tmp_path):
    (tmp_path / "registry").mkdir()
    assert git_commit(tmp_path / "registry") is None


def test_the_header_names_every_registry_with_its_commit_and_the_versions_that_ran():
    here = Path(__file__).resolve().parents[2] / "model" / "tiny" / "registry.json"
    header = run_header([here], started="now")
    assert header["registries"][0]["path"] == str(here)
    assert header["started"] == "now"
    assert {"onnx", "onnxruntime", "torch", "pytest-tinyai", "python"} <= set(header["versions"])
    assert versions()["onnxruntime"] is not None
    assert header["machine"]["cpus"] >= 1
