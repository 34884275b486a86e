"""``dockfix bot run`` end to end: real git, local bare remotes, the fake GitHub."""

from __future__ import annotations

import subprocess
from pathlib import Path

from bot_helpers import TOKEN, bot, github, make_remote  # noqa: F401 (fixtures)

APP = 'FROM python:3.12-slim\nCOPY app.py /app/\nCMD ["python", "/app/app.py"]\n'
WORKER = "FROM alpine:3.20\nCOPY worker /usr/local/bin/\nCMD [\"worker\"]\n"
GOSU = (
    "FROM debian:bookworm-slim\n"
    "RUN apt-get update && apt-get install -y --no-install-recommends gosu\n"
    "COPY docker-entrypoint.sh /usr/local/bin/\n"
    'ENTRYPOINT ["docker-entrypoint.sh"]\nCMD ["app"]\n'
)
ENTRY = '#!/bin/sh\nset -e\nchown -R app /data\nexec gosu app "$@"\n'
BRANCH = "dockfix/non-root"


def writes(gh) -> list[tuple[str, str]]:
    return [(m, p) for m, p, _ in gh.requests if m != "GET"]


def test_one_pull_request_then_nothing_new(bot, github, tmp_path):
    remote = make_remote(tmp_path, "app", {"Dockerfile": APP, "app.py": "print(1)\n"})
    github.add_repo("acme/app", str(remote.bare))

    first = bot.run_repo(remote)
    assert first["status"] == "proposed", first
    assert first["_rc"] == 0
    assert len(github.pulls["acme/app"]) == 1
    pull = github.pulls["acme/app"][0]
    assert (pull["head"], pull["base"], pull["state"]) == (BRANCH, "main", "open")
    assert first["pull"].endswith("/pull/1")
    # the body is dockfix's markdown report: what, why, how to check, how to opt out
    for part in ("## Run containers as a non-root user", "DF001", "Why:", "```diff",
                 "#### Before you merge, check", "### How to opt out",
                 "docker build -f Dockerfile", "[tool.dockfix.bot]"):
        assert part in pull["body"], part
    # one commit by the bot on top of main, signed off, with the fixed file
    main = remote.sha("main")
    log = remote.log(f"{main}..{BRANCH}", "%ae%x00%an%x00%B")
    assert len(log) >= 1
    assert log[0].startswith("dockfix@users.noreply.github.com\0dockfix\0Run containers")
    body = subprocess.run(["git", "-C", str(remote.bare), "log", "-1", "--format=%B", BRANCH],
                          capture_output=True, text=True).stdout
    assert "Signed-off-by: dockfix <dockfix@users.noreply.github.com>" in body
    fixed = remote.show(BRANCH, "Dockerfile")
    assert "USER 10001:10001" in fixed and fixed.startswith("FROM python:3.12-slim\n")
    assert remote.show("main", "Dockerfile") == APP

    tip, n_requests = remote.sha(BRANCH), len(writes(github))
    second = bot.run_repo(remote)
    assert second["status"] == "unchanged", second
    assert remote.sha(BRANCH) == tip  # no new commit
    assert len(github.pulls["acme/app"]) == 1  # no new pull request
    assert len(writes(github)) == n_requests  # not even an update


def test_a_new_result_updates_the_open_pull_request(bot, github, tmp_path):
    remote = make_remote(tmp_path, "app", {"Dockerfile": APP, "app.py": "print(1)\n"})
    github.add_repo("acme/app", str(remote.bare))
    assert bot.run_repo(remote)["status"] == "proposed"
    tip = remote.sha(BRANCH)
    remote.commit({"worker/Dockerfile": WORKER, "worker/worker": "#!/bin/sh\n"})

    report = bot.run_repo(remote)
    assert report["status"] == "updated", report
    assert remote.sha(BRANCH) != tip
    assert len(github.pulls["acme/app"]) == 1
    pull = github.pulls["acme/app"][0]
    assert "worker/Dockerfile" in pull["body"]
    assert "USER 10001:10001" in remote.show(BRANCH, "worker/Dockerfile")
    # the branch is one bot commit on the new main: the old one was replaced
    assert remote.log(f"main..{BRANCH}", "%ae") == ["dockfix@users.noreply.github.com"]


