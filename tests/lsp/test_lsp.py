"""``dockfix lsp`` through the protocol: the real server as a subprocess,
driven by pytest-lsp's client.

What the server says is checked against what the command says for the same
file (``dockfix --output-format json``), and every edit it sends is applied
here with the protocol's own rules (UTF-16 positions), then compared with
``dockfix -``.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import attrs
import pytest
from conftest import REPO, missing, run_dockfix

pytest.importorskip("pygls", reason="the 'lsp' extra is not installed")
pytest_lsp = pytest.importorskip("pytest_lsp")

from lsprotocol import types as t  # noqa: E402
from pygls.exceptions import JsonRpcRequestCancelled  # noqa: E402
from pytest_lsp import ClientServerConfig, LanguageClient  # noqa: E402

ROOT_DF = 'FROM python:3.12-slim\nRUN pip install app\nCMD ["app"]\n'
GOSU_DF = 'FROM postgres:16\nENTRYPOINT ["gosu", "postgres"]\n'
#: findings on lines with characters outside ASCII and outside the BMP
UNICODE_DF = ('FROM debian:12\nLABEL x="\U0001f433"\n'
              'RUN echo "\U0001f433 caf\u00e9" && sudo apt-get install -y curl\n'
              'EXPOSE 80\nUSER 1000\nCMD ["app"]\n')
UNTERMINATED = "FROM alpine\nRUN <<EOF\necho hi\n"

SERVER = [sys.executable, "-m", "rewriter", "lsp"]
#: the same server, with a rule (DF008) that raises on files that say "boom"
CRASHING = [sys.executable, "-c", (
    "import rewriter\n"
    "from rewriter.core.rules import REGISTRY\n"
    "rule = REGISTRY.find('DF008')\n"
    "real = rule.check\n"
    "def check(ctx):\n"
    "    if 'boom' in ctx.df.source.text:\n"
    "        raise RuntimeError('a rule exploded')\n"
    "    return real(ctx)\n"
    "object.__setattr__(rule, 'check', check)\n"
    "import sys\n"
    "from rewriter.cli.main import main\n"
    "sys.exit(main(['lsp']))\n"
)]

pytestmark = pytest.mark.asyncio

PULL = t.ClientCapabilities(
    text_document=t.TextDocumentClientCapabilities(
        diagnostic=t.DiagnosticClientCapabilities(dynamic_registration=False)),
    workspace=t.WorkspaceClientCapabilities(configuration=True),
)
PUSH = t.ClientCapabilities(workspace=t.WorkspaceClientCapabilities(configuration=True))


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir()  # no configuration above it is found
    return tmp_path


async def start(client: LanguageClient, capabilities: t.ClientCapabilities, root: Path | None,
                options: dict[str, Any] | None = None, encodings: list[str] | None = None
                ) -> t.InitializeResult:
    if encodings is not None:  # a copy: PUSH and PULL are shared
        capabilities = attrs.evolve(capabilities, general=t.GeneralClientCapabilities(
            position_encodings=encodings))
    return await client.initialize_session(t.InitializeParams(
        capabilities=capabilities, root_uri=root.as_uri() if root else None,
        initialization_options=options))


def _read_code_actions_right(client: LanguageClient) -> None:
    """lsprotocol reads any code action with a ``command`` as a ``Command``;
    a client tells them apart by the type of ``command``, as the protocol says."""
    from typing import Union

    converter = client.protocol._converter

    def hook(obj: Any, _: Any) -> Any:
        kind = t.Command if isinstance(obj.get("command"), str) else t.CodeAction
        return converter.structure(obj, kind)

    converter.register_structure_hook(Union[t.Command, t.CodeAction], hook)


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER))
async def client(lsp_client: LanguageClient):
    _read_code_actions_right(lsp_client)
    yield
    await stop(lsp_client)


@pytest_lsp.fixture(config=ClientServerConfig(server_command=CRASHING))
async def crashing(lsp_client: LanguageClient):
    yield
    await stop(lsp_client)


async def stop(client: LanguageClient) -> None:
    if client.capabilities is not None:  # initialized
        await asyncio.wait_for(client.shutdown_session(), 30)


def open_doc(client: LanguageClient, path: Path, text: str, version: int = 1) -> str:
    uri = path.as_uri()
    client.diagnostics.pop(uri, None)  # armed: pushed() waits for the next ones
    client.text_document_did_open(t.DidOpenTextDocumentParams(
        t.TextDocumentItem(uri=uri, language_id="dockerfile", version=version, text=text)))
    return uri


def arm(client: LanguageClient, uri: str) -> None:
    """Forget the diagnostics of ``uri``, so ``pushed`` waits for new ones (call it
    before the notification that makes the server publish)."""
    client.diagnostics.pop(uri, None)


async def pushed(client: LanguageClient, uri: str, timeout: float = 30) -> list[t.Diagnostic]:
    """The diagnostics published for ``uri`` since ``arm`` (or ``open_doc``)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while uri not in client.diagnostics:
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"no diagnostics for {uri}")
        await asyncio.sleep(0.01)
    diagnostics = list(client.diagnostics[uri])
    arm(client, uri)
    return diagnostics


