"""``dockfix lsp``: the language server, over stdin and stdout (pygls).

What it offers, each from ``rewriter.lsp.lint`` (the command's engine, config
and build context):

* diagnostics on open, change and save, pushed
  (``textDocument/publishDiagnostics``) to clients that cannot pull, and
  pulled (``textDocument/diagnostic``) by those that can (with a result id:
  an unchanged file is answered ``unchanged``), for Dockerfiles and for the
  files of the Celery rules (Python, compose files, Procfiles, units);
* code actions: one quick fix per finding that has one (an unsafe one says so
  and is never preferred), ``source.fixAll.dockfix`` with the safe fixes
  only, and "explain" on a decline, which shows its evidence;
* hover on a finding: its rule's documentation.

Settings come from the configuration files the command reads, with the
editor's on top (``initializationOptions.settings`` and the ``dockfix``
section of ``workspace/configuration``; the same keys as ``.dockfix.toml``).
The engine runs in one worker thread, so requests stay answerable and a
cancelled request is answered at once; a result for a text that has changed
since is dropped.  A rule that raises gives the file an error diagnostic and
the log a traceback; the server goes on.

Speed: a change is checked at once (no fixed wait: changes that arrive while
the engine works are taken together, and only the last text is checked), and
only checked (one parse, one pass of the rules); the whole fix loop runs when
the typing pauses (``SETTLE``) or a "fix all" is asked for.  Settings and
build contexts are kept between changes (``lint.Workspace``), and forgotten
when files change on disk (a save, ``workspace/didChangeWatchedFiles``).  The
server keeps one result per open file and nothing per version.  It shortens
the interpreter's switch interval (``SWITCH_INTERVAL``), so that pygls's reader
thread is not kept waiting while the engine's thread checks.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import os
import sys
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, BinaryIO

from lsprotocol import types as t
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.uris import to_fs_path

from rewriter import __version__
from rewriter.lsp import lint as lints
from rewriter.lsp.positions import Positions
from rewriter.report import ruledocs

SOURCE = "dockfix"
FIX_ALL = "source.fixAll.dockfix"
EXPLAIN = "dockfix.explain"
SECTION = "dockfix"  #: of ``workspace/configuration``
#: Seconds to wait after a change before checking (``initializationOptions.debounceMs``):
#: none, since changes that arrive while the engine works are coalesced anyway.
DEBOUNCE = 0.0
#: Seconds without a change before the whole fix loop runs (a refused fix is
#: reported then).
SETTLE = 0.3
#: The interpreter's switch interval while serving, in seconds (Python's is
#: 5 ms): how long a thread that wants the interpreter waits for the one that
#: holds it.  pygls reads the client on one thread and hands each header line
#: and body to the event loop on another; while the engine's thread checks a
#: text, each of those hand-overs waited up to 5 ms, and a message sent then
#: reached the event loop 9 to 14 ms late at the median and 57 to 97 ms at the
#: 95th percentile (0.5 ms: 2 to 6 ms, and 13 to 22 ms; a reader thread that
#: hands over whole messages did no better).  Only threads that wait pay for
#: switches; the engine checked as many texts a second either way.
SWITCH_INTERVAL = 0.0005
#: initializationOptions that are the server's own (the rest are settings).
SERVER_OPTIONS = ("settings", "debounceMs", "ruleDocsUrl")

_SEVERITY = {
    lints.ERROR_SEVERITY: t.DiagnosticSeverity.Error,
    lints.WARNING: t.DiagnosticSeverity.Warning,
    lints.INFORMATION: t.DiagnosticSeverity.Information,
}

log = logging.getLogger("dockfix.lsp")


class _Protocol(LanguageServerProtocol):
    """pygls's protocol, without its leak: pygls 2.1 keeps the future of every
    notification handled by a generator or a coroutine (``didOpen``,
    ``didChange``, ``didSave``, ...) in ``_request_futures`` for good, since
    only a request's response removes its entry: about 1 KiB per keystroke."""

    def _handle_notification(self, method_name: str, params: Any) -> None:
        futures = self._request_futures
        before = set(futures)
        super()._handle_notification(method_name, params)
        for key in set(futures) - before:
            future = futures[key]
            if future.done():
                del futures[key]
            else:
                future.add_done_callback(functools.partial(_forget, futures, key))