def test_a_maintainer_commit_on_the_branch_survives(bot, github, tmp_path):
    remote = make_remote(tmp_path, "app", {"Dockerfile": APP, "app.py": "print(1)\n"})
    github.add_repo("acme/app", str(remote.bare))
    assert bot.run_repo(remote)["status"] == "proposed"
    theirs = remote.commit({"NOTES.md": "reviewed\n"}, "maintainer's note", branch=BRANCH)
    remote.commit({"worker/Dockerfile": WORKER, "worker/worker": "#!/bin/sh\n"})

    report = bot.run_repo(remote)
    assert report["status"] == "blocked", report
    assert "maintainer@example.com" in report["message"]
    assert remote.sha(BRANCH) == theirs  # not overwritten
    comments = github.comments[("acme/app", 1)]
    assert len(comments) == 1 and "did not push" in comments[0]
    assert "worker/Dockerfile" in comments[0]

    again = bot.run_repo(remote)
    assert again["status"] == "blocked"
    assert remote.sha(BRANCH) == theirs
    assert len(github.comments[("acme/app", 1)]) == 1  # said once per result


def test_a_closed_pull_request_is_never_reopened(bot, github, tmp_path):
    remote = make_remote(tmp_path, "app", {"Dockerfile": APP, "app.py": "print(1)\n"})
    github.add_repo("acme/app", str(remote.bare))
    assert bot.run_repo(remote)["status"] == "proposed"
    github.close("acme/app", 1, merged=False)
    tip = remote.sha(BRANCH)
    remote.commit({"worker/Dockerfile": WORKER, "worker/worker": "#!/bin/sh\n"})

    report = bot.run_repo(remote)
    assert report["status"] == "opted-out", report
    assert "#1" in report["message"] and "closed without merging" in report["message"]
    assert remote.sha(BRANCH) == tip
    assert [p["state"] for p in github.pulls["acme/app"]] == ["closed"]
    assert not any(m == "PATCH" for m, _ in writes(github))


def test_a_merged_pull_request_is_not_an_opt_out(bot, github, tmp_path):
    remote = make_remote(tmp_path, "app", {"Dockerfile": APP, "app.py": "print(1)\n"})
    github.add_repo("acme/app", str(remote.bare))
    assert bot.run_repo(remote)["status"] == "proposed"
    remote.commit({"Dockerfile": remote.show(BRANCH, "Dockerfile")}, "merge the bot's change")
    github.close("acme/app", 1, merged=True)
    assert bot.run_repo(remote)["status"] == "nothing-to-do"
    remote.commit({"worker/Dockerfile": WORKER, "worker/worker": "#!/bin/sh\n"})
    report = bot.run_repo(remote)
    assert report["status"] == "proposed", report
    assert len(github.pulls["acme/app"]) == 2


def test_a_repository_that_opts_out_gets_nothing(bot, github, tmp_path):
    pyproject = '[project]\nname = "x"\n\n[tool.dockfix.bot]\nenabled = false\n'
    remote = make_remote(tmp_path, "app", {"Dockerfile": APP, "pyproject.toml": pyproject})
    github.add_repo("acme/app", str(remote.bare))
    report = bot.run_repo(remote)
    assert report["status"] == "opted-out", report
    assert "pyproject.toml" in report["message"] and "enabled = false" in report["message"]
    assert remote.sha(BRANCH) is None
    assert github.pulls["acme/app"] == [] and writes(github) == []


