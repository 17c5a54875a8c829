-- Drives editors/nvim/lua/sessionlens.lua in a real Neovim (0.7+, headless): setup, attach on a
-- .jsonl log, code lenses, :SessionlensTranscript (by buffer and by session id).
-- Environment: SL_PYTHON, SL_FILE, SL_HOME, SL_OUT, SL_PLUGIN (editors/nvim), SL_SESSION (a session id).
local out = os.getenv("SL_OUT")
local result = { ok = false, steps = {} }

local function finish(code)
  local f = io.open(out, "w")
  f:write(vim.fn.json_encode(result))
  f:close()
  vim.schedule(function() vim.cmd(code == 0 and "qall!" or ("cquit! " .. code)) end)
end

local ok, err = pcall(function()
  vim.opt.runtimepath:append(os.getenv("SL_PLUGIN"))
  local sl = require("sessionlens")
  sl.setup({
    cmd = { os.getenv("SL_PYTHON"), "-m", "sessionlens", "lsp" },
    init_options = { storePath = os.getenv("SL_HOME"), includeHomeLogs = false },
  })
  vim.cmd("edit " .. vim.fn.fnameescape(os.getenv("SL_FILE")))
  local log = vim.api.nvim_get_current_buf()
  result.filetype = vim.api.nvim_buf_get_option(log, "filetype")
  local client = sl.client(log)
  assert(client, "no client")
  assert(vim.wait(60000, function() return client.initialized end, 50), "server did not initialize")
  assert(vim.wait(30000, function()
    local r = client.request_sync("textDocument/documentSymbol", { textDocument = { uri = vim.uri_from_bufnr(log) } }, 5000, log)
    return r and r.result and #r.result > 0
  end, 200), "the log was not indexed")
  table.insert(result.steps, "indexed")

  local raw = client.request_sync("textDocument/codeLens", { textDocument = { uri = vim.uri_from_bufnr(log) } }, 10000, log)
  result.raw_lenses = raw and raw.result or vim.NIL
  result.caps = client.server_capabilities and client.server_capabilities.codeLensProvider or vim.NIL
  local lenses = {}
  assert(vim.wait(20000, function()
    lenses = sl.lenses(log) or {}
    return #lenses > 0
  end, 300), "no code lenses")
  result.lenses = {}
  for _, l in ipairs(lenses) do
    table.insert(result.lenses, { line = l.range.start.line, title = l.command and l.command.title or vim.NIL })
  end
  -- the lenses are drawn as virtual text
  local marks = 0
  for name, ns in pairs(vim.api.nvim_get_namespaces()) do
    if name:find("codelens") then
      marks = marks + #vim.api.nvim_buf_get_extmarks(log, ns, 0, -1, {})
    end
  end
  result.lens_marks = marks
  table.insert(result.steps, "lenses")

  vim.cmd("SessionlensTranscript")
  local buf = vim.api.nvim_get_current_buf()
  assert(buf ~= log, "no transcript buffer")
  result.transcript_filetype = vim.api.nvim_buf_get_option(buf, "filetype")
  result.transcript = table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), "\n")
  table.insert(result.steps, "transcript")

  local by_id = sl.transcript(os.getenv("SL_SESSION"))
  assert(by_id, "no transcript by session id")
  result.by_id = table.concat(vim.api.nvim_buf_get_lines(by_id, 0, 20, false), "\n")
  result.ok = true
  client.stop()
end)
if not ok then result.error = tostring(err) .. " " .. vim.fn.json_encode({ caps = result.caps }) end
finish(ok and 0 or 3)