def _forget(futures: dict[Any, Any], key: Any, _: Any) -> None:
    futures.pop(key, None)


class DockfixServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("dockfix", __version__,
                         text_document_sync_kind=t.TextDocumentSyncKind.Incremental,
                         protocol_cls=_Protocol)
        self.init_settings: dict[str, Any] = {}
        self.client_settings: dict[str, Any] = {}
        self.debounce = DEBOUNCE
        self.docs_url: str | None = None
        self.push = True  #: the client cannot pull diagnostics
        self.pending: dict[str, asyncio.Task[None]] = {}
        #: the last result of each open file, and its result id
        self.cache: dict[str, tuple[lints.Lint, str]] = {}
        self.results = 0  #: result ids handed out
        self.disk = lints.Workspace()  #: settings and build contexts, kept between changes
        self.pull_refresh = False  #: the client takes workspace/diagnostic/refresh
        self.engine = ThreadPoolExecutor(1, thread_name_prefix="dockfix-engine")

    def start_io(self, stdin: BinaryIO | None = None, stdout: BinaryIO | None = None) -> None:
        """pygls's ``start_io``, with a shorter switch interval (``SWITCH_INTERVAL``):
        a change is not kept waiting while the engine checks the last one."""
        sys.setswitchinterval(SWITCH_INTERVAL)
        super().start_io(stdin, stdout)

    # --- settings ---------------------------------------------------------------

    @property
    def settings(self) -> dict[str, Any]:
        return {**self.init_settings, **self.client_settings}

    def configure(self, options: Any) -> None:
        """Read ``initializationOptions``."""
        if not isinstance(options, Mapping):
            return
        settings = options.get("settings")
        if isinstance(settings, Mapping):
            self.init_settings = dict(settings)
        else:
            self.init_settings = {k: v for k, v in options.items() if k not in SERVER_OPTIONS}
        debounce = options.get("debounceMs")
        if isinstance(debounce, (int, float)) and not isinstance(debounce, bool) and debounce >= 0:
            self.debounce = debounce / 1000
        url = options.get("ruleDocsUrl")
        if isinstance(url, str) and url:
            self.docs_url = url

    async def fetch_configuration(self) -> None:
        """The ``dockfix`` section of the client's settings, if it has them."""
        workspace = self.client_capabilities.workspace
        if workspace is None or not workspace.configuration:
            return
        try:
            values = await self.workspace_configuration_async(
                t.ConfigurationParams(items=[t.ConfigurationItem(section=SECTION)]))
        except Exception as exc:  # noqa: BLE001 - a client that fails here keeps the defaults
            log.warning("workspace/configuration failed: %s", exc)
            return
        section = values[0] if values else None
        self.client_settings = dict(section) if isinstance(section, Mapping) else {}

    def refresh_all(self) -> None:
        """Settings or files on disk changed: every open file again."""
        self.cache.clear()
        self.disk.forget()
        for uri in list(self.workspace.text_documents):
            self.schedule(uri, 0)
        if not self.push and self.pull_refresh:
            self.workspace_diagnostic_refresh(None)

    # --- linting ----------------------------------------------------------------

    def positions(self, text: str) -> Positions:
        return Positions(text, str(getattr(self.workspace.position_encoding, "value",
                                           self.workspace.position_encoding or "utf-16")))

    def root(self) -> str | None:
        root = self.workspace.root_path
        return root if root else None

    async def lint(self, uri: str, full: bool = False) -> lints.Lint:
        """The problems of the open document ``uri`` as its text is now
        (``full``: after the whole fix loop, see ``lint.complete``)."""
        return (await self.lint_with_id(uri, full))[0]

    async def lint_with_id(self, uri: str, full: bool = False) -> tuple[lints.Lint, str]:
        """``lint``, and the id of its result (the same while the result is)."""
        doc = self.workspace.get_text_document(uri)
        text = doc.source
        cached = self.cache.get(uri)
        loop = asyncio.get_running_loop()
        if cached is None or cached[0].text != text:
            path = to_fs_path(uri) if uri.startswith("file:") else None
            buffers: dict[str, str] = {}
            for other, d in self.workspace.text_documents.items():
                other_path = to_fs_path(other) if other != uri and other.startswith("file:") else None
                if other_path:
                    buffers[other_path] = d.source
            result = await loop.run_in_executor(
                self.engine, functools.partial(
                    lints.lint, text, path, self.settings, buffers, self.root(),
                    workspace=self.disk, language=lints.language_of(path, doc.language_id),
                    full=False))
            self.log_failure(uri, result)
            cached = self.remember(uri, doc, text, result, None)
        if full and not cached[0].complete:
            before = cached[0]
            result = await loop.run_in_executor(self.engine, lints.complete, before)
            self.log_failure(uri, result)
            cached = self.remember(uri, doc, text, result,
                                   cached[1] if result.problems == before.problems else None)
        return cached

    def remember(self, uri: str, doc: Any, text: str, result: lints.Lint,
                 result_id: str | None) -> tuple[lints.Lint, str]:
        """Keep ``result`` as the file's (if the file is still at ``text``)."""
        if result_id is None:
            self.results += 1
            result_id = str(self.results)
        if self.workspace.text_documents.get(uri) is doc and doc.source == text:
            self.cache[uri] = (result, result_id)
        return result, result_id

    def log_failure(self, uri: str, result: lints.Lint) -> None:
        if result.traceback:
            log.error("dockfix: internal error in %s\n%s", uri, result.traceback)
            self.window_log_message(t.LogMessageParams(
                t.MessageType.Error, f"dockfix: internal error in {uri}\n{result.traceback}"))
            result.traceback = None  # logged once

    def schedule(self, uri: str, delay: float) -> None:
        """Lint ``uri`` after ``delay`` seconds (a later change starts the wait
        anew), publish, and when no change follows for ``SETTLE`` seconds, run
        the whole fix loop and publish again if that found more."""
        previous = self.pending.pop(uri, None)
        if previous is not None:
            previous.cancel()
        self.pending[uri] = asyncio.get_running_loop().create_task(self._publish(uri, delay))

    async def _publish(self, uri: str, delay: float) -> None:
        try:
            if delay:
                await asyncio.sleep(delay)
            doc = self.workspace.text_documents.get(uri)
            if doc is None:
                return
            if self.push:
                result, result_id = await self.lint_with_id(uri)
                if doc.source != result.text:
                    return  # changed meanwhile: its own task publishes
                self.publish(uri, doc, result)
            else:
                result, result_id = await self.lint_with_id(uri)
            if result.complete:
                return
            await asyncio.sleep(SETTLE)
            result, new_id = await self.lint_with_id(uri, full=True)
            if doc.source != result.text or new_id == result_id:
                return
            if self.push:
                self.publish(uri, doc, result)
            elif self.pull_refresh:
                self.workspace_diagnostic_refresh(None)
        finally:
            if self.pending.get(uri) is asyncio.current_task():
                del self.pending[uri]

    def publish(self, uri: str, doc: Any, result: lints.Lint) -> None:
        self.text_document_publish_diagnostics(t.PublishDiagnosticsParams(
            uri, self.diagnostics(uri, result), version=doc.version))

    # --- protocol values ------------------------------------------------------------

    def range(self, pos: Positions, start: int, end: int) -> t.Range:
        return t.Range(t.Position(*pos.position(start)), t.Position(*pos.position(end)))

    def diagnostics(self, uri: str, result: lints.Lint) -> list[t.Diagnostic]:
        pos = self.positions(result.text)
        return [self.diagnostic(pos, p) for p in result.problems]

    def diagnostic(self, pos: Positions, p: lints.Problem) -> t.Diagnostic:
        message = p.message
        if p.fix_title:
            message += f" (fix: {p.fix_title}; {p.applicability})"
        href = self.doc_link(p.code) if p.kind == lints.FINDING and p.code else None
        return t.Diagnostic(
            range=self.range(pos, p.start, p.end),
            message=message,
            severity=_SEVERITY[p.severity],
            code=p.code,
            code_description=t.CodeDescription(href=href) if href else None,
            source=SOURCE,
            data={"kind": p.kind},
        )

    def doc_link(self, code: str) -> str | None:
        """A link to the rule's documentation: ``ruleDocsUrl`` with ``{code}``
        and ``{name}`` filled in, else the rule's page written to dockfix's cache."""
        found = _rule_doc(code)
        if found is None:
            return None
        doc = found[0]
        if self.docs_url:
            return self.docs_url.replace("{code}", doc.code).replace("{name}", doc.name)
        return _cached_doc(*found)

    def edit(self, uri: str, edits: list[t.TextEdit]) -> t.WorkspaceEdit:
        return t.WorkspaceEdit(changes={uri: edits})