def test_the_repository_config_and_pragmas_are_used(bot, github, tmp_path):
    remote = make_remote(tmp_path, "app", {
        "Dockerfile": APP, ".dockfix.toml": "uid = 4242\ngid = 4242\n\n[bot]\nenabled = true\n",
        "skip/Dockerfile": "# dockfix: ignore-file=DF001\n" + APP,
    })
    github.add_repo("acme/app", str(remote.bare))
    report = bot.run_repo(remote)
    assert report["status"] == "proposed", report
    assert "USER 4242:4242" in remote.show(BRANCH, "Dockerfile")
    assert remote.show(BRANCH, "skip/Dockerfile") == "# dockfix: ignore-file=DF001\n" + APP


def test_declined_images_get_no_pull_request_and_the_report_says_why(bot, github, tmp_path):
    remote = make_remote(tmp_path, "db", {"Dockerfile": GOSU, "docker-entrypoint.sh": ENTRY})
    github.add_repo("acme/db", str(remote.bare))
    report = bot.run_repo(remote, "acme/db")
    assert report["status"] == "declined", report
    assert report["_rc"] == 0
    assert "Dockerfile" in report["message"] and "gosu" in report["message"]
    assert report["files"][0]["status"] == "declined"
    assert remote.sha(BRANCH) is None
    assert github.pulls["acme/db"] == [] and writes(github) == []
    text = bot.run("run", str(remote.bare), "--github-repo", "acme/db", "--api-url", github.url)
    assert text.returncode == 0
    assert text.stdout.startswith("acme/db: declined: no pull request: dockfix declined")


def test_archived_and_forked_repositories_are_skipped(bot, github, tmp_path):
    remote = make_remote(tmp_path, "app", {"Dockerfile": APP})
    github.add_repo("acme/old", str(remote.bare), archived=True)
    github.add_repo("acme/copy", str(remote.bare), fork=True)
    assert bot.run_repo(remote, "acme/old")["message"] == "the repository is archived"
    assert bot.run_repo(remote, "acme/copy")["message"] == "the repository is a fork"
    assert remote.sha(BRANCH) is None and writes(github) == []


def test_base_and_branch_options(bot, github, tmp_path):
    remote = make_remote(tmp_path, "app", {"Dockerfile": "FROM alpine:3.20\n"})
    remote.commit({"Dockerfile": APP, "app.py": "x\n"}, branch="release")
    github.add_repo("acme/app", str(remote.bare))
    report = bot.run_repo(remote, "acme/app", "--base", "release", "--branch", "bot/nonroot",
                          "--author", "Build Bot <bot@example.com>")
    assert report["status"] == "proposed", report
    pull = github.pulls["acme/app"][0]
    assert (pull["head"], pull["base"]) == ("bot/nonroot", "release")
    assert remote.log("release..bot/nonroot", "%an <%ae>") == ["Build Bot <bot@example.com>"]


def test_dry_run_writes_the_pull_request_and_calls_nothing(bot, github, tmp_path):
    remote = make_remote(tmp_path, "app", {"Dockerfile": APP, "app.py": "print(1)\n",
                                           "sub/Containerfile": WORKER})
    out = tmp_path / "out"
    proc = bot.run("run", str(remote.bare), "--dry-run", str(out), env={"GITHUB_TOKEN": None})
    assert proc.returncode == 0, proc.stderr
    assert github.requests == [] and remote.sha(BRANCH) is None
    md, diff = sorted(out.glob("*.md")), sorted(out.glob("*.diff"))
    assert len(md) == 1 and len(diff) == 1
    text = md[0].read_text()
    assert text.startswith("# Run containers as a non-root user\n")
    assert "sub/Containerfile" in text
    # the change applies at the repository's root
    subprocess.run(["git", "-C", str(remote.clone), "apply", str(diff[0])], check=True)
    assert "USER 10001:10001" in (remote.clone / "Dockerfile").read_text()
    assert "USER 10001:10001" in (remote.clone / "sub/Containerfile").read_text()

    quiet = make_remote(tmp_path, "quiet", {"Dockerfile": "FROM alpine\nUSER 1000\n"})
    empty = tmp_path / "empty"
    proc = bot.run("run", str(quiet.bare), "--dry-run", str(empty))
    assert proc.returncode == 0 and "nothing-to-do" in proc.stdout
    assert not empty.exists() or list(empty.iterdir()) == []


