-- Drives the sessionlens language server from a real Neovim (0.7+, headless).
-- Environment: SL_PYTHON, SL_FILE (a session log), SL_HOME (store), SL_WS (workspace), SL_OUT (JSON result file),
-- SL_HOVER_LINE (0-based line to hover).
local python = os.getenv("SL_PYTHON")
local file = os.getenv("SL_FILE")
local out = os.getenv("SL_OUT")
local ws = os.getenv("SL_WS")
local hover_line = tonumber(os.getenv("SL_HOVER_LINE") or "0")
local result = { ok = false, steps = {} }

local function finish(code)
  local f = io.open(out, "w")
  f:write(vim.fn.json_encode(result))
  f:close()
  vim.schedule(function() vim.cmd(code == 0 and "qall!" or ("cquit! " .. code)) end)
end

local ok, err = pcall(function()
  vim.cmd("edit " .. vim.fn.fnameescape(file))
  local bufnr = vim.api.nvim_get_current_buf()
  local client_id = vim.lsp.start_client({
    name = "sessionlens",
    cmd = { python, "-m", "sessionlens", "lsp" },
    root_dir = ws,
    workspace_folders = { { uri = vim.uri_from_fname(ws), name = "ws" } },
    init_options = { storePath = os.getenv("SL_HOME"), includeHomeLogs = false },
  })
  assert(client_id, "start_client failed")
  vim.lsp.buf_attach_client(bufnr, client_id)
  local client = vim.lsp.get_client_by_id(client_id)
  assert(vim.wait(20000, function() return client.initialized end, 50), "server did not initialize")
  table.insert(result.steps, "initialized")

  -- wait until the file is indexed: the outline is served from the store
  local syms
  assert(vim.wait(30000, function()
    local r = client.request_sync("textDocument/documentSymbol", { textDocument = { uri = vim.uri_from_bufnr(bufnr) } }, 5000, bufnr)
    if r and r.result and #r.result > 0 then syms = r.result return true end
    return false
  end, 200), "no outline")
  result.symbols = syms
  table.insert(result.steps, "outline")

  local h = client.request_sync("textDocument/hover", {
    textDocument = { uri = vim.uri_from_bufnr(bufnr) }, position = { line = hover_line, character = 1 },
  }, 10000, bufnr)
  result.hover = h and h.result or vim.NIL
  table.insert(result.steps, "hover")

  assert(vim.wait(20000, function() return #vim.diagnostic.get(bufnr) > 0 end, 100), "no diagnostics")
  local diags = {}
  for _, d in ipairs(vim.diagnostic.get(bufnr)) do
    table.insert(diags, { lnum = d.lnum, message = d.message, code = d.code or vim.NIL, source = d.source or vim.NIL })
  end
  result.diagnostics = diags
  table.insert(result.steps, "diagnostics")
  result.ok = true
  client.stop()
end)
if not ok then result.error = tostring(err) end
finish(ok and 0 or 3)