def _cache_dir() -> str | None:
    configured = os.environ.get("DOCKFIX_CACHE_DIR")
    if configured is not None:
        return configured or None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "dockfix")


@functools.lru_cache(maxsize=None)
def _rule_doc(code: str) -> tuple[ruledocs.RuleDoc, str, str] | None:
    """The rule ``code``'s documentation, its text and the text's digest.  The
    rules are the program's own: looked up once a process, not on every
    publish (``ruledocs.find`` builds every rule's documentation: 2.5 ms)."""
    doc = ruledocs.find(code)
    if doc is None:
        return None
    text = ruledocs.rule_text(doc)
    return doc, text, hashlib.sha256(text.encode()).hexdigest()[:12]


def _cached_doc(doc: ruledocs.RuleDoc, text: str, digest: str) -> str | None:
    """A ``file:`` URI of the rule's documentation, written to the cache when
    it is not there."""
    from pygls.uris import from_fs_path

    base = _cache_dir()
    if base is None:
        return None
    path = os.path.join(base, "rules", f"{doc.code}-{digest}.md")
    if not os.path.isfile(path):
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            tmp = f"{path}.{os.getpid()}.tmp"
            with open(tmp, "w", encoding="utf-8") as f:
                f.write(text)
            os.replace(tmp, path)
        except OSError:
            return None
    uri = from_fs_path(path)
    return uri if isinstance(uri, str) else None