def test_usage_errors_are_one_line(bot, github, tmp_path):
    remote = make_remote(tmp_path, "app", {"Dockerfile": APP})
    no_slug = bot.run("run", str(remote.bare), "--api-url", github.url)
    assert no_slug.returncode == 1
    assert no_slug.stderr.strip().endswith("give --github-repo OWNER/NAME (or use --dry-run DIR)")
    no_token = bot.run("run", str(remote.bare), "--github-repo", "acme/app",
                       "--api-url", github.url, env={"GITHUB_TOKEN": None})
    assert "no GitHub token" in no_token.stderr and no_token.returncode == 1
    bad_author = bot.run("run", str(remote.bare), "--author", "nobody")
    assert bad_author.returncode == 2
    assert bad_author.stderr == "dockfix bot: error: --author: expected 'Name <email>', got 'nobody'\n"
    for proc in (no_slug, no_token, bad_author):
        assert len(proc.stderr.strip().splitlines()) == 1
        assert "Traceback" not in proc.stderr


def test_a_bad_token_is_a_one_line_error_without_the_token(bot, github, tmp_path):
    remote = make_remote(tmp_path, "app", {"Dockerfile": APP})
    github.add_repo("acme/app", str(remote.bare))
    wrong = TOKEN[:-4] + "beef"
    report = bot.run_repo(remote, env={"GITHUB_TOKEN": wrong})
    assert report["status"] == "error" and report["_rc"] == 1
    assert "HTTP 401" in report["message"]
    assert wrong not in "".join(bot.outputs)


def test_the_token_reaches_git_only_through_the_environment(tmp_path):
    from rewriter.bot.git import Git

    g = Git(str(tmp_path), "https://github.com/acme/app.git", TOKEN)
    assert not any(TOKEN in a for a in g._config())
    env = g.env()
    assert TOKEN not in " ".join(env.values())  # only its base64 Basic form, scoped to the URL
    assert env["GIT_CONFIG_KEY_0"] == "http.https://github.com/acme/app.git.extraHeader"
    local = Git(str(tmp_path), str(tmp_path / "x.git"), TOKEN)
    assert "GIT_CONFIG_KEY_0" not in local.env()  # a local remote gets no token at all


def test_the_readme_commands_are_real(bot):
    proc = bot.run("run", "--help")
    assert proc.returncode == 0
    for option in ("--base", "--branch", "--dry-run", "--github-repo", "--token-file"):
        assert option in proc.stdout
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    assert "dockfix bot run" in readme


def test_a_base_branch_that_does_not_exist(bot, github, tmp_path):
    remote = make_remote(tmp_path, "app", {"Dockerfile": APP})
    proc = bot.run("run", str(remote.bare), "--base", "nope", "--dry-run", str(tmp_path / "o"))
    assert proc.returncode == 1 and len(proc.stderr.splitlines()) == 1
    assert "git clone failed" in proc.stderr and "nope" in proc.stderr


def test_the_command_accepts_the_bot_table(tmp_path):
    import sys

    (tmp_path / ".dockfix.toml").write_text("uid = 4242\n\n[bot]\nenabled = false\n")
    (tmp_path / "pyproject.toml").write_text("[tool.dockfix.bot]\nenabled = false\n")
    (tmp_path / "Dockerfile").write_text(APP)
    proc = subprocess.run([sys.executable, "-m", "rewriter", "Dockerfile"], cwd=tmp_path,
                          capture_output=True, text=True,
                          env={**__import__("os").environ,
                               "PYTHONPATH": str(Path(__file__).parents[2])})
    assert proc.returncode == 0, proc.stderr
    assert "USER 4242:10001" in proc.stdout