async def published(client: LanguageClient, uri: str, timeout: float) -> list[t.Diagnostic]:
    """The next publication for ``uri``, by the notification itself (counts each)."""
    async def wait() -> list[t.Diagnostic]:
        while True:
            params = await client.wait_for_notification(t.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
            if params.uri == uri:
                return list(params.diagnostics)
    return await asyncio.wait_for(wait(), timeout)


def utf16_offset(text: str, line: int, character: int) -> int:
    """The offset of a protocol position counted in UTF-16 (the test's own reading)."""
    lines = text.splitlines(keepends=True)
    start = sum(len(ln) for ln in lines[:line])
    content = lines[line].rstrip("\r\n") if line < len(lines) else ""
    units = content.encode("utf-16-le")[: 2 * character].decode("utf-16-le")
    return start + len(units)


def apply(text: str, edits: list[t.TextEdit]) -> str:
    """``edits`` applied to ``text`` as a client applies them."""
    spans = [(utf16_offset(text, e.range.start.line, e.range.start.character),
              utf16_offset(text, e.range.end.line, e.range.end.character), e.new_text)
             for e in edits]
    for start, end, new in sorted(spans, reverse=True):
        text = text[:start] + new + text[end:]
    return text


def command_json(project: Path, name: str, text: str, *args: str) -> dict[str, Any]:
    proc = run_dockfix(*args, "--output-format", "json", "--stdin-filename", name, "-",
                       cwd=project, input=text.encode())
    assert proc.returncode in (0, 1), proc.stderr
    return json.loads(proc.stdout)["files"][0]


def command_fix(project: Path, name: str, text: str) -> str:
    proc = run_dockfix("--stdin-filename", name, "-", cwd=project, input=text.encode())
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.decode()


# --- diagnostics ----------------------------------------------------------------


async def test_push_diagnostics_match_the_command(client: LanguageClient, project: Path):
    await start(client, PUSH, project)
    path = project / "Dockerfile"
    path.write_text(ROOT_DF)
    uri = open_doc(client, path, ROOT_DF)
    diagnostics = await pushed(client, uri)
    expected = command_json(project, "Dockerfile", ROOT_DF)
    assert [(d.code, d.range.start.line + 1, d.range.start.character + 1,
             d.range.end.line + 1, d.range.end.character + 1) for d in diagnostics] == [
        (f["code"], f["span"]["start"]["line"], f["span"]["start"]["column"],
         f["span"]["end"]["line"], f["span"]["end"]["column"]) for f in expected["findings"]]
    d = diagnostics[0]
    assert (d.source, d.severity) == ("dockfix", t.DiagnosticSeverity.Warning)
    doc = Path(d.code_description.href.removeprefix("file://"))
    assert doc.read_text().startswith(f"# {d.code} ")


async def test_pull_diagnostics(client: LanguageClient, project: Path):
    result = await start(client, PULL, project)
    assert result.capabilities.diagnostic_provider is not None
    uri = open_doc(client, project / "Dockerfile", ROOT_DF)
    report = await client.text_document_diagnostic_async(
        t.DocumentDiagnosticParams(t.TextDocumentIdentifier(uri)))
    assert [d.code for d in report.items] == ["DF001"]
    await asyncio.sleep(0.3)
    assert uri not in client.diagnostics  # a client that pulls is not pushed to as well


async def test_declines_are_information(client: LanguageClient, project: Path):
    await start(client, PUSH, project)
    uri = open_doc(client, project / "Dockerfile", GOSU_DF)
    diagnostics = await pushed(client, uri)
    expected = command_json(project, "Dockerfile", GOSU_DF)
    reasons = [d["reason"] for d in expected["declines"] if not d["informational"]]
    assert [d.code for d in diagnostics] == reasons
    assert {d.severity for d in diagnostics} == {t.DiagnosticSeverity.Information}


async def test_parse_error_is_an_error_on_its_line(client: LanguageClient, project: Path):
    await start(client, PUSH, project)
    uri = open_doc(client, project / "Dockerfile", UNTERMINATED)
    [d] = await pushed(client, uri)
    assert d.severity == t.DiagnosticSeverity.Error
    assert (d.range.start.line, d.message) == (1, "line 2: unterminated heredoc")


@pytest.mark.parametrize(("encoding", "end"), [("utf-16", 50), ("utf-8", 53), ("utf-32", 49)])
async def test_positions_in_the_negotiated_encoding(client: LanguageClient, project: Path,
                                                    encoding: str, end: int):
    result = await start(client, PUSH, project, encodings=[encoding])
    assert result.capabilities.position_encoding == encoding
    uri = open_doc(client, project / "Dockerfile", UNICODE_DF)
    by_code = {d.code: d.range for d in await pushed(client, uri)}
    assert by_code["DF008"] == t.Range(t.Position(2, 0), t.Position(2, end))
    assert by_code["DF006"] == t.Range(t.Position(3, 0), t.Position(3, 9))


async def test_incremental_changes_with_non_ascii_text(client: LanguageClient, project: Path):
    await start(client, PUSH, project)
    uri = open_doc(client, project / "Dockerfile", UNICODE_DF)
    await pushed(client, uri)
    # Replace "80" on line 3, then insert text after the whale on line 2 (UTF-16: the
    # whale is two units), as incremental edits.
    changes = [
        t.TextDocumentContentChangePartial(
            range=t.Range(t.Position(3, 7), t.Position(3, 9)), text="8080"),
        t.TextDocumentContentChangePartial(
            range=t.Range(t.Position(2, 12), t.Position(2, 12)), text="!"),
    ]
    arm(client, uri)
    client.text_document_did_change(t.DidChangeTextDocumentParams(
        t.VersionedTextDocumentIdentifier(uri=uri, version=2), changes))
    diagnostics = await pushed(client, uri)
    assert "DF006" not in {d.code for d in diagnostics}  # 8080 needs no root
    report = await client.text_document_hover_async(t.HoverParams(
        t.TextDocumentIdentifier(uri), t.Position(2, 51)))
    assert report is not None and "DF008" in report.contents.value
    text = UNICODE_DF.replace("EXPOSE 80", "EXPOSE 8080").replace(
        "\U0001f433 caf", "\U0001f433! caf")
    assert [d.range.end.character for d in diagnostics if d.code == "DF008"] == [
        len(text.splitlines()[2].encode("utf-16-le")) // 2]


async def test_debounce_publishes_once_for_a_burst(client: LanguageClient, project: Path):
    await start(client, PUSH, project, {"debounceMs": 200})
    uri = open_doc(client, project / "Dockerfile", ROOT_DF)
    await pushed(client, uri)
    for version in range(2, 12):
        client.text_document_did_change(t.DidChangeTextDocumentParams(
            t.VersionedTextDocumentIdentifier(uri=uri, version=version),
            [t.TextDocumentContentChangePartial(
                range=t.Range(t.Position(1, 19), t.Position(1, 19)), text="x")]))
    counted: list[Any] = []
    try:
        while True:
            counted.append(await published(client, uri, timeout=1.5))
    except asyncio.TimeoutError:
        pass
    assert len(counted) == 1


# --- code actions -----------------------------------------------------------------


async def code_actions(client: LanguageClient, uri: str, rng: t.Range,
                       only: list[str] | None = None,
                       diagnostics: list[t.Diagnostic] | None = None) -> list[t.CodeAction]:
    return await client.text_document_code_action_async(t.CodeActionParams(
        t.TextDocumentIdentifier(uri), rng, t.CodeActionContext(diagnostics or [], only=only)))


WHOLE = t.Range(t.Position(0, 0), t.Position(100, 0))


async def test_quick_fix_and_fix_all_give_what_the_command_gives(client: LanguageClient,
                                                                project: Path):
    await start(client, PUSH, project)
    text = UNICODE_DF.replace("EXPOSE 80\n", "") + ""
    text = "FROM python:3.12-slim\n# caf\u00e9 \U0001f433\nRUN pip install app\nCMD [\"app\"]\n"
    uri = open_doc(client, project / "Dockerfile", text)
    [diagnostic] = await pushed(client, uri)
    actions = await code_actions(client, uri, diagnostic.range, [t.CodeActionKind.QuickFix],
                                 [diagnostic])
    [fix] = actions
    assert fix.is_preferred and "unsafe" not in fix.title
    fixed = apply(text, fix.edit.changes[uri])
    assert fixed == command_fix(project, "Dockerfile", text)
    [fix_all] = await code_actions(client, uri, WHOLE, ["source.fixAll"])
    assert fix_all.kind == "source.fixAll.dockfix"
    assert apply(text, fix_all.edit.changes[uri]) == fixed


async def test_unsafe_fix_is_labelled_and_not_in_fix_all(client: LanguageClient, project: Path):
    await start(client, PUSH, project)
    rules = json.loads(run_dockfix("rules", "--output-format", "json", cwd=project).stdout)
    unsafe = [r["code"] for r in rules if r["applicability"] == "unsafe"]
    # a named USER whose uid the file states: DF007's fix is unsafe
    text = 'FROM python:3.12-slim\nRUN useradd --uid 10001 app\nUSER app\nCMD ["app"]\n'
    uri = open_doc(client, project / "Dockerfile", text)
    diagnostics = await pushed(client, uri)
    actions = await code_actions(client, uri, WHOLE, None, diagnostics)
    quick = [a for a in actions if a.kind == t.CodeActionKind.QuickFix and a.edit]
    found = {a.diagnostics[0].code: a for a in quick}
    assert set(found) & set(unsafe), (found.keys(), unsafe)
    for code, action in found.items():
        assert ("unsafe" in action.title) == (code in unsafe)
        assert bool(action.is_preferred) == (code not in unsafe)
    fix_all = [a for a in actions if a.kind == "source.fixAll.dockfix"]
    safe_fixed = command_fix(project, "Dockerfile", text)
    if safe_fixed == text:
        assert fix_all == []
    else:
        assert apply(text, fix_all[0].edit.changes[uri]) == safe_fixed


async def test_explain_a_decline(client: LanguageClient, project: Path):
    await start(client, PUSH, project)
    uri = open_doc(client, project / "Dockerfile", GOSU_DF)
    [diagnostic] = await pushed(client, uri)
    actions = await code_actions(client, uri, diagnostic.range, None, [diagnostic])
    [explain] = [a for a in actions if a.command and a.command.command == "dockfix.explain"]
    text = await client.workspace_execute_command_async(t.ExecuteCommandParams(
        explain.command.command, explain.command.arguments))
    assert text.startswith(f"dockfix declined ({diagnostic.code}): ")
    assert "line: " in text
    await asyncio.sleep(0.1)
    assert client.messages[-1].message == text


async def test_hover_shows_the_rule_doc(client: LanguageClient, project: Path):
    await start(client, PUSH, project)
    uri = open_doc(client, project / "Dockerfile", ROOT_DF)
    [diagnostic] = await pushed(client, uri)
    hover = await client.text_document_hover_async(t.HoverParams(
        t.TextDocumentIdentifier(uri), diagnostic.range.start))
    doc = run_dockfix("rule", diagnostic.code, cwd=project).stdout.decode()
    assert doc.strip() in hover.contents.value
    nothing = await client.text_document_hover_async(t.HoverParams(
        t.TextDocumentIdentifier(uri), t.Position(0, 0)))
    assert nothing is None or diagnostic.range.start.line == 0


# --- configuration and build context --------------------------------------------------


async def test_config_file_and_editor_settings(client: LanguageClient, project: Path):
    (project / ".dockfix.toml").write_text("uid = 4242\n")
    client.set_configuration({"uid": 5151}, section="dockfix")
    await start(client, PUSH, project)
    uri = open_doc(client, project / "Dockerfile", ROOT_DF)
    [diagnostic] = await pushed(client, uri)
    [fix] = await code_actions(client, uri, diagnostic.range, [t.CodeActionKind.QuickFix])
    assert "USER 5151:" in apply(ROOT_DF, fix.edit.changes[uri])  # the editor wins
    client.set_configuration({}, section="dockfix")
    arm(client, uri)
    client.workspace_did_change_configuration(t.DidChangeConfigurationParams(settings=None))
    await pushed(client, uri)
    [fix] = await code_actions(client, uri, diagnostic.range, [t.CodeActionKind.QuickFix])
    fixed = apply(ROOT_DF, fix.edit.changes[uri])
    assert "USER 4242:" in fixed  # the file, as the command reads it
    assert fixed == command_fix(project, "Dockerfile", ROOT_DF)


async def test_initialization_options_and_bad_settings(client: LanguageClient, project: Path):
    await start(client, PUSH, project, {"settings": {"ignore": ["DF001"]}})
    uri = open_doc(client, project / "Dockerfile", ROOT_DF)
    assert await pushed(client, uri) == []
    arm(client, uri)
    client.workspace_did_change_configuration(t.DidChangeConfigurationParams(
        settings={"dockfix": {"uid": 0}}))
    [d] = await pushed(client, uri)
    assert d.severity == t.DiagnosticSeverity.Error
    assert d.message.startswith("dockfix: editor settings: uid: ")


async def test_build_context_sees_unsaved_buffers(client: LanguageClient, project: Path):
    """A decline that reads a file beside the Dockerfile reads the open buffer."""
    await start(client, PUSH, project)
    text = ('FROM python:3.12-slim\nCOPY entrypoint.sh /\nENTRYPOINT ["/entrypoint.sh"]\n'
            'CMD ["app"]\n')
    (project / "entrypoint.sh").write_text("#!/bin/sh\nexec \"$@\"\n")
    (project / "Dockerfile").write_text(text)
    on_disk = command_json(project, "Dockerfile", text)
    uri = open_doc(client, project / "Dockerfile", text)
    first = await pushed(client, uri)
    assert [d.code for d in first] == [f["code"] for f in on_disk["findings"]] + [
        d["reason"] for d in on_disk["declines"] if not d["informational"]]
    script = "#!/bin/sh\nexec gosu app \"$@\"\n"
    open_doc(client, project / "entrypoint.sh", script)
    (project / "other").mkdir()
    (project / "other" / "Dockerfile").write_text(text)
    (project / "other" / "entrypoint.sh").write_text(script)
    gosu = command_json(project / "other", "Dockerfile", text)
    arm(client, uri)
    client.text_document_did_save(t.DidSaveTextDocumentParams(t.TextDocumentIdentifier(uri)))
    second = await pushed(client, uri)
    assert [d.code for d in second] == [f["code"] for f in gosu["findings"]] + [
        d["reason"] for d in gosu["declines"] if not d["informational"]]


# --- robustness -------------------------------------------------------------------------


async def test_cancelled_request_is_answered_as_cancelled(client: LanguageClient, project: Path):
    await start(client, PULL, project)
    big = "FROM debian:12\n" + "".join(f"RUN echo {i} && sudo true\n" for i in range(3000))
    uri = open_doc(client, project / "Dockerfile", big)
    future = asyncio.wrap_future(client.protocol.send_request(
        t.TEXT_DOCUMENT_DIAGNOSTIC, t.DocumentDiagnosticParams(t.TextDocumentIdentifier(uri)),
        msg_id="slow-1"))
    client.protocol.notify(t.CANCEL_REQUEST, t.CancelParams(id="slow-1"))
    with pytest.raises(JsonRpcRequestCancelled):
        await asyncio.wait_for(future, 5)
    report = await client.text_document_diagnostic_async(
        t.DocumentDiagnosticParams(t.TextDocumentIdentifier(uri)))
    assert report.items  # the server is fine, and answers the next request


async def test_a_rule_that_raises_does_not_stop_the_server(crashing: LanguageClient,
                                                          project: Path):
    client = crashing
    await start(client, PUSH, project)
    uri = open_doc(client, project / "Dockerfile", ROOT_DF + "LABEL x=boom\n")
    [d] = await pushed(client, uri)
    assert d.severity == t.DiagnosticSeverity.Error
    assert d.message.startswith("dockfix: internal error: RuntimeError: a rule exploded")
    await asyncio.sleep(0.1)
    assert any("Traceback" in m.message for m in client.log_messages)
    other = open_doc(client, project / "b.Dockerfile", ROOT_DF)
    assert [x.code for x in await pushed(client, other)] == ["DF001"]


@pytest.mark.filterwarnings("ignore:.*marked with '@pytest.mark.asyncio'")
def test_lsp_help_and_bad_arguments(tmp_path: Path):
    proc = run_dockfix("lsp", "--help", cwd=tmp_path)
    assert proc.returncode == 0 and b"dockfix lsp" in proc.stdout
    proc = run_dockfix("lsp", "--tcp", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.decode().startswith("dockfix: error: lsp: unexpected argument")
    assert str(REPO)  # the server runs from this checkout (conftest)


# --- pull diagnostics: result ids ---------------------------------------------------


async def pull(client: LanguageClient, uri: str, previous: str | None = None) -> Any:
    return await client.text_document_diagnostic_async(t.DocumentDiagnosticParams(
        t.TextDocumentIdentifier(uri), previous_result_id=previous))


async def test_pull_diagnostics_unchanged_since_the_last_result(client: LanguageClient,
                                                                project: Path):
    await start(client, PULL, project)
    uri = open_doc(client, project / "Dockerfile", ROOT_DF)
    first = await pull(client, uri)
    assert first.kind == "full" and first.result_id
    assert [d.code for d in first.items] == ["DF001"]
    await asyncio.sleep(0.6)  # the whole fix loop has run meanwhile: it found nothing more
    again = await pull(client, uri, first.result_id)
    assert again.kind == "unchanged" and again.result_id == first.result_id
    assert (await pull(client, uri, "an id it never gave")).kind == "full"
    # a change: a full report with a new id, then unchanged again
    client.text_document_did_change(t.DidChangeTextDocumentParams(
        t.VersionedTextDocumentIdentifier(uri=uri, version=2),
        [t.TextDocumentContentChangePartial(range=t.Range(t.Position(2, 0), t.Position(2, 0)),
                                            text="USER 10001:10001\n")]))
    changed = await pull(client, uri, first.result_id)
    assert changed.kind == "full" and changed.result_id != first.result_id
    assert list(changed.items) == []
    assert (await pull(client, uri, changed.result_id)).kind == "unchanged"
    # a save may change the files around it: a full report, whatever it holds
    client.text_document_did_save(t.DidSaveTextDocumentParams(t.TextDocumentIdentifier(uri)))
    saved = await pull(client, uri, changed.result_id)
    assert saved.kind == "full" and saved.result_id != changed.result_id


# --- files changed on disk ------------------------------------------------------------


WATCHING = attrs.evolve(PUSH, workspace=t.WorkspaceClientCapabilities(
    configuration=True, did_change_watched_files=t.DidChangeWatchedFilesClientCapabilities(
        dynamic_registration=True)))


async def test_watched_files_refresh_the_build_context(client: LanguageClient, project: Path):
    """The build context is kept between changes, and read again when the client
    says a file changed on disk (the server asks to watch every file)."""
    registered: list[t.RegistrationParams] = []

    @client.feature(t.CLIENT_REGISTER_CAPABILITY)
    def register(params: t.RegistrationParams) -> None:
        registered.append(params)

    await start(client, WATCHING, project)
    text = ('FROM python:3.12-slim\nCOPY entrypoint.sh /\nENTRYPOINT ["/entrypoint.sh"]\n'
            'CMD ["app"]\n')
    (project / "entrypoint.sh").write_text("#!/bin/sh\nexec \"$@\"\n")
    (project / "Dockerfile").write_text(text)
    uri = open_doc(client, project / "Dockerfile", text)
    before = [d.code for d in await pushed(client, uri)]
    assert before == [f["code"] for f in command_json(project, "Dockerfile", text)["findings"]]
    [registration] = [r for params in registered for r in params.registrations]
    assert registration.method == t.WORKSPACE_DID_CHANGE_WATCHED_FILES
    (project / "entrypoint.sh").write_text("#!/bin/sh\nexec gosu app \"$@\"\n")
    expected = command_json(project, "Dockerfile", text)
    arm(client, uri)
    client.workspace_did_change_watched_files(t.DidChangeWatchedFilesParams([t.FileEvent(
        uri=(project / "entrypoint.sh").as_uri(), type=t.FileChangeType.Changed)]))
    after = [d.code for d in await pushed(client, uri)]
    assert after == [f["code"] for f in expected["findings"]] + [
        d["reason"] for d in expected["declines"] if not d["informational"]]
    assert after != before


# --- the Celery rules -----------------------------------------------------------------


CELERY_CORPUS = REPO.parent / "shared" / "corpus-celery"
#: real files that configure or start Celery: a fixture of the rules, and files of
#: public projects from ../shared/corpus-celery (copied to a temporary directory)
CELERY_FILES = [
    REPO / "tests" / "fixtures" / "python" / "insecure_serializer" / "celeryconfig.before.py",
    CELERY_CORPUS / "files" / "agdsn__pycroft__hades_logs__app.py",
    CELERY_CORPUS / "files" / "barrycarey__RedditRepostSleuth__redditrepostsleuth__core__celery"
                             "__celeryconfig.py",
    CELERY_CORPUS / "runtime" / "pypi__warehouse__docker-compose.yml",
    CELERY_CORPUS / "runtime" / "mozilla__treeherder__docker-compose.yml",
]


@pytest.mark.parametrize("source", CELERY_FILES, ids=lambda p: p.name)
async def test_celery_files_get_diagnostics_and_fixes(client: LanguageClient, project: Path,
                                                      source: Path):
    """A Python file that configures Celery, or a compose file that starts a worker:
    the diagnostics, quick fixes and "fix all" of a Dockerfile, from the same rules
    as the command (DFC00x)."""
    if not source.is_file():
        missing(f"{source.name}: ../shared/corpus-celery is not here")
    name = source.name.split("__")[-1].replace(".before", "")
    text = source.read_text(encoding="utf-8")
    path = project / name
    path.write_text(text, encoding="utf-8")
    await start(client, PUSH, project)
    uri = path.as_uri()
    arm(client, uri)
    client.text_document_did_open(t.DidOpenTextDocumentParams(t.TextDocumentItem(
        uri=uri, language_id="python" if name.endswith(".py") else "yaml", version=1,
        text=text)))
    diagnostics = await pushed(client, uri)
    expected = command_json(project, name, text)
    assert expected["findings"], "a file with findings"
    assert all(f["code"].startswith("DFC") for f in expected["findings"])
    assert [(d.code, d.range.start.line + 1, d.range.start.character + 1)
            for d in diagnostics if d.code.startswith("DFC")] == [
        (f["code"], f["span"]["start"]["line"], f["span"]["start"]["column"])
        for f in expected["findings"]]
    everything = t.Range(t.Position(0, 0), t.Position(len(text.splitlines()) + 1, 0))
    actions = await code_actions(client, uri, everything, None, diagnostics)
    quick = [a for a in actions if a.kind == t.CodeActionKind.QuickFix and a.edit]
    by_code = {f["code"]: f["fix"]["applicability"] for f in expected["findings"]
               if f["fix"] and f["fix"]["edits"] and f["fix"]["applicability"] != "display-only"}
    assert {a.diagnostics[0].code for a in quick} == set(by_code)
    for action in quick:
        unsafe = by_code[action.diagnostics[0].code] != "safe"
        assert ("unsafe" in action.title) == unsafe and bool(action.is_preferred) != unsafe
    fix_all = [a for a in actions if a.kind == "source.fixAll.dockfix"]
    fixed = command_fix(project, name, text)
    if fixed == text:
        assert fix_all == []
    else:
        assert apply(text, fix_all[0].edit.changes[uri]) == fixed