def _whole_edit(pos: Positions, old: str, new: str) -> t.TextEdit:
    """One edit turning ``old`` into ``new``: the differing middle only."""
    start = 0
    limit = min(len(old), len(new))
    while start < limit and old[start] == new[start]:
        start += 1
    end_old, end_new = len(old), len(new)
    while end_old > start and end_new > start and old[end_old - 1] == new[end_new - 1]:
        end_old -= 1
        end_new -= 1
    return t.TextEdit(t.Range(t.Position(*pos.position(start)), t.Position(*pos.position(end_old))),
                      new[start:end_new])


def _explanation(details: Mapping[str, str] | list[Any]) -> str:
    pairs = details.items() if isinstance(details, Mapping) else [tuple(p) for p in details]
    values = dict(pairs)
    lines = [f"dockfix declined ({values.get('reason', '?')}): {values.get('message', '')}"]
    lines += [f"{k}: {v}" for k, v in values.items() if k not in ("reason", "message")]
    return "\n".join(lines)


server = DockfixServer()


@server.feature(t.INITIALIZE)
def initialize(ls: DockfixServer, params: t.InitializeParams) -> None:
    ls.configure(params.initialization_options)
    text_document = params.capabilities.text_document
    ls.push = text_document is None or text_document.diagnostic is None
    workspace = params.capabilities.workspace
    ls.pull_refresh = bool(workspace and workspace.diagnostics
                           and workspace.diagnostics.refresh_support)


