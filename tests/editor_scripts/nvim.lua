-- Drive `dockfix lsp` through Neovim's own LSP client (Neovim 0.7 or later),
-- headless: open $DOCKERFILE (or any other file the server serves: a Python
-- file), wait for the diagnostics, apply the quick fix of the first one, write
-- the file, quit.  Each diagnostic is printed as
-- "DIAGNOSTIC <code> <line> <col> <end_col>" (0-based, the client's columns).
-- Exits 1 with a "FAIL ..." line on any failure.
local function out(line)
  io.stdout:write(line .. "\n")
  io.stdout:flush()
end

local function fail(message)
  out("FAIL " .. message)
  vim.cmd("cquit 1")
end

local ok, err = pcall(function()
  local file = os.getenv("DOCKERFILE")
  vim.cmd("edit " .. vim.fn.fnameescape(file))
  local bufnr = vim.api.nvim_get_current_buf()
  local client_id = vim.lsp.start_client({
    name = "dockfix",
    cmd = { "dockfix", "lsp" },
    root_dir = vim.fn.fnamemodify(file, ":p:h"),
  })
  if not client_id then
    return fail("the server did not start")
  end
  vim.lsp.buf_attach_client(bufnr, client_id)
  if not vim.wait(40000, function() return #vim.diagnostic.get(bufnr) > 0 end, 50) then
    return fail("no diagnostics")
  end
  local diagnostics = vim.diagnostic.get(bufnr)
  for _, d in ipairs(diagnostics) do
    out(string.format("DIAGNOSTIC %s %d %d %d", tostring(d.code), d.lnum, d.col, d.end_col))
  end
  local client = vim.lsp.get_client_by_id(client_id)
  local d = diagnostics[1]
  local params = {
    textDocument = { uri = vim.uri_from_bufnr(bufnr) },
    range = {
      start = { line = d.lnum, character = d.col },
      ["end"] = { line = d.end_lnum, character = d.end_col },
    },
    context = { diagnostics = {}, only = { "quickfix" } },
  }
  local response = client.request_sync("textDocument/codeAction", params, 30000, bufnr)
  if not response or response.err then
    return fail("codeAction: " .. vim.inspect(response))
  end
  local action
  for _, a in ipairs(response.result or {}) do
    if a.edit then
      action = a
      break
    end
  end
  if not action then
    return fail("no quick fix")
  end
  out("ACTION " .. action.title)
  vim.lsp.util.apply_workspace_edit(action.edit, client.offset_encoding)
  vim.cmd("write")
  vim.lsp.stop_client(client_id)
  vim.cmd("qall!")
end)
if not ok then
  fail(tostring(err))
end