@server.feature(t.INITIALIZED)
async def initialized(ls: DockfixServer, params: t.InitializedParams) -> None:
    watched = ls.client_capabilities.workspace
    if watched is not None and watched.did_change_watched_files is not None and (
            watched.did_change_watched_files.dynamic_registration):
        # the build context and the configuration are files on disk: hear of their changes
        try:
            await ls.client_register_capability_async(t.RegistrationParams([t.Registration(
                id="dockfix-watched-files", method=t.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                register_options=t.DidChangeWatchedFilesRegistrationOptions(
                    watchers=[t.FileSystemWatcher(glob_pattern="**/*")]))]))
        except Exception as exc:  # noqa: BLE001 - saves still refresh what is kept
            log.warning("client/registerCapability failed: %s", exc)
    before = ls.settings
    await ls.fetch_configuration()
    if ls.settings != before:
        ls.refresh_all()


@server.feature(t.WORKSPACE_DID_CHANGE_WATCHED_FILES)
def did_change_watched_files(ls: DockfixServer, params: t.DidChangeWatchedFilesParams) -> None:
    """Files changed on disk: the build contexts and settings kept are stale."""
    ls.refresh_all()


@server.feature(t.WORKSPACE_DID_CHANGE_CONFIGURATION)
async def did_change_configuration(ls: DockfixServer,
                                   params: t.DidChangeConfigurationParams) -> None:
    settings = params.settings
    if isinstance(settings, Mapping) and isinstance(settings.get(SECTION), Mapping):
        ls.client_settings = dict(settings[SECTION])
    else:
        await ls.fetch_configuration()
    ls.refresh_all()


@server.feature(t.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: DockfixServer, params: t.DidOpenTextDocumentParams) -> None:
    ls.schedule(params.text_document.uri, 0)


@server.feature(t.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: DockfixServer, params: t.DidChangeTextDocumentParams) -> None:
    ls.schedule(params.text_document.uri, ls.debounce)


@server.feature(t.TEXT_DOCUMENT_DID_SAVE)
def did_save(ls: DockfixServer, params: t.DidSaveTextDocumentParams) -> None:
    uri = params.text_document.uri
    if os.path.basename(uri) in (".dockfix.toml", "pyproject.toml"):
        ls.refresh_all()  # a configuration file: every file may read it
    elif uri in ls.workspace.text_documents:
        ls.disk.forget()  # files around it may have changed on disk
        ls.cache.pop(uri, None)
        ls.schedule(uri, 0)


@server.feature(t.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: DockfixServer, params: t.DidCloseTextDocumentParams) -> None:
    uri = params.text_document.uri
    task = ls.pending.pop(uri, None)
    if task is not None:
        task.cancel()
    ls.cache.pop(uri, None)
    if ls.push:
        ls.text_document_publish_diagnostics(t.PublishDiagnosticsParams(uri, []))


@server.feature(t.TEXT_DOCUMENT_DIAGNOSTIC,
                t.DiagnosticOptions(identifier=SOURCE, inter_file_dependencies=True,
                                    workspace_diagnostics=False))
async def pull_diagnostics(ls: DockfixServer,
                           params: t.DocumentDiagnosticParams) -> t.DocumentDiagnosticReport:
    uri = params.text_document.uri
    result, result_id = await ls.lint_with_id(uri)
    if params.previous_result_id == result_id:
        return t.RelatedUnchangedDocumentDiagnosticReport(result_id=result_id)
    return t.RelatedFullDocumentDiagnosticReport(items=ls.diagnostics(uri, result),
                                                 result_id=result_id)


@server.feature(t.TEXT_DOCUMENT_CODE_ACTION,
                t.CodeActionOptions(code_action_kinds=[t.CodeActionKind.QuickFix, FIX_ALL]))
async def code_actions(ls: DockfixServer, params: t.CodeActionParams) -> list[t.CodeAction]:
    uri = params.text_document.uri
    result = await ls.lint(uri)
    pos = ls.positions(result.text)
    only = params.context.only

    def wanted(kind: str) -> bool:
        return not only or any(kind == o or kind.startswith(f"{o}.") for o in only)

    actions: list[t.CodeAction] = []
    if wanted(t.CodeActionKind.QuickFix):
        r = params.range
        start = pos.offset(r.start.line, r.start.character)
        end = pos.offset(r.end.line, r.end.character)
        for p in result.problems:
            if not (p.start <= end and start <= p.end):
                continue
            diagnostic = ls.diagnostic(pos, p)
            if p.kind == lints.FINDING and p.edits:
                unsafe = p.applicability != "safe"
                title = f"dockfix: {p.fix_title} ({p.code})"
                if unsafe:
                    title += " [unsafe: check the result]"
                edits = [t.TextEdit(ls.range(pos, e.start, e.end), e.content) for e in p.edits]
                actions.append(t.CodeAction(
                    title=title, kind=t.CodeActionKind.QuickFix, diagnostics=[diagnostic],
                    edit=ls.edit(uri, edits), is_preferred=not unsafe))
            elif p.kind in (lints.DECLINE, lints.REFUSED):
                details = [list(d) for d in p.details] or [["reason", p.code or ""],
                                                           ["message", p.message]]
                title = f"dockfix: explain why it declined ({p.code})"
                actions.append(t.CodeAction(
                    title=title, kind=t.CodeActionKind.QuickFix, diagnostics=[diagnostic],
                    command=t.Command(title=title, command=EXPLAIN, arguments=[uri, details])))
    if wanted(FIX_ALL):
        if not result.settings or not result.settings.unsafe_fixes:
            result = await ls.lint(uri, full=True)  # kept: the fixed text is known then
        loop = asyncio.get_running_loop()
        fixed = await loop.run_in_executor(ls.engine, lints.fix_all, result)
        if fixed is not None:
            actions.append(t.CodeAction(
                title="dockfix: apply all safe fixes", kind=FIX_ALL,
                edit=ls.edit(uri, [_whole_edit(pos, result.text, fixed)])))
    return actions


@server.command(EXPLAIN)
def explain(ls: DockfixServer, *args: Any) -> str:
    """Show a decline's evidence (``[uri, [[key, value], ...]]``); returns the text."""
    details = args[1] if len(args) > 1 else []
    text = _explanation(details)
    ls.window_show_message(t.ShowMessageParams(t.MessageType.Info, text))
    return text


@server.feature(t.TEXT_DOCUMENT_HOVER)
async def hover(ls: DockfixServer, params: t.HoverParams) -> t.Hover | None:
    uri = params.text_document.uri
    result = await ls.lint(uri)
    pos = ls.positions(result.text)
    at = pos.offset(params.position.line, params.position.character)
    parts: list[str] = []
    span: tuple[int, int] | None = None
    for p in result.problems:
        if not p.start <= at <= p.end:
            continue
        span = (p.start, p.end) if span is None else (min(span[0], p.start), max(span[1], p.end))
        if p.kind == lints.FINDING and p.code:
            found = _rule_doc(p.code)
            head = f"**{p.code}** {p.message}"
            if p.fix_title:
                head += f"\n\nFix ({p.applicability}): {p.fix_title}"
            parts.append(head + ("\n\n---\n\n" + found[1] if found else ""))
        elif p.kind in (lints.DECLINE, lints.REFUSED):
            parts.append("```\n" + _explanation([list(d) for d in p.details] or
                                                [["reason", p.code], ["message", p.message]])
                         + "\n```")
    if not parts:
        return None
    assert span is not None
    return t.Hover(contents=t.MarkupContent(t.MarkupKind.Markdown, "\n\n---\n\n".join(parts)),
                   range=ls.range(pos, *span))


@server.feature(t.SHUTDOWN)
def shutdown(ls: DockfixServer, params: None) -> None:
    for task in ls.pending.values():
        task.cancel()
    ls.engine.shutdown(wait=False, cancel_futures=True)


@server.feature(t.EXIT)
def exit_now(ls: DockfixServer, params: None) -> None:
    """Exit at once: pygls's reader thread may be blocked on stdin, which the
    client keeps open, and the interpreter would wait for it at exit."""
    import sys

    ls.engine.shutdown(wait=False, cancel_futures=True)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0 if ls.protocol._shutdown else 1)
